"""Hard-token seed files (issue 5): reading CSV entries and checking them into seeds."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wizard.domain.credentials import Manufacturer
from wizard.domain.otp import Algorithm
from wizard.domain.seedfile import (
    Rejected,
    Seed,
    SeedFields,
    SeedFileError,
    SeedFormat,
    algorithm_of,
    check,
    check_all,
    credential_id_of,
    decode_csv,
    guess_format,
    manufacturer_named,
    read_csv,
    secret_from_text,
)

RFC4226 = b"12345678901234567890"  # RFC 4226's test secret
RFC4226_HEX = RFC4226.hex()
RFC4226_B32 = base64.b32encode(RFC4226).decode()  # GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
HEADER = "serial,secret,algorithm,digits,period_or_counter\n"


def fields(**overrides) -> SeedFields:
    values = {
        "where": "line 2",
        "serial": "1234567890",
        "secret": RFC4226,
        "algorithm": "totp",
    }
    values.update(overrides)
    return SeedFields(**values)


# --- secrets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        RFC4226_HEX,
        RFC4226_HEX.upper(),
        RFC4226_B32,
        RFC4226_B32.lower(),
        "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ",
        "GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ",
    ],
)
def test_secret_in_hex_or_base32(text):
    assert secret_from_text(text) == RFC4226


@pytest.mark.parametrize("size", [16, 20, 32])
def test_hex_lengths_32_40_64(size):
    secret = bytes(range(200, 200 + size))
    assert secret_from_text(secret.hex()) == secret


def test_base32_with_or_without_padding():
    secret = bytes(range(16))  # 16 bytes: 26 base32 characters and 6 '='
    padded = base64.b32encode(secret).decode()
    assert padded.endswith("======")
    assert secret_from_text(padded) == secret
    assert secret_from_text(padded.rstrip("=")) == secret


def test_hex_of_another_length_is_read_as_base32_and_fails():
    with pytest.raises(ValueError, match="neither hex"):
        secret_from_text("0123456789abcdef0123")  # 20 hex digits: not 32/40/64; 0, 1, 8, 9


@pytest.mark.parametrize("text", ["not a secret!", "GEZDGNBVGY3TQOJ1", "GEZDGNBVG"])
def test_unreadable_secret_message_names_no_part_of_it(text):
    with pytest.raises(ValueError) as raised:
        secret_from_text(text)
    assert text not in str(raised.value)
    assert text[:5] not in str(raised.value)


# --- algorithm, manufacturer, serial ---------------------------------------------------------


@pytest.mark.parametrize(
    "text, algorithm",
    [
        ("totp", Algorithm.TOTP),
        (" HOTP ", Algorithm.HOTP),
        ("urn:ietf:params:xml:ns:keyprov:pskc:totp", Algorithm.TOTP),
        ("urn:ietf:params:xml:ns:keyprov:pskc:hotp", Algorithm.HOTP),
        ("urn:ietf:params:xml:ns:keyprov:pskc#hotp", Algorithm.HOTP),  # draft-era URIs
        ("urn:ietf:params:xml:ns:keyprov:pskc:ocra", None),
        ("sha1", None),
        ("", None),
        (None, None),
    ],
)
def test_algorithm_of(text, algorithm):
    assert algorithm_of(text) == algorithm


@pytest.mark.parametrize(
    "name, manufacturer",
    [
        ("OneSpan", Manufacturer.ONESPAN),
        ("VASCO Data Security", Manufacturer.ONESPAN),
        ("Symantec Corporation", Manufacturer.SYMANTEC),
        ("Broadcom", Manufacturer.SYMANTEC),
        ("oath.UB", None),
        ("", None),
        (None, None),
    ],
)
def test_manufacturer_named(name, manufacturer):
    assert manufacturer_named(name) == manufacturer


@pytest.mark.parametrize(
    "serial, manufacturer, expected",
    [
        ("1234567890", None, ("1234567890", Manufacturer.ONESPAN)),
        ("123-4567-890", None, ("1234567890", Manufacturer.ONESPAN)),
        ("AVT12345678", None, ("AVT12345678", Manufacturer.SYMANTEC)),
        ("ft 123456", None, ("FT123456", Manufacturer.SYMANTEC)),
        ("1234567890", Manufacturer.ONESPAN, ("1234567890", Manufacturer.ONESPAN)),
        ("FT12345678", Manufacturer.SYMANTEC, ("FT12345678", Manufacturer.SYMANTEC)),
    ],
)
def test_serial_to_credential_id(serial, manufacturer, expected):
    assert credential_id_of(serial, manufacturer) == expected


@pytest.mark.parametrize(
    "serial, manufacturer, reason",
    [
        (None, None, "missing"),
        ("  ", None, "missing"),
        ("SYMC12345678", None, "not a hard-token serial"),  # a VIP Access app, not a fob
        ("123456789", None, "not a hard-token serial"),
        ("12345O7890", None, "not a hard-token serial"),  # a letter O in a seed file: damaged
        ("AVT1234567I", None, "not a hard-token serial"),
        ("1234567890", Manufacturer.SYMANTEC, "not a Symantec"),
        ("FT12345678", Manufacturer.ONESPAN, "not a OneSpan"),
    ],
)
def test_serial_refused(serial, manufacturer, reason):
    refused = credential_id_of(serial, manufacturer)
    assert isinstance(refused, str)
    assert reason in refused


# --- checking entries ----------------------------------------------------------------------------


def test_totp_defaults():
    seed = check(fields(secret=RFC4226))
    assert isinstance(seed, Seed)
    assert seed.credential_id == "1234567890"
    assert seed.manufacturer is Manufacturer.ONESPAN
    assert seed.algorithm is Algorithm.TOTP
    assert (seed.digits, seed.period, seed.counter, seed.last_step) == (6, 30, 0, None)
    assert seed.secret == RFC4226_B32


def test_secret_is_kept_in_base32_without_padding():
    seed = check(fields(secret=bytes(range(16))))
    assert seed.secret == base64.b32encode(bytes(range(16))).decode().rstrip("=")


def test_hotp_next_counter_becomes_the_replay_floor_below_it():
    """otp.judge accepts counters above last_step: the token's next counter N must pass."""
    seed = check(fields(serial="FT12345678", algorithm="hotp", counter=5, period=60))
    assert (seed.algorithm, seed.counter, seed.last_step) == (Algorithm.HOTP, 5, 4)
    assert check(fields(algorithm="hotp", counter=0)).last_step is None
    assert check(fields(algorithm="hotp")).last_step is None


