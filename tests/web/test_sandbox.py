"""Issue 2, sandbox mode: the demo data, practice credentials, their codes; and its absence."""

import json
import re
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import func, select

from wizard.extensions import db
from wizard.store.models import OathCredential, Prescriber, Token

BASE32_SECRET = re.compile(r"[A-Z2-7]{32}")


def run_json(runner, *args: str) -> dict:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# --- sandbox seed ----------------------------------------------------------------------------


def test_should_seed_the_demo_prescriber_and_describe_it_as_json(runner, clock):
    demo = run_json(runner, "sandbox", "seed")

    assert demo["npi"] == "1234567893"
    assert demo["passphrase"] == "correct horse battery staple"
    assert demo["name"]
    assert demo["grants"] == [
        {"organization": "CalMHSA", "dea_number": "AB1234563", "status": "ACTIVE"}
    ]
    by_status = {t["status"]: t for t in demo["tokens"]}
    assert sorted(by_status) == ["Active", "Inactive"]
    assert by_status["Active"]["nickname"] == "iPhone token app"
    for token in demo["tokens"]:
        assert re.fullmatch(r"SYMC\d{8}", token["credential_id"])
        assert BASE32_SECRET.fullmatch(token["secret"])
    assert demo["tokens"][0]["credential_id"] != demo["tokens"][1]["credential_id"]


def test_should_seed_only_once(runner, store):
    first = run_json(runner, "sandbox", "seed")
    second = run_json(runner, "sandbox", "seed")

    assert second == first
    assert store.count(Prescriber) == 1
    assert store.count(Token) == 2


def test_should_give_seeded_tokens_secrets_whose_codes_the_wizard_accepts(runner, vip, app):
    demo = run_json(runner, "sandbox", "seed")
    token = demo["tokens"][0]
    code = vip.code(token)
    with app.app_context():
        verdict = app.extensions["token_authority"].verify(
            token["credential_id"], code, app.config["CLOCK"]()
        )
    assert verdict.accepted


# --- sandbox issue ---------------------------------------------------------------------------


