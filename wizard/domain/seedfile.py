"""Hard-token seed files: from the fields of a file to seeds we can store, without Flask or SQL.

An organization imports the seeds of its OneSpan and Symantec hard tokens so the local OATH
authority can check their codes. A reader turns each entry of a file into SeedFields (the values
as the file gives them, with where they stand: "line 4", "KeyPackage 2"); `check_all` turns those
into Seeds ready to store, or Rejected entries with a reason for the person running the import.
CSV is read here (stdlib only); PSKC needs python-pskc and is read in wizard/services/pskcfile.py.

The rule for every message: it names a position and a problem, never a value from the file. A
secret must never be printed, and a file whose columns are shifted puts secrets in other columns.

CSV accepted (one header row, then one token per line; UTF-8, a byte-order mark is fine):
- serial (required): the token's serial number: OneSpan 10 digits (dashes allowed), Symantec
  AVT or FT then 6 to 12 digits.
- secret (required): hex when it is only hex digits and 32, 40 or 64 characters long (16, 20 or
  32 bytes); otherwise base32 (case, spaces and `=` padding ignored).
- algorithm (required): totp or hotp (an RFC 6030 algorithm URI is accepted too).
- digits (optional, default 6): 6 to 8.
- period_or_counter (optional): the time step in seconds for totp (default 30), the token's
  next counter for hotp (default 0). Or instead separate `period` and `counter` columns.
Column names are matched without regard to case or surrounding spaces; other columns are refused
(a misspelt "digits" must not silently become 6). Blank lines and lines starting with # are
skipped. Line numbers are the file's own, header included.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from wizard.domain.credentials import (
    ONESPAN_SERIAL_DIGITS,
    SYMANTEC_HARD_DIGITS,
    SYMANTEC_HARD_PREFIXES,
    Manufacturer,
    normalise_onespan,
    normalise_symantec_hard,
)
from wizard.domain.otp import Algorithm

DEFAULT_DIGITS = 6
DIGITS_RANGE = (6, 8)  # RFC 4226: at least 6; our tokens show 6
DEFAULT_PERIOD = 30
MAX_PERIOD = 120  # NIST SP 800-63B: a time-based code changes at least every 2 minutes
MIN_SECRET_BYTES = 16  # RFC 4226 asks for at least 128 bits (and recommends 160)
MAX_SECRET_BYTES = 64
HEX_SECRET_LENGTHS = (32, 40, 64)  # characters: 16, 20 or 32 bytes
MAX_COUNTER = 2**62  # fits the database's 64-bit integer with room for the look-ahead

# Names a PSKC DeviceInfo/Manufacturer may carry, matched case-insensitively as substrings.
# Medium confidence: vendors are free in what they write (RFC 6030 suggests "oath.XX" codes,
# which we do not map). An unrecognized name falls back to the serial's shape.
MANUFACTURER_NAMES: dict[Manufacturer, tuple[str, ...]] = {
    Manufacturer.ONESPAN: ("onespan", "vasco", "digipass"),
    Manufacturer.SYMANTEC: ("symantec", "broadcom", "verisign"),
}


class SeedFileError(Exception):
    """The file as a whole cannot be read: nothing in it is imported."""


class SeedFormat(StrEnum):
    PSKC = "pskc"
    CSV = "csv"


@dataclass(frozen=True)
class SeedFields:
    """One entry of a seed file as the file gives it (None: not given)."""

    where: str  # "line 4", "KeyPackage 2"
    serial: str | None
    secret: bytes | None = field(default=None, repr=False)
    algorithm: str | None = None  # "totp", "hotp" or an algorithm URI
    digits: int | None = None
    period: int | None = None
    counter: int | None = None
    manufacturer: str | None = None  # as named in the file
    secret_problem: str | None = None  # the secret is there but could not be decoded
    problems: tuple[str, ...] = ()  # other problems found while reading


@dataclass(frozen=True)
class Seed:
    """A checked hard-token seed, ready to be sealed and stored."""

    where: str
    credential_id: str
    secret: str = field(repr=False)  # base32, no padding
    algorithm: Algorithm
    digits: int
    period: int
    counter: int  # HOTP: the next counter the token will use; 0 for TOTP
    manufacturer: Manufacturer

    @property
    def last_step(self) -> int | None:
        """The replay floor to store: counters up to it count as used (see otp.judge)."""
        if self.algorithm is Algorithm.HOTP and self.counter > 0:
            return self.counter - 1
        return None


@dataclass(frozen=True)
class Rejected:
    where: str
    reason: str


def guess_format(filename: str, head: bytes) -> SeedFormat:
    """PSKC or CSV, from the file name's extension, else from the first bytes."""
    name = filename.lower()
    if name.endswith((".xml", ".pskc", ".pskcxml")):
        return SeedFormat.PSKC
    if name.endswith((".csv", ".txt")):
        return SeedFormat.CSV
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return SeedFormat.PSKC if text.startswith(b"<") else SeedFormat.CSV


