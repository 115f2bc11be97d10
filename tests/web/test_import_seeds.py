"""Issue 5, hard tokens: `flask --app wizard import-seeds FILE` (PSKC and CSV seed files).

The sample files in tests/data hold made-up secrets (RFC 4226's "12345678901234567890" and two
more of its kind). After an import the local OATH authority must accept the tokens' real codes.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path

import pskc
import pyotp
import pytest
from flask import current_app
from sqlalchemy import func, select

from wizard.domain.otp import Outcome
from wizard.extensions import db
from wizard.services import sandbox
from wizard.store.models import AuditEvent, OathCredential

DATA = Path(__file__).parent.parent / "data"
PLAIN_PSKC = DATA / "seeds-plain.pskcxml"
GOOD_CSV = DATA / "seeds-good.csv"

# The secrets in the sample files, by credential ID.
SECRETS = {
    "1234567890": b"12345678901234567890",  # OneSpan, TOTP (both files)
    "FT12345678": b"abcdefghijklmnopqrst",  # Symantec card, HOTP, next counter 5 (both files)
    "AVT123456789": b"ABCDEFGHIJKLMNOPQRST",  # Symantec fob, TOTP (PSKC)
    "AVT12345678": b"ABCDEFGHIJKLMNOPQRST",  # Symantec fob, TOTP (CSV, typed AVT-1234-5678)
}
PSK = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
TOTP = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
HOTP = "urn:ietf:params:xml:ns:keyprov:pskc:hotp"


def b32(secret: bytes) -> str:
    return base64.b32encode(secret).decode()


def forms(secret: bytes) -> list[str]:
    """Every way a secret might be written: hex, base32, base64, as text."""
    return [
        secret.hex(),
        secret.hex().upper(),
        b32(secret),
        b32(secret).rstrip("="),
        base64.b64encode(secret).decode(),
    ]


def assert_no_secret(output: str, *secrets: bytes) -> None:
    """No secret appears, whole or in part (any 8 characters of any of its forms)."""
    for secret in secrets or tuple(SECRETS.values()):
        assert secret.decode(errors="ignore") not in output
        for form in forms(secret):
            for start in range(len(form) - 7):
                assert form[start : start + 8] not in output, "part of a secret was printed"


def import_seeds(runner, *args: str | Path):
    return runner.invoke(args=["import-seeds", *(str(arg) for arg in args)])


def credentials() -> dict[str, OathCredential]:
    return {row.credential_id: row for row in db.session.scalars(select(OathCredential))}


def import_events() -> list[tuple[str, dict]]:
    rows = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "seeds.import").order_by(AuditEvent.id)
    )
    return [(row.outcome, json.loads(row.detail)) for row in rows]


def write_pskc(path: Path, *keys: dict, psk: bytes | None = None) -> Path:
    """A PSKC file written with python-pskc's own writer, under a pre-shared key if given."""
    container = pskc.PSKC()
    for key in keys:
        container.add_key(**key)
    if psk is not None:
        container.encryption.setup_preshared_key(key=psk)
    container.write(str(path))
    return path


def totp_key(serial: str, secret: bytes, **extra) -> dict:
    return {"serial": serial, "secret": secret, "algorithm": TOTP, **extra}


def accepts(credential_id: str, code: str, clock) -> Outcome:
    authority = current_app.extensions["token_authority"]
    return authority.verify(credential_id, code, clock()).outcome


# --- PSKC ------------------------------------------------------------------------------------


def test_plain_pskc_imports_every_key(runner, app, clock):
    result = import_seeds(runner, PLAIN_PSKC)

    assert result.exit_code == 0, result.output
    assert "Read 3 tokens from" in result.output
    assert "(PSKC)" in result.output
    assert "Added: 3" in result.output
    assert "Skipped (already present): 0" in result.output
    assert "Invalid: 0" in result.output
    assert_no_secret(result.output)
    with app.app_context():
        rows = credentials()
        assert set(rows) == {"1234567890", "FT12345678", "AVT123456789"}
        onespan, card, fob = rows["1234567890"], rows["FT12345678"], rows["AVT123456789"]
        assert (onespan.algorithm, onespan.digits, onespan.period) == ("totp", 6, 30)
        assert (onespan.manufacturer, onespan.source, onespan.last_step) == (
            "ONESPAN",
            "import",
            None,
        )
        assert (card.algorithm, card.manufacturer, card.last_step) == ("hotp", "SYMANTEC", 4)
        assert fob.manufacturer == "SYMANTEC"  # no Manufacturer in the file: from the serial
        assert all(row.created_at == clock() for row in rows.values())
        for row in rows.values():  # sealed, not stored as given
            for form in forms(SECRETS[row.credential_id]):
                assert form.encode() not in row.sealed_secret


