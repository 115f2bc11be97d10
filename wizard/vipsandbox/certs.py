"""Throwaway certificates for the VIP stand-in: a CA, a server certificate for 127.0.0.1 and
localhost, and a client certificate standing in for the organization's VIP certificate."""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FILES = ("ca.pem", "server.pem", "server-key.pem", "client.pem", "client-key.pem")
VALID_DAYS = 825
CLIENT_NAME = "EPCS wizard sandbox (VIP client certificate)"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EPCS wizard sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _certificate(subject, key, issuer, issuer_key, extensions, now) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_certificates(folder: str | Path, hosts: tuple[str, ...] = ("localhost", "127.0.0.1")):
    """Write FILES into folder (made if missing); keys readable by the owner only."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("EPCS wizard sandbox VIP CA")
    ca = _certificate(
        ca_name,
        ca_key,
        ca_name,
        ca_key,
        [(x509.BasicConstraints(ca=True, path_length=0), True), (_key_usage(ca=True), True)],
        now,
    )
    names = [
        x509.IPAddress(ipaddress.ip_address(h)) if h.replace(".", "").isdigit() else x509.DNSName(h)
        for h in hosts
    ]
    for role, common_name, usage, extra in (
        ("server", hosts[0], ExtendedKeyUsageOID.SERVER_AUTH, [x509.SubjectAlternativeName(names)]),
        ("client", CLIENT_NAME, ExtendedKeyUsageOID.CLIENT_AUTH, []),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        extensions = [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (_key_usage(ca=False), True),
            (x509.ExtendedKeyUsage([usage]), False),
            *((e, False) for e in extra),
        ]
        certificate = _certificate(_name(common_name), key, ca_name, ca_key, extensions, now)
        _write(folder / f"{role}.pem", _pem(certificate))
        _write(folder / f"{role}-key.pem", _key_pem(key), private=True)
    _write(folder / "ca.pem", _pem(ca))
    return {name: folder / name for name in FILES}