def manufacturer_named(name: str | None) -> Manufacturer | None:
    """The manufacturer a free-text name means, or None when we do not recognize it."""
    folded = (name or "").casefold()
    for manufacturer, names in MANUFACTURER_NAMES.items():
        if any(known in folded for known in names):
            return manufacturer
    return None


def algorithm_of(text: str | None) -> Algorithm | None:
    """totp/hotp, or an algorithm URI ending in :totp, #hotp, ...; None for anything else."""
    last = re.split(r"[:#/]", (text or "").strip())[-1].casefold()
    try:
        return Algorithm(last)
    except ValueError:
        return None


_HEX = re.compile(r"[0-9a-fA-F]+")
_BASE32 = re.compile(r"[A-Z2-7]+")
_SECRET_SPACING = re.compile(r"[\s\-]")


def secret_from_text(text: str) -> bytes:
    """Hex (32, 40 or 64 hex digits) or else base32. ValueError names no part of the value."""
    compact = _SECRET_SPACING.sub("", text)
    if _HEX.fullmatch(compact) and len(compact) in HEX_SECRET_LENGTHS:
        return bytes.fromhex(compact)
    body = compact.upper().rstrip("=")
    if not _BASE32.fullmatch(body):
        raise ValueError(_NOT_HEX_NOR_BASE32)
    try:
        return base64.b32decode(body + "=" * (-len(body) % 8))
    except binascii.Error:
        raise ValueError(_NOT_HEX_NOR_BASE32) from None


_NOT_HEX_NOR_BASE32 = (
    "the secret is neither hex (32, 40 or 64 hex digits) nor base32 (letters A to Z, digits 2 to 7)"
)

_SERIAL_FORMS = (
    f"a OneSpan serial is {ONESPAN_SERIAL_DIGITS} digits, a Symantec one "
    f"{' or '.join(SYMANTEC_HARD_PREFIXES)} then {SYMANTEC_HARD_DIGITS[0]} to "
    f"{SYMANTEC_HARD_DIGITS[1]} digits"
)


def credential_id_of(
    serial: str | None, manufacturer: Manufacturer | None
) -> tuple[str, Manufacturer] | str:
    """The normalized credential ID and its manufacturer, or a reason it is not one.

    With a manufacturer, the serial must have that manufacturer's form; without, its form says
    which. Letters where digits belong (O for 0, I or L for 1) are refused here, unlike in the
    wizard's form: a seed file is typed by no one, so such a serial is damaged, not misread.
    """
    if not (serial or "").strip():
        return "the serial number is missing"
    readers = {
        Manufacturer.ONESPAN: normalise_onespan,
        Manufacturer.SYMANTEC: normalise_symantec_hard,
    }
    candidates = [manufacturer] if manufacturer else list(readers)
    for candidate in candidates:
        read = readers[candidate](serial)
        if read.value is not None and not read.corrected_lookalikes:
            return read.value, candidate
    if manufacturer is None:
        return f"the serial number is not a hard-token serial ({_SERIAL_FORMS})"
    if manufacturer is Manufacturer.ONESPAN:
        return f"the serial number is not a OneSpan serial ({ONESPAN_SERIAL_DIGITS} digits)"
    low, high = SYMANTEC_HARD_DIGITS
    prefixes = " or ".join(SYMANTEC_HARD_PREFIXES)
    return (
        f"the serial number is not a Symantec hard-token serial ({prefixes}, {low}-{high} digits)"
    )


