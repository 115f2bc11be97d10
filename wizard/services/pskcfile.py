"""Reading PSKC seed files (RFC 6030) with python-pskc, plain or under a pre-shared key.

The entries come out as the domain's SeedFields, numbered by KeyPackage (1-based), for
wizard.domain.seedfile to check. A file that cannot be read or decrypted as a whole raises
SeedFileError: then nothing in it is imported. Messages never hold a value from the file.
"""

from __future__ import annotations

import io
from xml.etree.ElementTree import ParseError as XmlParseError

import pskc
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from pskc.device import Device
from pskc.exceptions import DecryptionError
from pskc.key import Key

from wizard.domain.seedfile import Rejected, SeedFields, SeedFileError


def _refuse_unsafe_xml(data: bytes) -> None:
    """Refuse DTDs and entities up front, whichever XML parser python-pskc picks (lxml when
    it is installed, which is not hardened the way defusedxml is)."""
    try:
        defused_fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise SeedFileError(
            "The PSKC file declares a DTD or entities, which seed files never need: refused."
        ) from None
    except XmlParseError as error:
        line, column = error.position
        raise SeedFileError(
            f"The PSKC file is not well-formed XML (line {line}, column {column})."
        ) from None


def _parse(data: bytes) -> pskc.PSKC:
    _refuse_unsafe_xml(data)
    try:
        return pskc.PSKC(io.BytesIO(data))
    except Exception as error:  # python-pskc raises ParseError, ValueError, base64 errors...
        kind = type(error).__name__
        raise SeedFileError(
            f"The file is XML but not a PSKC key container we can read ({kind})."
        ) from None


def _read_values(key: Key) -> None:
    """Touch every value that may be encrypted, so decryption fails here or not at all."""
    key.secret, key.counter, key.time_offset, key.time_interval, key.time_drift  # noqa: B018


def _decrypt(container: pskc.PSKC, psk: bytes | None) -> bool:
    """Decrypt every key with psk; True when the file was encrypted."""
    encryption = container.encryption
    try:
        for key in container.keys:
            _read_values(key)
        plain = True
    except DecryptionError:
        plain = False
    if plain:
        return False
    if encryption.derivation.algorithm:
        raise SeedFileError(
            "The PSKC file is protected with a password (key derivation), not a pre-shared "
            "key. Ask the supplier for the file under a pre-shared key."
        )
    if psk is None:
        raise SeedFileError("The PSKC file is encrypted. Give its pre-shared key with --psk (hex).")
    try:
        lengths = encryption.algorithm_key_lengths
    except DecryptionError:
        raise SeedFileError(
            "The PSKC file is encrypted with an algorithm we cannot decrypt."
        ) from None
    if len(psk) not in lengths:
        needed = " or ".join(str(n) for n in lengths)
        raise SeedFileError(
            f"The pre-shared key is {len(psk)} bytes; this file's encryption needs {needed}."
        )
    encryption.key = psk
    try:
        for key in container.keys:
            _read_values(key)
    except DecryptionError:
        raise SeedFileError(
            "The PSKC file could not be decrypted with the pre-shared key given: check the "
            "key, or ask the supplier for the file again."
        ) from None
    return True


def _suite_problem(key: Key) -> str | None:
    suite = (key.algorithm_suite or "").upper().replace("-", "")
    if suite and "SHA1" not in suite:
        return "only HMAC-SHA1 tokens are supported"
    return None


def _encoding_problem(key: Key) -> str | None:
    encoding = (key.response_encoding or "").upper()
    if encoding and encoding != "DECIMAL":
        return "only tokens showing decimal codes are supported"
    return None


def _fields(where: str, key: Key) -> SeedFields:
    problems = tuple(p for p in (_suite_problem(key), _encoding_problem(key)) if p)
    return SeedFields(
        where=where,
        serial=key.serial,
        secret=key.secret,
        algorithm=key.algorithm,
        digits=key.response_length,
        period=key.time_interval,
        counter=key.counter,
        manufacturer=key.manufacturer,
        problems=problems,
    )


def _package_entries(number: int, device: Device) -> list[SeedFields | Rejected]:
    if not device.keys:
        return [Rejected(f"KeyPackage {number}", "it holds no Key")]
    if len(device.keys) == 1:
        return [_fields(f"KeyPackage {number}", device.keys[0])]
    return [
        _fields(f"KeyPackage {number}, Key {index}", key)
        for index, key in enumerate(device.keys, 1)
    ]


def read_pskc(data: bytes, psk: bytes | None = None) -> tuple[list[SeedFields | Rejected], bool]:
    """The entries of a PSKC file and whether it was encrypted; SeedFileError when the file
    is not well-formed, not PSKC, or cannot be decrypted (then nothing is imported)."""
    container = _parse(data)
    encrypted = _decrypt(container, psk)
    entries: list[SeedFields | Rejected] = []
    for number, device in enumerate(container.devices, 1):
        entries += _package_entries(number, device)
    if not entries:
        raise SeedFileError("The PSKC file has no KeyPackage.")
    return entries, encrypted