def test_imported_totp_token_verifies_a_real_code(runner, app, clock):
    import_seeds(runner, PLAIN_PSKC)
    clock.advance(minutes=7)
    with app.app_context():
        code = pyotp.TOTP(b32(SECRETS["1234567890"])).at(clock())
        assert accepts("1234567890", code, clock) is Outcome.ACCEPTED
        assert accepts("1234567890", code, clock) is Outcome.REUSED
        fob_code = pyotp.TOTP(b32(SECRETS["AVT123456789"])).at(clock())
        assert accepts("AVT123456789", fob_code, clock) is Outcome.ACCEPTED


def test_imported_hotp_token_accepts_its_next_counter_not_the_one_before(runner, app, clock):
    """The file says the card's counter is 5: its next press shows the code for 5."""
    import_seeds(runner, PLAIN_PSKC)
    hotp = pyotp.HOTP(b32(SECRETS["FT12345678"]))
    with app.app_context():
        assert accepts("FT12345678", hotp.at(4), clock) is Outcome.REUSED
        assert accepts("FT12345678", hotp.at(5), clock) is Outcome.ACCEPTED
        assert accepts("FT12345678", hotp.at(5), clock) is Outcome.REUSED
        assert accepts("FT12345678", hotp.at(8), clock) is Outcome.ACCEPTED  # look-ahead


def test_a_hotp_counter_beyond_32_bits_is_stored_and_checked(runner, app, clock, tmp_path):
    """A counter the file may carry (up to 2**62) fits the database on every backend: 64-bit
    in SQLite, and in PostgreSQL only as a BIGINT."""
    counter = 2**40
    seeds = tmp_path / "far.csv"
    seeds.write_text(
        f"serial,secret,algorithm,period_or_counter\nFT87654321,{b32(b'x' * 20)},hotp,{counter}\n"
    )

    result = import_seeds(runner, seeds)

    assert result.exit_code == 0, result.output
    assert "Added: 1" in result.output
    hotp = pyotp.HOTP(b32(b"x" * 20))
    with app.app_context():
        assert accepts("FT87654321", hotp.at(counter - 1), clock) is Outcome.REUSED
        assert accepts("FT87654321", hotp.at(counter + 2), clock) is Outcome.ACCEPTED
        assert credentials()["FT87654321"].last_step == counter + 2


def test_import_is_audited_with_counts_and_no_secret(runner, app):
    import_seeds(runner, PLAIN_PSKC)
    with app.app_context():
        assert import_events() == [
            (
                "success",
                {
                    "added": 3,
                    "encrypted": 0,
                    "file": "seeds-plain.pskcxml",
                    "format": "pskc",
                    "invalid": 0,
                    "skipped": 0,
                },
            )
        ]
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "seeds.import"))
        assert event.actor == "administrator"
        assert_no_secret(event.detail)


def test_importing_the_same_file_again_skips_every_token(runner, app):
    first = import_seeds(runner, PLAIN_PSKC)
    with app.app_context():
        sealed = {cid: row.sealed_secret for cid, row in credentials().items()}
    second = import_seeds(runner, PLAIN_PSKC)

    assert "Added: 3" in first.output
    assert second.exit_code == 0, second.output
    assert "Added: 0" in second.output
    assert "Skipped (already present): 3" in second.output
    assert "Invalid: 0" in second.output
    with app.app_context():
        assert {cid: row.sealed_secret for cid, row in credentials().items()} == sealed
        assert [detail["skipped"] for _, detail in import_events()] == [0, 3]


def test_csv_after_pskc_skips_the_tokens_already_present(runner, app):
    import_seeds(runner, PLAIN_PSKC)
    result = import_seeds(runner, GOOD_CSV)
    assert "Added: 1" in result.output  # AVT12345678; the other two came with the PSKC file
    assert "Skipped (already present): 2" in result.output


def test_a_sandbox_credential_with_the_same_id_is_skipped(runner, app, clock, tmp_path):
    with app.app_context():
        issued = sandbox.issue(clock(), kind="onespan")
    path = write_pskc(tmp_path / "one.xml", totp_key(issued.credential_id, SECRETS["FT12345678"]))
    result = import_seeds(runner, path)
    assert "Skipped (already present): 1" in result.output
    with app.app_context():
        assert credentials()[issued.credential_id].source == "sandbox"