def _secret_problems(secret: bytes | None) -> list[str]:
    if not secret:
        return ["the secret is missing"]
    if len(secret) < MIN_SECRET_BYTES:
        return [f"the secret is shorter than {MIN_SECRET_BYTES * 8} bits"]
    if len(secret) > MAX_SECRET_BYTES:
        return [f"the secret is longer than {MAX_SECRET_BYTES} bytes"]
    return []


def _number_problems(algorithm: Algorithm | None, fields: SeedFields) -> list[str]:
    problems = []
    low, high = DIGITS_RANGE
    if fields.digits is not None and not low <= fields.digits <= high:
        problems.append(f"the number of digits must be {low} to {high}")
    if algorithm is Algorithm.TOTP and fields.period is not None:
        if not 1 <= fields.period <= MAX_PERIOD:
            problems.append(f"the time step must be 1 to {MAX_PERIOD} seconds")
    if algorithm is Algorithm.HOTP and fields.counter is not None:
        if not 0 <= fields.counter <= MAX_COUNTER:
            problems.append("the counter must be a whole number from 0")
    return problems


def check(fields: SeedFields, manufacturer: Manufacturer | None = None) -> Seed | Rejected:
    """A Seed, or every reason the entry cannot be one.

    manufacturer: the importer's choice (--manufacturer); else the file's name for it when we
    recognize it; else the serial's form decides.
    """
    chosen = manufacturer or manufacturer_named(fields.manufacturer)
    identified = credential_id_of(fields.serial, chosen)
    problems = [identified] if isinstance(identified, str) else []
    if fields.secret_problem:
        problems.append(fields.secret_problem)
    else:
        problems += _secret_problems(fields.secret)
    problems += fields.problems
    algorithm = algorithm_of(fields.algorithm)
    if not (fields.algorithm or "").strip():
        problems.append("the algorithm is missing (totp or hotp)")
    elif algorithm is None:
        problems.append("the algorithm is not totp or hotp")
    problems += _number_problems(algorithm, fields)
    if problems or isinstance(identified, str) or algorithm is None or not fields.secret:
        return Rejected(fields.where, "; ".join(problems))
    credential_id, maker = identified
    return Seed(
        where=fields.where,
        credential_id=credential_id,
        secret=base64.b32encode(fields.secret).decode().rstrip("="),
        algorithm=algorithm,
        digits=fields.digits if fields.digits is not None else DEFAULT_DIGITS,
        period=fields.period if fields.period is not None else DEFAULT_PERIOD,
        counter=(fields.counter or 0) if algorithm is Algorithm.HOTP else 0,
        manufacturer=maker,
    )


def check_all(
    entries: Iterable[SeedFields | Rejected], manufacturer: Manufacturer | None = None
) -> tuple[list[Seed], list[Rejected]]:
    """Check every entry; a credential ID met again later in the file is rejected there."""
    seeds: list[Seed] = []
    rejected: list[Rejected] = []
    first_seen: dict[str, str] = {}
    for entry in entries:
        outcome = entry if isinstance(entry, Rejected) else check(entry, manufacturer)
        if isinstance(outcome, Rejected):
            rejected.append(outcome)
        elif outcome.credential_id in first_seen:
            earlier = first_seen[outcome.credential_id]
            rejected.append(Rejected(outcome.where, f"the same serial number as {earlier}"))
        else:
            first_seen[outcome.credential_id] = outcome.where
            seeds.append(outcome)
    return seeds, rejected


