"""Importing hard-token seeds: an organization's PSKC or CSV file into oath_credentials.

One transaction: every checked seed whose credential ID is new is sealed and added, those
already present are skipped (so importing a file again adds nothing), and the rest are reported
with their position and a reason. One audit event "seeds.import" carries the counts, never a
secret. A file that cannot be read as a whole imports nothing and is audited as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from wizard.domain.credentials import Manufacturer
from wizard.domain.seedfile import (
    Rejected,
    Seed,
    SeedFileError,
    SeedFormat,
    check_all,
    decode_csv,
    guess_format,
    read_csv,
)
from wizard.extensions import db
from wizard.services import audit
from wizard.services.pskcfile import read_pskc
from wizard.store.models import OathCredential

ACTOR = "administrator"  # the CLI runs on the server, as the invite command does
_CHUNK = 500  # credential IDs per IN (...) lookup, well under SQLite's variable limit


class SeedImportError(Exception):
    """Nothing was imported; the message says why (never with a secret)."""


@dataclass
class ImportResult:
    format: SeedFormat
    encrypted: bool
    added: list[Seed] = field(default_factory=list)
    skipped: list[Seed] = field(default_factory=list)  # credential ID already present
    invalid: list[Rejected] = field(default_factory=list)

    @property
    def read(self) -> int:
        return len(self.added) + len(self.skipped) + len(self.invalid)


def _entries(data: bytes, fmt: SeedFormat, psk: bytes | None):
    if fmt is SeedFormat.PSKC:
        return read_pskc(data, psk)
    return read_csv(decode_csv(data)), False


def _present(credential_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(credential_ids), _CHUNK):
        chunk = credential_ids[start : start + _CHUNK]
        found.update(
            db.session.scalars(
                select(OathCredential.credential_id).where(OathCredential.credential_id.in_(chunk))
            )
        )
    return found


def _store(seed: Seed, now: datetime) -> None:
    cipher = current_app.extensions["seed_cipher"]
    db.session.add(
        OathCredential(
            credential_id=seed.credential_id,
            algorithm=seed.algorithm.value,
            sealed_secret=cipher.seal(seed.secret, seed.credential_id),
            digits=seed.digits,
            period=seed.period,
            last_step=seed.last_step,
            manufacturer=seed.manufacturer.value,
            source="import",
            created_at=now,
        )
    )


def _fail(reason: str, *, name: str, fmt: str, now: datetime) -> SeedImportError:
    db.session.rollback()
    audit.record(
        "seeds.import", "failure", actor=ACTOR, now=now, file=name, format=fmt, reason=reason
    )
    db.session.commit()
    return SeedImportError(reason)


def import_seeds(
    data: bytes,
    *,
    filename: str,
    now: datetime,
    fmt: SeedFormat | None = None,
    psk: bytes | None = None,
    manufacturer: Manufacturer | None = None,
) -> ImportResult:
    """Import a seed file's contents; SeedImportError (nothing imported) when unreadable."""
    name = PurePath(filename).name
    fmt = fmt or guess_format(name, data[:64])
    try:
        entries, encrypted = _entries(data, fmt, psk)
    except SeedFileError as error:
        raise _fail(str(error), name=name, fmt=fmt.value, now=now) from None
    seeds, invalid = check_all(entries, manufacturer)
    result = ImportResult(format=fmt, encrypted=encrypted, invalid=invalid)
    present = _present([seed.credential_id for seed in seeds])
    for seed in seeds:
        if seed.credential_id in present:
            result.skipped.append(seed)
        else:
            _store(seed, now)
            result.added.append(seed)
    audit.record(
        "seeds.import",
        "success",
        actor=ACTOR,
        now=now,
        file=name,
        format=fmt.value,
        encrypted=int(encrypted),
        added=len(result.added),
        skipped=len(result.skipped),
        invalid=len(result.invalid),
    )
    try:
        db.session.commit()
    except IntegrityError:
        raise _fail(
            "Another import added some of these tokens at the same time. Run the import again.",
            name=name,
            fmt=fmt.value,
            now=now,
        ) from None
    return result