def test_encrypted_pskc_with_its_pre_shared_key(runner, app, clock, tmp_path):
    path = write_pskc(
        tmp_path / "encrypted.pskcxml",
        totp_key("1234567890", SECRETS["1234567890"], manufacturer="OneSpan"),
        {"serial": "FT12345678", "secret": SECRETS["FT12345678"], "algorithm": HOTP, "counter": 12},
        psk=PSK,
    )
    assert b"EncryptedValue" in path.read_bytes()

    result = import_seeds(runner, path, "--psk", PSK.hex())

    assert result.exit_code == 0, result.output
    assert "(PSKC, encrypted)" in result.output
    assert "Added: 2" in result.output
    assert_no_secret(result.output)
    assert PSK.hex() not in result.output
    with app.app_context():
        code = pyotp.TOTP(b32(SECRETS["1234567890"])).at(clock())
        assert accepts("1234567890", code, clock) is Outcome.ACCEPTED
        hotp = pyotp.HOTP(b32(SECRETS["FT12345678"]))
        assert accepts("FT12345678", hotp.at(12), clock) is Outcome.ACCEPTED
        assert import_events()[0][1]["encrypted"] == 1


def test_pre_shared_key_from_the_environment(runner, app, tmp_path, monkeypatch):
    path = write_pskc(tmp_path / "e.xml", totp_key("1234567890", SECRETS["1234567890"]), psk=PSK)
    monkeypatch.setenv("WIZARD_SEED_PSK", PSK.hex().upper())
    result = import_seeds(runner, path)
    assert "Added: 1" in result.output


def test_wrong_pre_shared_key_imports_nothing(runner, app, tmp_path):
    path = write_pskc(
        tmp_path / "encrypted.xml",
        totp_key("1234567890", SECRETS["1234567890"]),
        totp_key("AVT123456789", SECRETS["AVT123456789"]),
        psk=PSK,
    )
    wrong = bytes(16)

    result = import_seeds(runner, path, "--psk", wrong.hex())

    assert result.exit_code != 0
    assert "could not be decrypted with the pre-shared key" in result.output
    assert "Nothing was imported." in result.output
    assert_no_secret(result.output)
    with app.app_context():
        assert credentials() == {}
        assert [outcome for outcome, _ in import_events()] == ["failure"]


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "The PSKC file is encrypted. Give its pre-shared key with --psk"),
        (("--psk", "0011"), "The pre-shared key is 2 bytes; this file's encryption needs 16."),
    ],
)
def test_encrypted_pskc_without_a_usable_key(runner, app, tmp_path, args, message):
    path = write_pskc(tmp_path / "e.xml", totp_key("1234567890", SECRETS["1234567890"]), psk=PSK)
    result = import_seeds(runner, path, *args)
    assert result.exit_code != 0
    assert message in result.output
    with app.app_context():
        assert credentials() == {}


def test_pre_shared_key_that_is_not_hex_is_not_echoed(runner, tmp_path):
    path = write_pskc(tmp_path / "e.xml", totp_key("1234567890", SECRETS["1234567890"]), psk=PSK)
    result = import_seeds(runner, path, "--psk", "my-secret-passphrase")
    assert result.exit_code == 2
    assert "hexadecimal" in result.output
    assert "my-secret-passphrase" not in result.output


def test_pre_shared_key_for_a_plain_file_is_noted(runner):
    result = import_seeds(runner, PLAIN_PSKC, "--psk", PSK.hex())
    assert result.exit_code == 0
    assert "not encrypted; --psk was not needed" in result.output


@pytest.mark.parametrize(
    "content, message",
    [
        (
            PLAIN_PSKC.read_bytes()[:700],  # cut off half way
            "The PSKC file is not well-formed XML (line",
        ),
        (b"<KeyContainer><KeyPackage></KeyContainer>", "not well-formed XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
            "declares a DTD or entities",
        ),
        (b"<html><body>seeds</body></html>", "not a PSKC key container we can read"),
        (
            b'<KeyContainer xmlns="urn:ietf:params:xml:ns:keyprov:pskc" Version="1.0"/>',
            "The PSKC file has no KeyPackage.",
        ),
    ],
)
def test_unreadable_pskc_imports_nothing(runner, app, tmp_path, content, message):
    path = tmp_path / "broken.pskcxml"
    path.write_bytes(content)
    result = import_seeds(runner, path)
    assert result.exit_code == 1
    assert message in result.output
    assert "Nothing was imported." in result.output
    assert_no_secret(result.output)
    with app.app_context():
        assert credentials() == {}
        ((outcome, detail),) = import_events()
        assert outcome == "failure"
        assert message in detail["reason"]


