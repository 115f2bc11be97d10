"""Issue 12: POST /sandbox/api/reset (and `flask --app wizard sandbox reset`) put the demo
prescriber back as `sandbox seed` made it, and touch nothing else."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select
from support.http import HttpClient, serve

from wizard.domain.tokens import Status
from wizard.extensions import db
from wizard.services import accounts, audit, enrollment, sandbox, sandbox_accounts, tokens
from wizard.services.enrollment import Availability
from wizard.store.models import AuditEvent, OrganisationGrant, Prescriber, SignInThrottle

API = "/sandbox/api"
SEEDED = [("iPhone token app", "Active"), ("Old Android", "Inactive")]


def demo_row() -> Prescriber:
    return db.session.scalar(select(Prescriber).where(Prescriber.npi == sandbox.DEMO_NPI))


def live_tokens(prescriber: Prescriber) -> list[tuple[str, str]]:
    return [(t.nickname, t.status) for t in prescriber.tokens if t.status != Status.DELETED]


@pytest.fixture
def used_demo(app, clock, demo_seeded) -> dict:
    """The demo after a busy day of test suites: more tokens, one lost, one disabled, a new
    passphrase, a lock, a reset code, a declined backup and a second grant."""
    with app.app_context():
        demo = demo_row()
        for kind in ("vip-app", "onespan"):
            sandbox_accounts.add_practice_token(demo, kind, clock())
        db.session.commit()
        first, second, third, _fourth = [t for t in demo.tokens if t.status != Status.DELETED]
        tokens.suspend(demo, first, clock())
        tokens.finalize_loss(demo, first, clock(), tokens.Finality.CONFIRMED)
        tokens.disable(demo, third, clock())
        accounts.set_passphrase(demo, "a passphrase of a test suite", clock(), "test")
        accounts.issue_reset_code(demo.npi, clock())
        demo.sign_in_failures = 7
        db.session.add(
            SignInThrottle(
                account=f"prescriber:{demo.npi}",
                client="192.0.2.1",
                failures=7,
                locked_until=clock() + timedelta(minutes=15),
                updated_at=clock(),
            )
        )
        demo.code_failures = 3
        demo.backup_decision = "declined"
        demo.backup_decided_at = clock()
        demo.name = "Dr. Renamed"
        demo.grants.append(
            OrganisationGrant(organisation="Other", dea_number="AB1234563", status="ACTIVE")
        )
        db.session.commit()
        return {"lost": first.credential_id, "second": second.credential_id}


def test_should_put_the_demo_back_as_the_seed_made_it(client, app, used_demo, clock):
    response = client.post(f"{API}/reset", json={})

    assert response.status_code == 200
    answer = response.get_json()
    assert answer["removed_tokens"] == 4
    demo = answer["demo"]
    assert (demo["npi"], demo["passphrase"]) == (sandbox.DEMO_NPI, sandbox.DEMO_PASSPHRASE)
    assert [(t["name"], t["status"]) for t in demo["tokens"]] == SEEDED
    assert demo["organization"] == {
        "name": "CalMHSA",
        "dea_number": "AB1234563",
        "status": "ACTIVE",
    }
    with app.app_context():
        row = demo_row()
        assert live_tokens(row) == SEEDED
        assert row.name == sandbox.DEMO_NAME and len(row.grants) == 1
        assert row.sign_in_failures == 0
        assert not db.session.scalars(
            select(SignInThrottle).where(SignInThrottle.account == f"prescriber:{row.npi}")
        ).all()
        assert (row.code_failures, row.reset_code_hash, row.backup_decision) == (0, None, "")
        attempt = accounts.check_passphrase(
            sandbox.DEMO_NPI, sandbox.DEMO_PASSPHRASE, clock(), "test"
        )
        assert attempt.ok


def test_should_give_the_demo_new_practice_tokens_whose_codes_work(client, app, used_demo):
    demo = client.post(f"{API}/reset", json={}).get_json()["demo"]
    active = demo["tokens"][0]

    assert active["credential_id"] not in used_demo.values()
    code = client.get(f"{API}/otp/{active['credential_id']}?fresh=1").get_json()["code"]
    with app.app_context():
        row = demo_row()
        token = next(t for t in row.tokens if t.credential_id == active["credential_id"])
        assert accounts.check_token_code(row, token.id, code, app.config["CLOCK"](), "t").ok


def test_should_keep_a_lost_demo_tokens_credential_from_ever_coming_back(client, app, used_demo):
    client.post(f"{API}/reset", json={})

    with app.app_context():
        assert enrollment.availability(used_demo["lost"]) is Availability.UNKNOWN
        # A token merely deleted by the reset may be registered again, as after any deletion.
        assert enrollment.availability(used_demo["second"]) is Availability.FREE


def test_should_leave_other_prescribers_credentials_agents_and_the_audit_log_alone(
    client, app, used_demo
):
    made = client.post(f"{API}/prescribers", json={}).get_json()
    issued = client.post(f"{API}/credentials", json={"kind": "onespan"}).get_json()
    agent = client.post(f"{API}/agents", json={}).get_json()
    with app.app_context():
        events_before = audit.verify_chain()[0]

    client.post(f"{API}/reset", json={})

    with app.app_context():
        other = db.session.scalar(select(Prescriber).where(Prescriber.npi == made["npi"]))
        assert [(t.credential_id, t.status) for t in other.tokens] == [
            (made["tokens"][0]["credential_id"], "Active")
        ]
        checked, broken = audit.verify_chain()
        assert broken is None and checked > events_before
    assert client.get(f"{API}/otp/{issued['credential_id']}").status_code == 200
    assert client.get(f"{API}/agents/{agent['username']}/otp").status_code == 200


def test_should_seed_the_demo_when_it_was_never_made(client, app):
    response = client.post(f"{API}/reset", json={})

    assert response.status_code == 200
    assert response.get_json()["removed_tokens"] == 0
    with app.app_context():
        assert live_tokens(demo_row()) == SEEDED


def test_should_reset_again_and_again(client, app, demo_seeded):
    for _ in range(3):
        assert client.post(f"{API}/reset", json={}).status_code == 200
    with app.app_context():
        assert live_tokens(demo_row()) == SEEDED
        assert audit.verify_chain()[1] is None


@pytest.mark.parametrize("seeded", [True, False])
def test_four_resets_at_once_leave_the_demo_as_one_reset_would(make_app, clock, seeded):
    app = make_app()
    if seeded:
        with app.app_context():
            sandbox.seed_demo(clock())
    with serve(app) as url, ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: HttpClient(url).post_json(f"{API}/reset"), range(4)))
    assert {answer.status_code for answer in answers} == {200}
    with app.app_context():
        assert live_tokens(demo_row()) == SEEDED
        assert audit.verify_chain()[1] is None


def test_should_reset_from_the_command_line_too(runner, app, used_demo):
    result = runner.invoke(args=["sandbox", "reset"])

    assert result.exit_code == 0, result.output
    assert "4 tokens marked Deleted" in result.output
    with app.app_context():
        assert live_tokens(demo_row()) == SEEDED
        reset = select(AuditEvent).where(AuditEvent.action == "sandbox.reset")
        actors = {e.actor for e in db.session.scalars(reset)}
    assert actors == {"command-line"}, "the command line is not the sandbox API"


def test_should_sign_out_a_browser_signed_in_as_the_demo(app, client, demo):
    """A browser still signed in would show the demo's old tokens and account."""
    assert client.get("/tokens").status_code == 200

    app.test_client().post(f"{API}/reset", json={})

    after = client.get("/tokens")
    assert after.status_code in (302, 303)
    assert after.headers["Location"].startswith("/sign-in")
