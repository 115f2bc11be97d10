"""Issue 12, the sandbox API for test suites: fresh prescribers, practice credentials, codes
not used yet, help-desk agents, and what each of them lets a test suite do in the wizard.

The errors, the protection without CSRF tokens, the sandbox-off case and the rate limit are in
test_sandbox_api_security.py; the OpenAPI document in test_sandbox_api_schema.py; the demo
reset in test_sandbox_reset.py.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
from signing import post
from sqlalchemy import select
from support.http import HttpClient, serve

from wizard.domain.identifiers import is_valid_dea, is_valid_npi
from wizard.extensions import db
from wizard.services import helpdesk, sandbox_accounts
from wizard.store.models import (
    AuditEvent,
    HelpdeskAgent,
    OathCredential,
    Prescriber,
    SandboxAccount,
    Token,
)

API = "/sandbox/api"
SHAPES = {
    "vip-app": re.compile(r"SYMC\d{8}"),
    "onespan": re.compile(r"\d{10}"),
    "symantec-hard": re.compile(r"FT\d{8}"),
}


def new_prescriber(client, **body) -> dict:
    response = client.post(f"{API}/prescribers", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fresh(client, credential_id: str) -> str:
    response = client.get(f"{API}/otp/{credential_id}?fresh=1")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["code"]


def token_id(app, credential_id: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Token.id).where(Token.credential_id == credential_id))


def sign_in(app, made: dict, code: str, credential_id: str | None = None):
    """A new browser signs in as the prescriber the API made; the code step's response."""
    browser = app.test_client()
    credential_id = credential_id or made["tokens"][0]["credential_id"]
    response = post(browser, "/sign-in", {"npi": made["npi"], "passphrase": made["passphrase"]})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return post(browser, "/sign-in/code", {"token": token_id(app, credential_id), "code": code})