def test_should_issue_a_virtual_vip_access_credential_bound_to_no_one(runner, store):
    issued = run_json(runner, "sandbox", "issue")

    assert set(issued) == {"credential_id", "secret", "otpauth_uri"}
    assert re.fullmatch(r"SYMC\d{8}", issued["credential_id"])
    assert BASE32_SECRET.fullmatch(issued["secret"])
    uri = urlparse(issued["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert issued["credential_id"] in uri.path
    assert parse_qs(uri.query)["secret"] == [issued["secret"]]
    assert store.tokens(issued["credential_id"]) == []
    assert store.count(OathCredential, OathCredential.credential_id == issued["credential_id"]) == 1


def test_should_issue_a_new_credential_each_time(runner):
    first = run_json(runner, "sandbox", "issue")
    second = run_json(runner, "sandbox", "issue")
    assert first["credential_id"] != second["credential_id"]
    assert first["secret"] != second["secret"]


@pytest.mark.parametrize("prefix", ["SYMC", "VSMT", "SYDC", "vsst"])
def test_should_issue_a_credential_with_the_prefix_given(runner, prefix):
    issued = run_json(runner, "sandbox", "issue", "--prefix", prefix)
    assert re.fullmatch(rf"{prefix.upper()}\d{{8}}", issued["credential_id"])


def test_cant_issue_a_credential_with_an_unknown_prefix(runner):
    result = runner.invoke(args=["sandbox", "issue", "--prefix", "ABCD"])
    assert result.exit_code != 0
    assert "SYMC" in result.output


def test_should_issue_a_onespan_style_10_digit_serial(runner):
    issued = run_json(runner, "sandbox", "issue", "--kind", "onespan")
    assert re.fullmatch(r"\d{10}", issued["credential_id"])
    assert BASE32_SECRET.fullmatch(issued["secret"])
    assert urlparse(issued["otpauth_uri"]).netloc == "totp"


# --- sandbox otp -----------------------------------------------------------------------------


@pytest.mark.parametrize("at", [0, 59, 1_111_111_109, 1_741_014_000, 2_000_000_000])
def test_should_print_the_code_of_a_credential_at_a_time(runner, at):
    issued = run_json(runner, "sandbox", "issue")

    result = runner.invoke(args=["sandbox", "otp", issued["credential_id"], "--at", str(at)])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == pyotp.TOTP(issued["secret"]).at(at)
    assert re.fullmatch(r"\d{6}\n", result.output)


def test_should_print_the_code_of_a_credential_now_by_the_app_clock(runner, clock):
    issued = run_json(runner, "sandbox", "issue")
    clock.advance(seconds=95)

    result = runner.invoke(args=["sandbox", "otp", issued["credential_id"].lower()])

    assert result.output.strip() == pyotp.TOTP(issued["secret"]).at(clock())


def test_cant_print_the_code_of_an_unknown_credential(runner):
    result = runner.invoke(args=["sandbox", "otp", "SYMC00000000"])
    assert result.exit_code != 0
    assert "SYMC00000000" in result.output


# --- The code API ----------------------------------------------------------------------------


def test_should_answer_the_code_of_a_credential_as_json(client, vip, clock):
    credential = vip.issue()
    clock.advance(seconds=10)

    response = client.get(f"/sandbox/api/otp/{credential.credential_id}")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "credential_id": credential.credential_id,
        "code": pyotp.TOTP(credential.secret).at(clock()),
        "valid_for_seconds": 20,
    }


def test_should_answer_the_code_for_a_credential_typed_in_lower_case(client, vip):
    credential = vip.issue()
    response = client.get(f"/sandbox/api/otp/{credential.credential_id.lower()}")
    assert response.get_json()["code"] == pyotp.TOTP(credential.secret).at(vip.clock())


def test_should_agree_with_the_cli_and_the_practice_app_page(client, runner, vip):
    credential = vip.issue()
    api = client.get(f"/sandbox/api/otp/{credential.credential_id}").get_json()
    cli = runner.invoke(args=["sandbox", "otp", credential.credential_id]).output.strip()
    page = client.get(f"/sandbox/vip-access?credential={credential.credential_id}")

    assert api["code"] == cli
    html = page.get_data(as_text=True)
    assert re.search(rf'id="security-code"[^>]*>\s*{api["code"]}\s*<', html)
    grouped = f"{credential.credential_id[:4]} {credential.credential_id[4:8]} "
    assert re.search(
        rf'id="credential-id"[^>]*>\s*{grouped}{credential.credential_id[8:]}\s*<', html
    )
    assert re.search(r'id="countdown"[^>]*>\s*30\s*<', html)
    assert 'class="qr"' in html


def test_should_answer_404_for_the_practice_app_of_an_unknown_credential(client):
    assert client.get("/sandbox/vip-access?credential=SYMC00000000").status_code == 404


@pytest.mark.parametrize("credential_id", ["SYMC00000000", "nope", "SYMC%2E%2E", "1234567890"])
def test_should_answer_404_json_for_an_unknown_credential(client, credential_id):
    response = client.get(f"/sandbox/api/otp/{credential_id}")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert "code" not in response.get_json()


def test_should_not_give_codes_of_credentials_that_are_not_the_sandbox_s(client, app, clock):
    with app.app_context():
        cipher = app.extensions["seed_cipher"]
        secret = pyotp.random_base32(32)
        db.session.add(
            OathCredential(
                credential_id="SYMC55555555",
                sealed_secret=cipher.seal(secret, "SYMC55555555"),
                source="import",
                created_at=clock(),
            )
        )
        db.session.commit()
    assert client.get("/sandbox/api/otp/SYMC55555555").status_code == 404


def test_should_give_a_new_practice_credential_per_visit(client):
    first = client.get("/sandbox/vip-access")
    second = client.get("/sandbox/vip-access")
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] != second.headers["Location"]
    assert "credential=SYMC" in first.headers["Location"]