# --- CSV -------------------------------------------------------------------------------------

CSV_REQUIRED = ("serial", "secret", "algorithm")
CSV_OPTIONAL = ("digits", "period_or_counter", "period", "counter")
CSV_HEADER_HELP = (
    "serial,secret,algorithm[,digits][,period_or_counter] (or separate period and counter columns)"
)


def _csv_columns(header: Sequence[str]) -> list[str]:
    columns = [name.strip().lower() for name in header]
    for number, name in enumerate(columns, 1):
        if name not in CSV_REQUIRED + CSV_OPTIONAL:
            # Position, not name: a file without its header row has a secret here.
            raise SeedFileError(
                f"Column {number} of the header row is not one we know. "
                f"The first line must be the header: {CSV_HEADER_HELP}."
            )
        if columns.count(name) > 1:
            raise SeedFileError(f"The header row names the column {name} twice.")
    missing = [name for name in CSV_REQUIRED if name not in columns]
    if missing:
        raise SeedFileError(
            f"The header row has no {' or '.join(missing)} column. Expected: {CSV_HEADER_HELP}."
        )
    if "period_or_counter" in columns and ({"period", "counter"} & set(columns)):
        raise SeedFileError(
            "The header row has period_or_counter and also period or counter: use one way."
        )
    return columns


def _whole_number(cell: str, label: str, problems: list[str]) -> int | None:
    text = cell.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    problems.append(f"the {label} is not a whole number")
    return None


def _csv_fields(where: str, cells: dict[str, str]) -> SeedFields:
    problems: list[str] = []
    secret = secret_problem = None
    secret_text = cells.get("secret", "").strip()
    if secret_text:
        try:
            secret = secret_from_text(secret_text)
        except ValueError as error:
            secret_problem = str(error)
    algorithm = cells.get("algorithm", "").strip()
    period = _whole_number(cells.get("period", ""), "period", problems)
    counter = _whole_number(cells.get("counter", ""), "counter", problems)
    either = cells.get("period_or_counter", "")
    if algorithm_of(algorithm) is Algorithm.HOTP:
        counter = _whole_number(either, "counter", problems) if either.strip() else counter
    elif algorithm_of(algorithm) is Algorithm.TOTP:
        period = _whole_number(either, "period", problems) if either.strip() else period
    return SeedFields(
        where=where,
        serial=cells.get("serial", "").strip() or None,
        secret=secret,
        algorithm=algorithm or None,
        digits=_whole_number(cells.get("digits", ""), "number of digits", problems),
        period=period,
        counter=counter,
        secret_problem=secret_problem,
        problems=tuple(problems),
    )


def _skipped(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#")


def read_csv(text: str) -> list[SeedFields | Rejected]:
    """The entries of a CSV seed file; SeedFileError when it cannot be read at all."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    entries: list[SeedFields | Rejected] = []
    columns: list[str] | None = None
    try:
        for row in reader:
            if _skipped(row):
                continue
            if columns is None:
                columns = _csv_columns(row)
                continue
            where = f"line {reader.line_num}"
            if len(row) != len(columns):
                entries.append(
                    Rejected(where, f"{len(row)} fields where the header has {len(columns)}")
                )
                continue
            entries.append(_csv_fields(where, dict(zip(columns, row, strict=True))))
    except csv.Error:
        # csv's message can quote the line; the position is enough.
        raise SeedFileError(
            f"The CSV file cannot be read at line {reader.line_num} (quotes or characters "
            "out of place)."
        ) from None
    if columns is None:
        raise SeedFileError(f"The CSV file is empty. The first line must be: {CSV_HEADER_HELP}.")
    return entries


def decode_csv(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SeedFileError("The CSV file is not UTF-8 text.") from None