def test_pskc_invalid_key_packages_are_numbered_and_the_rest_imported(runner, app, tmp_path):
    path = write_pskc(
        tmp_path / "mixed.xml",
        totp_key("1234567890", SECRETS["1234567890"]),
        totp_key("SYMC12345678", SECRETS["FT12345678"]),  # 2: a soft token's ID
        totp_key("AVT123456789", SECRETS["AVT123456789"], algorithm_suite="HMAC-SHA256"),  # 3
        totp_key("FT1234567", b"too short"),  # 4
        {"serial": "FT7654321", "secret": SECRETS["FT12345678"]},  # 5: no algorithm
        totp_key("1234567899", SECRETS["AVT123456789"], response_length=10),  # 6
        totp_key(None, SECRETS["AVT123456789"]),  # 7: no serial
        totp_key("123-456-7890", SECRETS["AVT123456789"]),  # 8: the same as 1
        totp_key("FT12345670", SECRETS["AVT123456789"], response_encoding="HEXADECIMAL"),  # 9
    )

    result = import_seeds(runner, path)

    assert result.exit_code == 0, result.output
    assert "Read 9 tokens" in result.output
    assert "Added: 1" in result.output
    assert "Invalid: 8" in result.output
    lines = result.output.splitlines()
    expected = {
        "KeyPackage 2:": "not a hard-token serial",
        "KeyPackage 3:": "only HMAC-SHA1 tokens are supported",
        "KeyPackage 4:": "the secret is shorter than 128 bits",
        "KeyPackage 5:": "the algorithm is missing",
        "KeyPackage 6:": "the number of digits must be 6 to 8",
        "KeyPackage 7:": "the serial number is missing",
        "KeyPackage 8:": "the same serial number as KeyPackage 1",
        "KeyPackage 9:": "only tokens showing decimal codes are supported",
    }
    for where, reason in expected.items():
        (line,) = [line for line in lines if line.strip().startswith(where)]
        assert reason in line
    assert_no_secret(result.output, *SECRETS.values(), b"too short")
    with app.app_context():
        assert set(credentials()) == {"1234567890"}
        assert import_events()[0][1]["invalid"] == 8


def test_manufacturer_option_overrides_the_file(runner, app, tmp_path):
    path = write_pskc(
        tmp_path / "m.xml",
        totp_key("1234567890", SECRETS["1234567890"], manufacturer="Symantec"),
    )
    result = import_seeds(runner, path, "--manufacturer", "onespan")
    assert "Added: 1" in result.output
    with app.app_context():
        assert credentials()["1234567890"].manufacturer == "ONESPAN"


# --- CSV -------------------------------------------------------------------------------------


def test_good_csv_imports_and_verifies(runner, app, clock):
    result = import_seeds(runner, GOOD_CSV)

    assert result.exit_code == 0, result.output
    assert "Read 3 tokens" in result.output
    assert "(CSV)" in result.output
    assert "Added: 3" in result.output
    assert_no_secret(result.output)
    with app.app_context():
        rows = credentials()
        assert set(rows) == {"1234567890", "FT12345678", "AVT12345678"}
        assert rows["FT12345678"].last_step == 4
        assert {row.source for row in rows.values()} == {"import"}
        code = pyotp.TOTP(b32(SECRETS["AVT12345678"])).at(clock())
        assert accepts("AVT12345678", code, clock) is Outcome.ACCEPTED
        code = pyotp.TOTP(b32(SECRETS["1234567890"])).at(clock())
        assert accepts("1234567890", code, clock) is Outcome.ACCEPTED
        hotp = pyotp.HOTP(b32(SECRETS["FT12345678"]))
        assert accepts("FT12345678", hotp.at(5), clock) is Outcome.ACCEPTED

    again = import_seeds(runner, GOOD_CSV)
    assert "Added: 0" in again.output
    assert "Skipped (already present): 3" in again.output


