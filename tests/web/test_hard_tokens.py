"""Hard tokens in the wizard (issue 5): OneSpan Digipass GO serials, seeds from the sandbox or
an imported file, and Symantec event-based key fobs that resynchronise with two codes."""

from __future__ import annotations

import base64
import json
import re
import secrets

import pyotp
import pytest
from signing import post, prescriber, sign_in, tokens_with
from support.pages import page_text

from wizard.services import sandbox

UNKNOWN_SERIAL = "This token is not known to your organization yet. Contact the help desk."
HARD_WRONG = (
    "That code did not match. Press the button on the token for a new code and enter it right away."
)


@pytest.fixture
def signed_in(client, account, clock):
    sign_in(client, account, clock())
    return account


def issue(app, clock, kind: str):
    with app.app_context():
        return sandbox.issue(clock(), kind=kind)


def choose(client, device: str):
    response = post(client, "/enroll/get-app", {"platform": device})
    assert response.status_code == 303, page_text(response)[:600]
    assert response.headers["Location"] == "/enroll/credential-id"


def sandbox_code(client, credential_id: str, presses: int = 1) -> str:
    response = client.get(f"/sandbox/api/otp/{credential_id}?presses={presses}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["code"]


def save(client, nickname: str):
    response = post(client, "/enroll/name", {"nickname": nickname})
    assert response.status_code == 303, page_text(response)[:600]
    assert response.headers["Location"] == "/enroll/done"


def dashed(serial: str) -> str:
    """As printed on a Digipass: 12-3456789-0."""
    return f"{serial[:2]}-{serial[2:9]}-{serial[9]}"


# --- OneSpan ---------------------------------------------------------------------------------


def test_choosing_onespan_needs_no_device_confirmation(client, signed_in):
    page = client.get("/enroll/get-app?device=onespan")
    assert page.status_code == 200
    text = page_text(page)
    assert "Get your key fob ready" in text
    assert "OneSpan Digipass GO 6 or GO 7 key fob" in text
    assert "It has one button. Press it and it shows a 6-digit code." in text
    body = page.get_data(as_text=True)
    assert '<input type="hidden" name="platform" value="onespan">' in body
    assert 'name="different_device"' not in body
    choose(client, "onespan")


def test_the_serial_step_explains_where_the_serial_is(client, signed_in):
    choose(client, "onespan")
    page = client.get("/enroll/credential-id")
    text = page_text(page)
    assert "Find the serial number" in text
    assert "the 10-digit number printed on the back of the key fob" in text
    assert "Hold the button for 6 seconds" in text
    assert "Serial number (S/N)" in text
    assert 'src="/static/img/digipass-back.svg"' in page.get_data(as_text=True)


@pytest.mark.parametrize("device", ["onespan", "symantec-hard"])
def test_a_key_fobs_step_list_and_heading_say_serial_number_alike(client, signed_in, device):
    """Issue 14: the step list said "Find your Credential ID" under "Find the serial number"."""
    choose(client, device)
    for response in (
        client.get("/enroll/credential-id"),
        client.get("/enroll/credential-id", headers={"HX-Request": "true"}),
    ):
        html = response.get_data(as_text=True)
        assert "Find your Credential ID" not in html
        label = re.search(
            r'<li class="step-indicator__item step-indicator__item--current"'
            r'.*?step-indicator__label">([^<]+)<',
            html,
            re.S,
        )
        assert label and label.group(1) == "Find the serial number"
        assert re.search(r"<title>Find the serial number – ", html)


def test_should_add_a_sandbox_onespan_token(app, client, signed_in, clock):
    issued = issue(app, clock, "onespan")
    assert len(issued.credential_id) == 10 and issued.credential_id.isdigit()
    choose(client, "onespan")

    response = post(
        client, "/enroll/credential-id", {"credential_id": dashed(issued.credential_id)}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/enroll/security-code"
    code_page = page_text(client.get("/enroll/security-code"))
    assert f"Serial number {issued.credential_id}" in code_page
    assert "Press the button on the key fob and enter the 6-digit code it shows." in code_page

    clock.advance(30)  # a step of its own, away from the sign-in code
    code = sandbox_code(client, issued.credential_id)
    assert code == pyotp.TOTP(issued.secret).at(clock())
    response = post(client, "/enroll/security-code", {"code": code})
    assert response.headers["Location"] == "/enroll/name"

    name_page = page_text(client.get("/enroll/name"))
    assert "Manufacturer ONESPAN" in name_page
    assert "Type OTP HARD TOKEN" in name_page
    assert "Model DIGIPASS GO" in name_page
    assert 'value="OneSpan key fob"' in client.get("/enroll/name").get_data(as_text=True)
    save(client, "OneSpan key fob")

    [token] = tokens_with(app, issued.credential_id)
    assert (token.manufacturer, token.issuer, token.token_type, token.model, token.status) == (
        "ONESPAN",
        "DRFIRST",
        "OTP HARD TOKEN",
        "DIGIPASS GO",
        "Active",
    )
    assert token.prescriber_id == signed_in.id
    table = page_text(client.get("/tokens"))
    assert f"OneSpan key fob {issued.credential_id} ONESPAN DRFIRST OTP HARD TOKEN" in table


def test_a_onespan_serial_must_be_10_digits(client, signed_in):
    choose(client, "onespan")
    for typed in ("12345", "12345678901", "12-3456789-X", "SYMX12345678"):  # SYMC…: a look-alike
        response = post(client, "/enroll/credential-id", {"credential_id": typed})
        assert response.status_code == 422, typed
        assert "A OneSpan Digipass serial number is 10 digits, for example 1234567890" in (
            page_text(response)
        ), typed


def test_an_unknown_serial_sends_the_prescriber_to_the_help_desk(client, signed_in):
    choose(client, "onespan")
    response = post(client, "/enroll/credential-id", {"credential_id": "98-7654321-0"})
    assert response.status_code == 422
    assert UNKNOWN_SERIAL in page_text(response)


def test_an_imported_onespan_seed_can_be_added(app, client, runner, signed_in, clock, tmp_path):
    secret = secrets.token_bytes(20)
    serial = "4" + f"{secrets.randbelow(10**9):09d}"
    seeds = tmp_path / "digipass.csv"
    seeds.write_text(
        f"serial,secret,algorithm,digits,period_or_counter\n{serial},{secret.hex()},totp,6,30\n"
    )
    result = runner.invoke(args=["import-seeds", str(seeds)])
    assert result.exit_code == 0, result.output
    assert "Added: 1" in result.output
    assert secret.hex() not in result.output

    choose(client, "onespan")
    assert (
        post(client, "/enroll/credential-id", {"credential_id": dashed(serial)}).status_code == 303
    )
    clock.advance(30)
    code = pyotp.TOTP(base64.b32encode(secret).decode()).at(clock())
    assert (
        post(client, "/enroll/security-code", {"code": code}).headers["Location"] == "/enroll/name"
    )
    save(client, "Imported fob")

    [token] = tokens_with(app, serial)
    assert (token.manufacturer, token.token_type) == ("ONESPAN", "OTP HARD TOKEN")


def test_a_wrong_hard_token_code_says_to_press_the_button(app, client, signed_in, clock):
    issued = issue(app, clock, "onespan")
    choose(client, "onespan")
    post(client, "/enroll/credential-id", {"credential_id": issued.credential_id})
    near = {pyotp.TOTP(issued.secret).at(clock(), counter_offset=o) for o in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in near)
    response = post(client, "/enroll/security-code", {"code": wrong})
    assert response.status_code == 422
    assert HARD_WRONG in page_text(response)
    assert prescriber(app, signed_in.id).code_failures == 1


# --- Symantec event-based (HOTP) key fobs ----------------------------------------------------


def test_should_add_a_symantec_key_fob_in_step(app, client, signed_in, clock):
    issued = issue(app, clock, "symantec-hard")
    assert issued.credential_id.startswith("FT")
    choose(client, "symantec-hard")
    typed = f"ft {issued.credential_id[2:6]} {issued.credential_id[6:]}"
    assert post(client, "/enroll/credential-id", {"credential_id": typed}).status_code == 303

    code = sandbox_code(client, issued.credential_id, presses=3)  # within the look-ahead
    assert code == pyotp.HOTP(issued.secret).at(2)
    assert (
        post(client, "/enroll/security-code", {"code": code}).headers["Location"] == "/enroll/name"
    )
    save(client, "Symantec key fob")
    [token] = tokens_with(app, issued.credential_id)
    assert (token.manufacturer, token.token_type, token.model) == (
        "SYMANTEC",
        "OTP HARD TOKEN",
        "VIP HARD TOKEN",
    )


def test_a_key_fob_far_ahead_resynchronises_with_two_consecutive_codes(
    app, client, signed_in, clock
):
    issued = issue(app, clock, "symantec-hard")
    choose(client, "symantec-hard")
    post(client, "/enroll/credential-id", {"credential_id": issued.credential_id})

    ahead = sandbox_code(client, issued.credential_id, presses=30)
    response = post(client, "/enroll/security-code", {"code": ahead})
    assert response.status_code == 422
    text = page_text(response)
    assert "Your key fob is out of step with our records." in text
    assert "Enter two codes in a row to put it back in step." in text
    assert 'name="next_code"' in response.get_data(as_text=True)
    assert prescriber(app, signed_in.id).code_failures == 0  # not a failure

    # Reloading keeps asking for two codes, and one alone is not enough.
    assert 'name="next_code"' in client.get("/enroll/security-code").get_data(as_text=True)
    first = sandbox_code(client, issued.credential_id, presses=31)
    second = sandbox_code(client, issued.credential_id, presses=32)
    only_one = post(client, "/enroll/security-code", {"code": first})
    assert only_one.status_code == 422
    assert "Enter the next code" in page_text(only_one)

    response = post(client, "/enroll/security-code", {"code": first, "next_code": second})
    assert response.status_code == 303
    assert response.headers["Location"] == "/enroll/name"
    save(client, "Card")
    [token] = tokens_with(app, issued.credential_id)
    assert token.status == "Active"

    # Back in step: the next press after the pair is the one the sandbox shows now.
    assert sandbox_code(client, issued.credential_id) == pyotp.HOTP(issued.secret).at(32)


def test_a_wrong_pair_does_not_resynchronise(app, client, signed_in, clock):
    issued = issue(app, clock, "symantec-hard")
    choose(client, "symantec-hard")
    post(client, "/enroll/credential-id", {"credential_id": issued.credential_id})
    post(client, "/enroll/security-code", {"code": sandbox_code(client, issued.credential_id, 30)})

    first = sandbox_code(client, issued.credential_id, presses=31)
    skipped = sandbox_code(client, issued.credential_id, presses=33)  # not the next one
    response = post(client, "/enroll/security-code", {"code": first, "next_code": skipped})
    assert response.status_code == 422
    assert HARD_WRONG in page_text(response)
    assert 'name="next_code"' in response.get_data(as_text=True)
    assert prescriber(app, signed_in.id).code_failures == 1
    assert client.get("/enroll/name").headers["Location"] == "/enroll/security-code"
    assert tokens_with(app, issued.credential_id) == []


def test_a_symantec_serial_must_start_with_avt_or_ft(client, signed_in):
    choose(client, "symantec-hard")
    response = post(client, "/enroll/credential-id", {"credential_id": "XY12345678"})
    assert response.status_code == 422
    assert "A Symantec token serial number starts with AVT or FT" in page_text(response)


def test_an_unknown_symantec_serial_sends_the_prescriber_to_the_help_desk(client, signed_in):
    choose(client, "symantec-hard")
    response = post(client, "/enroll/credential-id", {"credential_id": "AVT99999999"})
    assert response.status_code == 422
    assert UNKNOWN_SERIAL in page_text(response)


def test_an_imported_hotp_seed_starts_at_its_counter(app, client, runner, signed_in, tmp_path):
    secret = pyotp.random_base32(length=32)
    serial = f"FT{secrets.randbelow(10**8):08d}"
    seeds = tmp_path / "fobs.csv"
    seeds.write_text(
        f"serial,secret,algorithm,digits,period_or_counter\n{serial},{secret},hotp,6,20\n"
    )
    assert runner.invoke(args=["import-seeds", str(seeds)]).exit_code == 0

    choose(client, "symantec-hard")
    post(client, "/enroll/credential-id", {"credential_id": serial})
    used = post(client, "/enroll/security-code", {"code": pyotp.HOTP(secret).at(19)})
    assert used.status_code == 422  # below the counter the file gave: already used
    assert "That code has already been used." in page_text(used)
    fresh = post(client, "/enroll/security-code", {"code": pyotp.HOTP(secret).at(21)})
    assert fresh.headers["Location"] == "/enroll/name"
    save(client, "Imported card")
    [token] = tokens_with(app, serial)
    assert (token.manufacturer, token.token_type) == ("SYMANTEC", "OTP HARD TOKEN")


def test_the_sandbox_issues_hard_tokens_from_the_command_line(runner):
    result = runner.invoke(args=["sandbox", "issue", "--kind", "onespan"])
    assert result.exit_code == 0, result.output
    issued = json.loads(result.output)
    assert len(issued["credential_id"]) == 10 and issued["credential_id"].isdigit()
    result = runner.invoke(args=["sandbox", "issue", "--kind", "symantec-hard"])
    assert json.loads(result.output)["otpauth_uri"].startswith("otpauth://hotp/")