@pytest.fixture
def slept(app, clock) -> list[float]:
    """The waits of fresh codes, spent on the test clock instead of the wall clock."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    app.config["SANDBOX_SLEEP"] = sleep
    return waits


# --- POST /sandbox/api/prescribers -------------------------------------------------------------


def test_should_make_a_prescriber_with_a_valid_npi_a_grant_and_one_active_practice_token(
    client, app
):
    made = new_prescriber(client)

    assert is_valid_npi(made["npi"]) and made["npi"] != "1234567893"
    assert len(made["passphrase"]) >= 12
    assert made["name"].startswith("Dr. ")
    assert made["organization"]["status"] == "ACTIVE"
    assert is_valid_dea(made["organization"]["dea_number"])
    [token] = made["tokens"]
    assert token["status"] == "Active" and token["kind"] == "vip-app"
    assert SHAPES["vip-app"].fullmatch(token["credential_id"])
    with app.app_context():
        prescriber = db.session.scalar(select(Prescriber).where(Prescriber.npi == made["npi"]))
        assert [t.credential_id for t in prescriber.tokens] == [token["credential_id"]]
        assert db.session.scalar(
            select(SandboxAccount).where(SandboxAccount.prescriber_id == prescriber.id)
        )


def test_should_let_the_prescriber_sign_in_with_what_the_api_answered(client, app):
    made = new_prescriber(client)
    token = made["tokens"][0]

    response = sign_in(app, made, fresh(client, token["credential_id"]))

    assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize("kind", ["onespan", "symantec-hard"])
def test_should_give_the_prescriber_a_key_fob_when_asked(client, app, kind):
    made = new_prescriber(client, token=kind)

    [token] = made["tokens"]
    assert token["kind"] == kind and SHAPES[kind].fullmatch(token["credential_id"])
    assert sign_in(app, made, fresh(client, token["credential_id"])).status_code == 303


def test_should_make_a_prescriber_without_a_token_when_asked_for_none(client):
    assert new_prescriber(client, token="none")["tokens"] == []


def test_should_give_every_caller_a_prescriber_of_its_own(client):
    made = [new_prescriber(client) for _ in range(5)]

    assert len({m["npi"] for m in made}) == 5
    assert len({m["passphrase"] for m in made}) == 5
    assert len({m["tokens"][0]["credential_id"] for m in made}) == 5


def test_should_draw_another_npi_when_the_one_drawn_is_taken(client, monkeypatch):
    first = new_prescriber(client)
    drawn = iter([first["npi"], first["npi"], "1245319599"])
    monkeypatch.setattr(sandbox_accounts, "_random_npi", lambda: next(drawn))

    assert new_prescriber(client)["npi"] == "1245319599"


def test_20_prescribers_made_at_once_never_collide(make_app):
    app = make_app()
    with serve(app) as url, ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(lambda _: HttpClient(url).post_json(f"{API}/prescribers"), range(20))
        )

    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.get_json()["npi"] for answer in answers}) == 20
    with app.app_context():
        assert len(db.session.scalars(select(Prescriber.npi)).all()) == 20


# --- POST /sandbox/api/credentials -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["vip-app", "onespan", "symantec-hard"])
def test_should_issue_a_practice_credential_bound_to_no_one(client, store, kind):
    response = client.post(f"{API}/credentials", json={"kind": kind})

    assert response.status_code == 201
    issued = response.get_json()
    assert issued["kind"] == kind and SHAPES[kind].fullmatch(issued["credential_id"])
    assert store.tokens(issued["credential_id"]) == []
    assert store.count(OathCredential, OathCredential.credential_id == issued["credential_id"])


# --- GET /sandbox/api/otp/<credential_id> ------------------------------------------------------


def test_should_give_the_current_code_at_once_when_it_was_not_used(client, clock, slept):
    issued = client.post(f"{API}/credentials", json={"kind": "vip-app"}).get_json()
    now = client.get(f"{API}/otp/{issued['credential_id']}").get_json()

    assert fresh(client, issued["credential_id"]) == now["code"]
    assert slept == []


@pytest.mark.parametrize("into_step", [0, 12, 29])
def test_should_wait_for_the_next_time_step_when_the_current_code_was_used(
    client, app, clock, slept, into_step
):
    made = new_prescriber(client)
    credential_id = made["tokens"][0]["credential_id"]
    clock.advance(into_step)
    used = fresh(client, credential_id)
    assert sign_in(app, made, used).status_code == 303

    again = fresh(client, credential_id)

    assert len(slept) == 1 and 30 - into_step < slept[0] <= 30 - into_step + 0.1
    assert sign_in(app, made, again).status_code == 303  # not refused as reused


def test_should_keep_giving_the_current_code_without_fresh(client, app, slept):
    made = new_prescriber(client)
    credential_id = made["tokens"][0]["credential_id"]
    used = fresh(client, credential_id)
    sign_in(app, made, used)

    assert client.get(f"{API}/otp/{credential_id}").get_json()["code"] == used
    assert slept == []


def test_should_give_a_key_fobs_next_unused_press_at_once(client, app, slept):
    made = new_prescriber(client, token="symantec-hard")
    credential_id = made["tokens"][0]["credential_id"]
    with app.app_context():
        row = db.session.scalar(
            select(OathCredential).where(OathCredential.credential_id == credential_id)
        )
        secret = app.extensions["token_authority"].local.secret_of(row).secret
    hotp = pyotp.HOTP(secret)

    first = fresh(client, credential_id)
    assert first == hotp.at(0)
    assert sign_in(app, made, first).status_code == 303
    assert fresh(client, credential_id) == hotp.at(1)
    assert client.get(f"{API}/otp/{credential_id}?presses=3").get_json()["code"] == hotp.at(3)
    assert slept == []


# --- Help-desk agents ---------------------------------------------------------------------------


def test_should_make_a_help_desk_agent_who_can_sign_in(client, app, slept):
    response = client.post(f"{API}/agents", json={})
    assert response.status_code == 201
    agent = response.get_json()
    assert agent["otpauth_uri"].startswith("otpauth://totp/")
    code = client.get(f"{API}/agents/{agent['username']}/otp?fresh=1").get_json()["code"]
    assert code == pyotp.TOTP(agent["totp_secret"]).at(app.config["CLOCK"]())

    browser = app.test_client()
    signed_in = post(
        browser,
        "/helpdesk/sign-in",
        {"username": agent["username"], "passphrase": agent["passphrase"], "code": code},
    )

    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/helpdesk"
    again = client.get(f"{API}/agents/{agent['username']}/otp?fresh=1").get_json()["code"]
    assert len(slept) == 1 and again != code


def test_should_give_codes_only_of_agents_the_api_made(client, app, clock):
    with app.app_context():
        helpdesk.add("jsmith", clock())

    for username in ("jsmith", "nobody", "NOT-A-USERNAME!"):
        response = client.get(f"{API}/agents/{username}/otp")
        assert response.status_code == 404
        assert response.get_json()["error"] == "unknown-agent"


def test_should_make_agents_that_are_ready_without_a_setup_link(client, app):
    agent = client.post(f"{API}/agents", json={}).get_json()
    with app.app_context():
        row = db.session.scalar(
            select(HelpdeskAgent).where(HelpdeskAgent.username == agent["username"])
        )
        assert row.setup_hash is None and row.passphrase_hash and row.sealed_totp


# --- Audit --------------------------------------------------------------------------------------


def test_should_audit_every_call_without_a_code_passphrase_or_secret(client, app):
    made = new_prescriber(client)
    issued = client.post(f"{API}/credentials", json={"kind": "onespan"}).get_json()
    code = fresh(client, issued["credential_id"])
    agent = client.post(f"{API}/agents", json={}).get_json()
    agent_code = client.get(f"{API}/agents/{agent['username']}/otp").get_json()["code"]
    client.get(f"{API}/otp/SYMC00000000")
    client.post(f"{API}/reset", json={})

    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        by_api = [(e.action, e.outcome) for e in events if e.actor == "sandbox-api"]
        everything = " ".join(f"{e.detail} {e.actor}" for e in events)
    for expected in [
        ("sandbox.prescriber-create", "success"),
        ("token.add", "success"),
        ("sandbox.issue", "success"),
        ("sandbox.code-read", "success"),
        ("sandbox.agent-create", "success"),
        ("sandbox.agent-code-read", "success"),
        ("sandbox.code-read", "unknown-credential"),
        ("sandbox.reset", "success"),
    ]:
        assert expected in by_api, expected
    for secret in (code, agent_code, made["passphrase"], agent["passphrase"], agent["totp_secret"]):
        assert secret not in everything


def test_should_never_log_a_code_or_passphrase(client, caplog):
    caplog.set_level("DEBUG")
    made = new_prescriber(client)
    code = fresh(client, made["tokens"][0]["credential_id"])
    agent = client.post(f"{API}/agents", json={}).get_json()

    for secret in (code, made["passphrase"], agent["passphrase"], agent["totp_secret"]):
        assert secret not in caplog.text


def test_fresh_codes_waiting_at_once_hold_no_database_connection(make_app, clock):
    """Twenty tests waiting for the next step at once must not exhaust the connection pool."""
    app = make_app()
    release = threading.Event()
    app.config["SANDBOX_SLEEP"] = lambda seconds: release.wait(30)
    client = app.test_client()
    made = new_prescriber(client)
    credential_id = made["tokens"][0]["credential_id"]
    sign_in(app, made, fresh(client, credential_id))

    with ThreadPoolExecutor(max_workers=20) as pool:
        waiting = [
            pool.submit(app.test_client().get, f"{API}/otp/{credential_id}?fresh=1")
            for _ in range(20)
        ]
        # While all twenty wait, the app still answers.
        assert app.test_client().get("/healthz").status_code == 200
        release.set()
        assert {w.result().status_code for w in waiting} == {200}