def test_totp_ignores_a_counter():
    seed = check(fields(counter=99))
    assert (seed.counter, seed.last_step) == (0, None)


def test_manufacturer_order_option_then_file_then_serial():
    assert isinstance(check(fields(manufacturer="Symantec")), Rejected)  # 10 digits: OneSpan
    assert check(fields(manufacturer="oath.XX")).manufacturer is Manufacturer.ONESPAN
    overridden = check(fields(manufacturer="Symantec"), Manufacturer.ONESPAN)
    assert overridden.manufacturer is Manufacturer.ONESPAN


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"secret": None}, "the secret is missing"),
        ({"secret": b"short secret"}, "shorter than 128 bits"),
        ({"secret": bytes(65)}, "longer than 64 bytes"),
        ({"secret": None, "secret_problem": "the secret is neither"}, "the secret is neither"),
        ({"algorithm": None}, "the algorithm is missing"),
        ({"algorithm": "ocra"}, "not totp or hotp"),
        ({"digits": 5}, "6 to 8"),
        ({"digits": 9}, "6 to 8"),
        ({"period": 0}, "1 to 120 seconds"),
        ({"period": 121}, "1 to 120 seconds"),
        ({"algorithm": "hotp", "counter": -1}, "the counter"),
        ({"problems": ("only HMAC-SHA1 tokens are supported",)}, "HMAC-SHA1"),
    ],
)
def test_rejected_with_a_reason(overrides, reason):
    rejected = check(fields(**overrides))
    assert isinstance(rejected, Rejected)
    assert rejected.where == "line 2"
    assert reason in rejected.reason


def test_every_reason_is_given():
    rejected = check(fields(serial="SYMC12345678", secret=b"short", algorithm="ocra", digits=4))
    assert rejected.reason.count(";") == 3


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=16, max_size=40))
def test_a_reason_never_quotes_the_file(value):
    """Columns shifted by one put a secret in the serial or algorithm column."""
    rejected = check(fields(serial=value, algorithm=value))
    assert isinstance(rejected, Rejected)
    assert value not in rejected.reason


def test_seed_repr_hides_the_secret():
    seed = check(fields())
    assert RFC4226_B32 not in repr(seed)
    assert "1234" + "5678" not in repr(fields(serial="x"))  # the SeedFields secret too


def test_check_all_rejects_a_serial_met_again():
    seeds, rejected = check_all(
        [
            fields(where="line 2"),
            Rejected("line 3", "3 fields where the header has 5"),
            fields(where="line 4", serial="123-456-7890"),
            fields(where="line 5", serial="FT123456"),
        ]
    )
    assert [s.where for s in seeds] == ["line 2", "line 5"]
    assert rejected == [
        Rejected("line 3", "3 fields where the header has 5"),
        Rejected("line 4", "the same serial number as line 2"),
    ]


# --- CSV -----------------------------------------------------------------------------------------


def test_read_csv_good_rows():
    text = (
        HEADER
        + f"1234567890,{RFC4226_HEX},totp,6,30\n"
        + f"FT12345678,{RFC4226_B32},hotp,8,7\n"
        + f"AVT12345678,{RFC4226_B32},totp,,\n"
    )
    seeds, rejected = check_all(read_csv(text))
    assert rejected == []
    assert [
        (s.where, s.credential_id, s.algorithm, s.digits, s.period, s.counter) for s in seeds
    ] == [
        ("line 2", "1234567890", Algorithm.TOTP, 6, 30, 0),
        ("line 3", "FT12345678", Algorithm.HOTP, 8, 30, 7),
        ("line 4", "AVT12345678", Algorithm.TOTP, 6, 30, 0),
    ]