# --- Sandbox off -----------------------------------------------------------------------------


@pytest.fixture
def sandbox_off(make_app):
    return make_app(WIZARD_SANDBOX="0")


@pytest.mark.parametrize(
    "method, url",
    [
        ("GET", "/sandbox/vip-access"),
        ("GET", "/sandbox/vip-access?credential=SYMC12345678"),
        ("GET", "/sandbox/vip-access/code?credential=SYMC12345678"),
        ("GET", "/sandbox/api/otp/SYMC12345678"),
    ],
)
def test_should_hide_the_sandbox_when_it_is_off(sandbox_off, csrf_token, method, url):
    assert sandbox_off.config["SANDBOX"] is False
    client = sandbox_off.test_client()
    data = {"csrf_token": csrf_token(client, "/")} if method == "POST" else None
    response = client.open(url, method=method, data=data)
    assert response.status_code == 404


def test_should_not_offer_the_demo_sign_in_when_the_sandbox_is_off(sandbox_off):
    html = sandbox_off.test_client().get("/").get_data(as_text=True)
    assert "/sandbox/" not in html
    assert "1234567893" not in html


@pytest.mark.parametrize(
    "args",
    [
        ["sandbox", "seed"],
        ["sandbox", "issue"],
        ["sandbox", "issue", "--kind", "onespan"],
        ["sandbox", "otp", "SYMC12345678"],
        ["sandbox", "otp", "SYMC12345678", "--at", "0"],
    ],
)
def test_should_refuse_sandbox_commands_when_the_sandbox_is_off(
    sandbox_off, flask_cli, store, args
):
    result = flask_cli(sandbox_off, *args)

    assert result.exit_code == 1
    assert "Sandbox mode is off" in result.output
    assert "WIZARD_SANDBOX=1" in result.output
    assert "Traceback" not in result.output


def test_should_change_nothing_when_a_sandbox_command_is_refused(sandbox_off, flask_cli):
    flask_cli(sandbox_off, "sandbox", "seed")
    flask_cli(sandbox_off, "sandbox", "issue")
    with sandbox_off.app_context():
        assert db.session.scalar(select(func.count(Prescriber.id))) == 0
        assert db.session.scalar(select(func.count(OathCredential.id))) == 0


def test_should_run_the_sandbox_seed_from_the_environment_setting(make_app, flask_cli):
    app = make_app(WIZARD_SANDBOX="1")
    result = flask_cli(app, "sandbox", "seed")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["npi"] == "1234567893"


# --- the sign-in code page (issue 14) --------------------------------------------------------


def test_should_link_the_code_step_to_the_practice_app_of_each_active_token(client, runner):
    from signing import passphrase_step

    demo = run_json(runner, "sandbox", "seed")
    active = next(t for t in demo["tokens"] if t["status"] == "Active")
    inactive = next(t for t in demo["tokens"] if t["status"] == "Inactive")
    assert passphrase_step(client, demo["npi"], demo["passphrase"]).status_code == 303
    html = client.get("/sign-in/code").get_data(as_text=True)
    assert f"/sandbox/vip-access?credential={active['credential_id']}" in html
    assert f"Practice app of “{active['nickname']}”" in html
    assert inactive["credential_id"] not in html, "only tokens that can sign in"


def test_should_not_link_the_code_step_to_a_practice_app_outside_the_sandbox(app, client, account):
    from signing import passphrase_step

    app.config["SANDBOX"] = False  # the account's token came from the sandbox; now it is off
    assert passphrase_step(client, account.npi, account.passphrase).status_code == 303
    html = client.get("/sign-in/code").get_data(as_text=True)
    assert "/sandbox/" not in html
    assert "Practice app" not in html