def test_csv_with_broken_rows_imports_the_good_ones(runner, app, tmp_path):
    rfc = SECRETS["1234567890"]
    path = tmp_path / "mixed.csv"
    path.write_text(
        "serial,secret,algorithm,digits,period_or_counter\n"
        f"1234567890,{rfc.hex()},totp,6,30\n"  # 2: good
        f"SYMC12345678,{rfc.hex()},totp,6,30\n"  # 3: bad serial
        "1234567891,this is no secret,totp,6,30\n"  # 4: bad secret
        f"1234567892,{b32(rfc)},ocra,6,30\n"  # 5: unknown algorithm
        f"1234567893,{b32(rfc)},totp\n"  # 6: missing columns
        f"{b32(rfc)},1234567894,totp,6,30\n"  # 7: columns swapped: a secret as the serial
        f"FT12345678,{b32(rfc)},hotp,6,9\n"  # 8: good, counter 9
    )

    result = import_seeds(runner, path)

    assert result.exit_code == 0, result.output
    assert "Read 7 tokens" in result.output
    assert "Added: 2" in result.output
    assert "Skipped (already present): 0" in result.output
    assert "Invalid: 5" in result.output
    assert "  line 3: the serial number is not a hard-token serial" in result.output
    assert "  line 4: the secret is neither hex" in result.output
    assert "  line 5: the algorithm is not totp or hotp" in result.output
    assert "  line 6: 3 fields where the header has 5" in result.output
    assert "  line 7: the serial number is not a hard-token serial" in result.output
    assert_no_secret(result.output, rfc)
    with app.app_context():
        assert set(credentials()) == {"1234567890", "FT12345678"}
        assert credentials()["FT12345678"].last_step == 8


@pytest.mark.parametrize(
    "content, message",
    [
        ("serial,secret,digits\n1234567890,{hex},6\n", "The header row has no algorithm column."),
        ("1234567890,{hex},totp\n", "Column 1 of the header row is not one we know."),
        ("", "The CSV file is empty."),
    ],
)
def test_unreadable_csv_imports_nothing(runner, app, tmp_path, content, message):
    path = tmp_path / "seeds.csv"
    path.write_text(content.format(hex=SECRETS["1234567890"].hex()))
    result = import_seeds(runner, path)
    assert result.exit_code == 1
    assert message in result.output
    assert_no_secret(result.output)
    with app.app_context():
        assert credentials() == {}


def test_csv_that_is_not_utf8(runner, tmp_path):
    path = tmp_path / "seeds.csv"
    path.write_bytes(b"serial,secret,algorithm\n1234567890,\xff\xfe,totp\n")
    result = import_seeds(runner, path)
    assert result.exit_code == 1
    assert "The CSV file is not UTF-8 text." in result.output


def test_format_option_and_content_sniffing(runner, app, tmp_path):
    as_text = tmp_path / "seeds.dat"
    shutil.copy(GOOD_CSV, as_text)
    assert "Added: 3" in import_seeds(runner, as_text).output  # no '<': CSV

    xml_named_txt = tmp_path / "seeds.txt"
    shutil.copy(PLAIN_PSKC, xml_named_txt)
    result = import_seeds(runner, xml_named_txt, "--format", "PSKC")
    assert "(PSKC)" in result.output
    assert "Added: 1" in result.output  # 1234567890 and FT12345678 came with the CSV


def test_manufacturer_option_refuses_serials_of_the_other_kind(runner, app):
    result = import_seeds(runner, GOOD_CSV, "--manufacturer", "SYMANTEC")
    assert "Added: 2" in result.output
    assert "line 2: the serial number is not a Symantec hard-token serial" in result.output


def test_missing_file(runner, tmp_path):
    result = import_seeds(runner, tmp_path / "nowhere.csv")
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_counts_of_the_whole_table_only_grow_by_the_added(runner, app):
    import_seeds(runner, GOOD_CSV)
    import_seeds(runner, PLAIN_PSKC)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OathCredential)) == 4


def test_pskc_written_to_a_stream_is_read_the_same(tmp_path):
    """The writer helper and python-pskc agree on a round trip (guards the fixtures)."""
    buffer = io.BytesIO()
    container = pskc.PSKC()
    container.add_key(**totp_key("1234567890", SECRETS["1234567890"]))
    container.write(buffer)
    (key,) = pskc.PSKC(io.BytesIO(buffer.getvalue())).keys
    assert (key.serial, key.secret) == ("1234567890", SECRETS["1234567890"])