def test_read_csv_period_or_counter_follows_the_algorithm():
    seeds, _ = check_all(read_csv(HEADER + f"1234567890,{RFC4226_HEX},totp,6,60\n"))
    assert (seeds[0].period, seeds[0].counter) == (60, 0)


def test_read_csv_separate_period_and_counter_columns_any_order_any_case():
    text = (
        " Counter ,SERIAL,Secret,period,Algorithm\n"
        f"3,FT12345678,{RFC4226_HEX},,hotp\n"
        f",1234567890,{RFC4226_HEX},60,totp\n"
    )
    seeds, rejected = check_all(read_csv(text))
    assert rejected == []
    assert [(s.counter, s.period) for s in seeds] == [(3, 30), (0, 60)]


def test_read_csv_minimal_header():
    seeds, _ = check_all(read_csv(f"serial,secret,algorithm\n1234567890,{RFC4226_HEX},totp\n"))
    assert (seeds[0].digits, seeds[0].period) == (6, 30)


def test_read_csv_skips_blank_and_comment_lines_and_counts_lines_as_in_the_file():
    text = (
        "# seeds for the spring order\n"
        + HEADER
        + "\n"
        + "# the first fob\n"
        + f"1234567890,{RFC4226_HEX},totp,6,30\n"
        + ",,,,\n"
        + f"FT123456,{RFC4226_HEX},hotp,6,0\n"
    )
    assert [entry.where for entry in read_csv(text)] == ["line 5", "line 7"]


def test_read_csv_broken_rows():
    text = (
        HEADER
        + f"SYMC12345678,{RFC4226_HEX},totp,6,30\n"  # line 2: a soft token's ID
        + "1234567890,not-a-secret!,totp,6,30\n"  # line 3
        + f"1234567891,{RFC4226_HEX},ocra,6,30\n"  # line 4
        + f"1234567892,{RFC4226_HEX},totp\n"  # line 5: missing columns
        + f"1234567893,{RFC4226_HEX},totp,six,30\n"  # line 6
        + f"1234567894,{RFC4226_HEX},hotp,6,-1\n"  # line 7
        + f"{RFC4226_B32},1234567895,totp,6,30\n"  # line 8: columns swapped
    )
    seeds, rejected = check_all(read_csv(text))
    assert seeds == []
    reasons = {r.where: r.reason for r in rejected}
    assert "not a hard-token serial" in reasons["line 2"]
    assert "neither hex" in reasons["line 3"]
    assert "not totp or hotp" in reasons["line 4"]
    assert reasons["line 5"] == "3 fields where the header has 5"
    assert "number of digits is not a whole number" in reasons["line 6"]
    assert "counter is not a whole number" in reasons["line 7"]
    assert "not a hard-token serial" in reasons["line 8"]
    for reason in reasons.values():
        assert RFC4226_HEX[:8] not in reason
        assert RFC4226_B32[:8] not in reason


@pytest.mark.parametrize(
    "header, message",
    [
        ("serial,secret,algorithm,digts\n", "Column 4 of the header row"),
        ("serial,secret\n", "no algorithm column"),
        ("secret,algorithm\n", "no serial column"),
        ("serial,secret,algorithm,serial\n", "names the column serial twice"),
        ("serial,secret,algorithm,period_or_counter,counter\n", "use one way"),
    ],
)
def test_read_csv_bad_header(header, message):
    with pytest.raises(SeedFileError, match=message):
        read_csv(header + f"1234567890,{RFC4226_HEX},totp,6,30\n")


def test_read_csv_without_a_header_does_not_quote_the_first_row():
    with pytest.raises(SeedFileError) as raised:
        read_csv(f"1234567890,{RFC4226_B32},totp\n")
    assert RFC4226_B32 not in str(raised.value)
    assert "header" in str(raised.value)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_read_csv_empty(text):
    with pytest.raises(SeedFileError, match="empty"):
        read_csv(text)


def test_read_csv_broken_quoting_names_the_line_not_the_content():
    with pytest.raises(SeedFileError, match="line 2") as raised:
        read_csv(HEADER + f'1234567890,"{RFC4226_B32}"x,totp\n')
    assert RFC4226_B32 not in str(raised.value)


def test_decode_csv():
    assert decode_csv("\ufeffserial".encode()) == "serial"
    with pytest.raises(SeedFileError, match="UTF-8"):
        decode_csv(b"serial,\xff\xfe")


@pytest.mark.parametrize(
    "name, head, expected",
    [
        ("tokens.xml", b"", SeedFormat.PSKC),
        ("tokens.PSKCXML", b"", SeedFormat.PSKC),
        ("tokens.pskc", b"", SeedFormat.PSKC),
        ("tokens.csv", b"<", SeedFormat.CSV),
        ("tokens", b"\xef\xbb\xbf  <?xml", SeedFormat.PSKC),
        ("tokens", b"serial,secret", SeedFormat.CSV),
    ],
)
def test_guess_format(name, head, expected):
    assert guess_format(name, head) is expected
