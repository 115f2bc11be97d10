"""The practice app pages poll every second from a tab of the prescriber's own browser: they
must never write the session, or a poll that began before a wizard step's post would put the
old progress back when it ends (issue 10: with VIP each poll waits for the stand-in)."""

from __future__ import annotations

from sqlalchemy import text

from wizard.extensions import db


def stored_sessions(app) -> list[tuple]:
    with app.app_context():
        return list(db.session.execute(text("SELECT data, expiry FROM server_sessions")))


def test_cant_overwrite_the_wizards_progress_from_the_practice_app(app, client, demo, enrol):
    credential = enrol.reach("security-code")
    before = stored_sessions(app)

    shown = client.get(f"/sandbox/api/otp/{credential.credential_id}")
    fragment = client.get(f"/sandbox/vip-access/code?credential={credential.credential_id}")
    page = client.get(f"/sandbox/vip-access?credential={credential.credential_id}")

    assert (shown.status_code, fragment.status_code, page.status_code) == (200, 200, 200)
    assert stored_sessions(app) == before


def test_should_still_keep_the_session_of_a_wizard_page(app, client, demo):
    before = stored_sessions(app)

    client.get("/enroll/get-app")

    assert stored_sessions(app) != before
