"""Sign in (issue 4): NPI and passphrase, then a code from an Active token; the lock, the
per-address throttle, the session (rotation, sign-out, idle timeout), next=, and the dashboard."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from signing import (
    NOT_SIGNED_IN,
    REUSED_CODE,
    WRONG_CODE,
    audit_events,
    code_step,
    passphrase_step,
    pause,
    post,
    prescriber,
    sign_in,
)
from support.accounts import unused_npi
from support.csrf import csrf_token, session_cookie
from support.pages import page_text

from wizard.cli import create_schema
from wizard.extensions import db
from wizard.store.crypto import SeedCipher
from wizard.store.models import OrganisationGrant, SupportSession

WRONG_PASSPHRASE = "not the right passphrase"
CSRF_TOKEN = re.compile(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}")


def wrong_code(token, at) -> str:
    """Six digits that match none of the codes the token shows around at."""
    near = {token.code(at=at + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def signed_in_as(client) -> str | None:
    """The name in the page header, or None when the home page is the signed-out welcome."""
    found = re.search(r"Signed in as ([^<]+)<", client.get("/").get_data(as_text=True))
    return found.group(1).strip() if found else None


# --- The happy path --------------------------------------------------------------------------


def test_should_sign_in_with_npi_passphrase_and_a_code_from_an_active_token(
    app, client, account, clock
):
    page = client.get("/sign-in")
    assert page.status_code == 200
    assert "Sign in with your NPI and EPCS passphrase" in page_text(page)
    links = page.get_data(as_text=True)
    for link in ('href="/forgot-passphrase"', 'href="/lost-token"', 'href="/start"'):
        assert link in links

    first = passphrase_step(client, account.npi, account.passphrase)
    assert first.status_code == 303
    assert first.headers["Location"] == "/sign-in/code"

    code_page = client.get("/sign-in/code")
    assert code_page.status_code == 200
    token = account.token()
    assert f"{token.nickname} ({token.credential_id})" in page_text(code_page)
    assert "Show clear text" in page_text(code_page)

    second = code_step(client, token.id, token.code(at=clock()))
    assert second.status_code == 303
    assert second.headers["Location"] == "/"
    assert signed_in_as(client) == account.name

    [event] = audit_events(app, "sign-in.code")
    assert (event.outcome, event.actor, event.token_id) == (
        "success",
        f"prescriber:{account.npi}",
        token.id,
    )
    assert event.client_address == "127.0.0.1"


def test_should_accept_the_npi_typed_with_spaces_and_dashes(client, account, clock):
    typed = f"{account.npi[:3]} {account.npi[3:6]}-{account.npi[6:]}"
    response = passphrase_step(client, typed, account.passphrase)
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in/code"


def test_should_show_the_code_in_clear_text_on_request(client, account):
    passphrase_step(client, account.npi, account.passphrase)
    masked = client.get("/sign-in/code").get_data(as_text=True)
    clear = client.get("/sign-in/code?clear=1").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="code"[^>]*type="password"', masked)
    assert re.search(r'<input[^>]*id="code"[^>]*type="text"', clear)
    assert "Hide clear text" in clear


def test_signed_in_prescriber_is_sent_from_sign_in_to_the_dashboard(client, account, clock):
    sign_in(client, account, clock())
    response = client.get("/sign-in")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- What a failure says ---------------------------------------------------------------------


def test_cant_tell_an_unknown_npi_from_a_wrong_passphrase(app, client, account):
    unknown_npi = unused_npi()
    wrong = passphrase_step(client, account.npi, WRONG_PASSPHRASE)
    unknown = passphrase_step(client, unknown_npi, account.passphrase)

    assert wrong.status_code == unknown.status_code == 422
    assert NOT_SIGNED_IN in page_text(wrong)
    # Byte for byte the same page, once the NPI each one typed back is set aside (and the
    # CSRF token, signed with the time: a second may pass between the two).
    same_wrong = CSRF_TOKEN.sub("", wrong.get_data(as_text=True).replace(account.npi, "NPI"))
    same_unknown = CSRF_TOKEN.sub("", unknown.get_data(as_text=True).replace(unknown_npi, "NPI"))
    assert same_wrong == same_unknown

    outcomes = [(e.action, e.outcome) for e in audit_events(app)]
    assert ("sign-in.passphrase", "wrong-passphrase") in outcomes
    assert ("sign-in.passphrase", "unknown-npi") in outcomes


def test_a_malformed_npi_gets_a_format_hint_and_touches_no_account(app, client, account):
    """Not the sign-in failure: an NPI that fails its check digit can belong to no one, so
    saying how an NPI looks reveals nothing about which accounts exist."""
    response = passphrase_step(client, account.npi[:-1] + str((int(account.npi[-1]) + 1) % 10), "x")
    assert response.status_code == 422
    assert "its last digit (the check digit) does not match the other nine" in page_text(response)
    assert NOT_SIGNED_IN not in page_text(response)
    assert audit_events(app, "sign-in.passphrase") == []
    assert prescriber(app, account.id).sign_in_failures == 0


@pytest.mark.parametrize(
    ("npi", "passphrase", "message"),
    [
        ("", "something long enough", "Enter your NPI (10 digits)"),
        ("1234567893", "", "Enter your passphrase"),
    ],
)
def test_sign_in_asks_for_missing_details(client, npi, passphrase, message):
    response = passphrase_step(client, npi, passphrase)
    assert response.status_code == 422
    assert message in page_text(response)


def support_problems(app) -> list[str]:
    with app.app_context():
        return [row.last_error for row in db.session.query(SupportSession)]


def test_an_empty_sign_in_form_is_not_shown_as_a_failed_attempt(app, client, account):
    """Nothing was checked: the help desk is not told "Signing in failed" and the page does not
    warn about pauses after failed attempts."""
    response = passphrase_step(client, "", "")
    assert response.status_code == 422
    assert "failed attempts in a row" not in page_text(response)
    assert support_problems(app) == ["sign-in-incomplete"]
    assert prescriber(app, account.id).sign_in_failures == 0


def test_a_wrong_passphrase_warns_about_pauses_and_tells_the_help_desk(app, client, account):
    response = passphrase_step(client, account.npi, WRONG_PASSPHRASE)
    assert "After 5 failed attempts in a row" in page_text(response)
    assert support_problems(app) == ["sign-in-failed"]


def test_a_wrong_code_is_refused_and_counted(app, client, account, clock):
    passphrase_step(client, account.npi, account.passphrase)
    response = code_step(client, account.token().id, wrong_code(account.token(), clock()))
    assert response.status_code == 422
    assert WRONG_CODE in page_text(response)
    assert signed_in_as(client) is None
    assert prescriber(app, account.id).sign_in_failures == 1
    [event] = audit_events(app, "sign-in.code")
    assert (event.outcome, event.token_id) == ("wrong", account.token().id)


def test_a_code_used_once_is_refused_as_reused(app, client, account, clock):
    code = account.token().code(at=clock())
    sign_in(client, account, clock())  # uses the code of this 30-second step

    second_browser = app.test_client()
    passphrase_step(second_browser, account.npi, account.passphrase)
    response = code_step(second_browser, account.token().id, code)
    assert response.status_code == 422
    assert REUSED_CODE in page_text(response)
    assert signed_in_as(second_browser) is None


def test_the_code_of_the_next_step_works_after_30_seconds(client, account, clock):
    sign_in(client, account, clock())
    client.post("/sign-out", data={"csrf_token": csrf_token(client)})
    clock.advance(30)
    sign_in(client, account, clock())
    assert signed_in_as(client) == account.name


def test_cant_sign_in_with_another_prescribers_token(app, client, account, make_account, clock):
    other = make_account()
    passphrase_step(client, account.npi, account.passphrase)
    response = code_step(client, other.token().id, other.token().code(at=clock()))
    assert response.status_code == 422
    assert "Not a valid choice" in page_text(response)
    assert signed_in_as(client) is None
    assert audit_events(app, "sign-in.code") == []


@pytest.mark.parametrize("status", ["Inactive", "Lost", "Deleted"])
def test_cant_sign_in_with_a_token_that_is_not_active(client, make_account, clock, status):
    account = make_account(("Active", status))
    mine = account.token(status)
    passphrase_step(client, account.npi, account.passphrase)
    page = page_text(client.get("/sign-in/code"))
    assert mine.credential_id not in page  # not offered
    response = code_step(client, mine.id, mine.code(at=clock()))
    assert response.status_code == 422
    assert "Not a valid choice" in page_text(response)
    assert signed_in_as(client) is None


def test_a_prescriber_without_an_active_token_is_told_what_to_do(app, client, make_account):
    app.config["HELP_DESK_TEXT"] = "Call Pat at the EPCS desk on 555-0100."
    account = make_account(("Lost", "Inactive"))
    passphrase_step(client, account.npi, account.passphrase)
    page = page_text(client.get("/sign-in/code"))
    assert "You have no Active token, so you cannot sign in." in page
    assert "Call Pat at the EPCS desk on 555-0100." in page


# --- The account lock ------------------------------------------------------------------------


def test_five_failures_lock_the_account_for_15_minutes(app, client, account, clock):
    token = account.token()
    for _ in range(3):
        assert passphrase_step(client, account.npi, WRONG_PASSPHRASE).status_code == 422
    for _ in range(2):
        assert passphrase_step(client, account.npi, account.passphrase).status_code == 303
        response = code_step(client, token.id, wrong_code(token, clock()))
        assert response.status_code == 422
    # The fifth failure was a code: the code page says the pause and until when.
    assert "Signing in is paused until 15:15 UTC" in page_text(response)

    assert prescriber(app, account.id).sign_in_failures == 5
    locked = pause(app, f"prescriber:{account.npi}")
    assert locked.failures == 5
    assert locked.locked_until == clock() + timedelta(minutes=15)
    [lock] = audit_events(app, "sign_in.lock")
    assert (lock.outcome, lock.prescriber_id) == ("locked", account.id)

    # The sixth attempt, with the right passphrase, is refused like any failure...
    clock.advance(minutes=14, seconds=59)
    refused = passphrase_step(client, account.npi, account.passphrase)
    assert refused.status_code == 422
    assert NOT_SIGNED_IN in page_text(refused)
    assert audit_events(app, "sign-in.passphrase")[-1].outcome == "locked"
    # ... and does not lengthen the lock.
    assert pause(app, f"prescriber:{account.npi}").locked_until == locked.locked_until

    clock.advance(seconds=1)  # 15 minutes after the lock
    sign_in(client, account, clock())
    assert signed_in_as(client) == account.name
    assert prescriber(app, account.id).sign_in_failures == 0
    cleared = pause(app, f"prescriber:{account.npi}")
    assert (cleared.failures, cleared.locked_until) == (0, None)


def test_a_lock_holds_at_the_code_step_too(app, client, account, clock):
    token = account.token()
    passphrase_step(client, account.npi, account.passphrase)  # before the lock
    other_browser = app.test_client()
    for _ in range(5):
        passphrase_step(other_browser, account.npi, WRONG_PASSPHRASE)
    response = code_step(client, token.id, token.code(at=clock()))
    assert response.status_code == 422
    assert "Signing in is paused until 15:15 UTC" in page_text(response)
    assert signed_in_as(client) is None


def test_every_failure_and_the_lock_are_audited(app, client, account, clock):
    token = account.token()
    passphrase_step(client, account.npi, WRONG_PASSPHRASE)
    passphrase_step(client, account.npi, account.passphrase)
    code_step(client, token.id, wrong_code(token, clock()))
    for _ in range(3):
        passphrase_step(client, account.npi, WRONG_PASSPHRASE)

    events = [
        (e.action, e.outcome, e.actor, e.client_address)
        for e in audit_events(app, prescriber_id=account.id)
    ]
    actor = f"prescriber:{account.npi}"
    assert events == [
        ("sign-in.passphrase", "wrong-passphrase", actor, "127.0.0.1"),
        ("sign-in.code", "wrong", actor, "127.0.0.1"),
        ("sign-in.passphrase", "wrong-passphrase", actor, "127.0.0.1"),
        ("sign-in.passphrase", "wrong-passphrase", actor, "127.0.0.1"),
        ("sign-in.passphrase", "wrong-passphrase", actor, "127.0.0.1"),
        ("sign_in.lock", "locked", actor, "127.0.0.1"),
    ]


def test_further_failures_after_a_lock_lock_for_longer(app, client, account, clock):
    name = f"prescriber:{account.npi}"
    for _ in range(5):
        passphrase_step(client, account.npi, WRONG_PASSPHRASE)
    locks = [pause(app, name).locked_until - clock()]
    for _ in range(8):
        clock.now = pause(app, name).locked_until  # the lock has ended
        passphrase_step(client, account.npi, WRONG_PASSPHRASE)
        locks.append(pause(app, name).locked_until - clock())

    minutes = [lock.total_seconds() / 60 for lock in locks]
    # Doubling, at most a day: one address gets about one guess a day at the longest.
    assert minutes == [15, 30, 60, 120, 240, 480, 960, 1440, 1440]
    assert len(audit_events(app, "sign_in.lock")) == 9


def test_past_100_failures_only_a_passphrase_reset_unlocks(app, client, runner, account, clock):
    with app.app_context():
        db.session.execute(
            db.text("UPDATE prescribers SET sign_in_failures = 99 WHERE id = :id"),
            {"id": account.id},
        )
        db.session.commit()
    passphrase_step(client, account.npi, WRONG_PASSPHRASE)  # the 100th
    assert prescriber(app, account.id).sign_in_failures == 100

    clock.advance(hours=3)  # long past any timed lock
    assert passphrase_step(client, account.npi, account.passphrase).status_code == 422
    assert prescriber(app, account.id).sign_in_failures == 100  # no more are counted

    result = runner.invoke(args=["reset-passphrase", "--npi", account.npi])
    reset_code = re.search(r"Reset code: (\S+)", result.output).group(1)
    token = account.token()
    response = post(
        client,
        "/forgot-passphrase",
        {"npi": account.npi, "code": token.code(at=clock()), "reset_code": reset_code},
    )
    assert response.status_code == 303
    new = "a passphrase after the block"
    assert (
        post(client, "/forgot-passphrase/new", {"passphrase": new, "confirm": new}).status_code
        == 303
    )
    assert prescriber(app, account.id).sign_in_failures == 0
    clock.advance(30)
    assert passphrase_step(client, account.npi, new).status_code == 303


def test_a_success_resets_the_failure_count(app, client, account, clock):
    for _ in range(4):
        passphrase_step(client, account.npi, WRONG_PASSPHRASE)
    assert prescriber(app, account.id).sign_in_failures == 4

    sign_in(client, account, clock())
    assert prescriber(app, account.id).sign_in_failures == 0

    client.post("/sign-out", data={"csrf_token": csrf_token(client)})
    for _ in range(4):
        passphrase_step(client, account.npi, WRONG_PASSPHRASE)
    assert pause(app, f"prescriber:{account.npi}").locked_until is None  # 4, not 8
    clock.advance(30)
    sign_in(client, account, clock())


def test_a_correct_passphrase_alone_does_not_reset_the_count(app, client, account):
    for _ in range(4):
        passphrase_step(client, account.npi, WRONG_PASSPHRASE)
    assert passphrase_step(client, account.npi, account.passphrase).status_code == 303
    assert prescriber(app, account.id).sign_in_failures == 4


# --- The per-address throttle ----------------------------------------------------------------


def test_an_address_longer_than_any_ip_is_audited_cut_short_not_refused(app, client, account):
    """What a misconfigured proxy setting lets a client send as its address: the attempt is
    answered as usual on every database (PostgreSQL enforces the column's length)."""
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9, " * 10
    response = passphrase_step(client, account.npi, "not the passphrase at all")

    assert response.status_code == 422
    [event] = audit_events(app, "sign-in.passphrase")
    assert event.client_address == ("203.0.113.9, " * 10)[:64]


def test_sign_in_is_throttled_per_client_address(app, client, account):
    # The limit is read from the config on each request (a callable given to Flask-Limiter).
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert passphrase_step(client, account.npi, WRONG_PASSPHRASE).status_code == 422

    throttled = passphrase_step(client, account.npi, account.passphrase)
    assert throttled.status_code == 429
    assert "Too many attempts" in page_text(throttled)
    assert "Wait a minute, then try again." in page_text(throttled)
    assert "Retry-After" in throttled.headers
    # The throttled attempt never reached the account.
    assert prescriber(app, account.id).sign_in_failures == 3

    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    assert passphrase_step(elsewhere, account.npi, account.passphrase).status_code == 303


def test_the_code_step_shares_the_sign_in_throttle(app, client, account, clock):
    """One allowance per address for every sign-in form: moving on to another form gains
    nothing (the passphrase post counts too)."""
    app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    token = account.token()
    passphrase_step(client, account.npi, account.passphrase)
    for _ in range(2):
        assert code_step(client, token.id, wrong_code(token, clock())).status_code == 422
    assert code_step(client, token.id, token.code(at=clock())).status_code == 429
    assert post(client, "/forgot-passphrase", {"npi": account.npi}).status_code == 429


def test_the_throttle_comes_from_wizard_sign_in_rate_limit(app_factory, tmp_path, clock):
    database_url = f"sqlite:///{tmp_path / 'limited.sqlite3'}"
    limited = app_factory(
        {"TESTING": True, "ARGON2_CHEAP": True, "CLOCK": clock},
        {
            "WIZARD_SANDBOX": "1",
            "WIZARD_DATABASE_URL": database_url,
            "WIZARD_SECRET_KEY": "a-test-secret-key-for-the-throttle",
            "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
            "WIZARD_SIGN_IN_RATE_LIMIT": "2 per minute",
        },
    )
    try:
        with limited.app_context():
            create_schema()
        browser = limited.test_client()
        statuses = [passphrase_step(browser, "1234567893", "no such account").status_code]
        statuses += [passphrase_step(browser, "1234567893", "no such account").status_code]
        statuses += [passphrase_step(browser, "1234567893", "no such account").status_code]
        assert statuses == [422, 422, 429]
    finally:
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()


# --- The session -----------------------------------------------------------------------------


def test_the_session_id_rotates_at_sign_in(app, client, account, clock):
    client.get("/sign-in")
    before = session_cookie(client)
    assert before

    sign_in(client, account, clock())
    after = session_cookie(client)
    assert after and after != before

    # Whoever held the id from before sign-in is not signed in.
    planted = app.test_client()
    planted.set_cookie("wizard_session", before)
    assert signed_in_as(planted) is None
    assert signed_in_as(client) == account.name


def test_sign_out_clears_the_server_session(app, client, account, clock):
    sign_in(client, account, clock())
    cookie = session_cookie(client)
    copy = app.test_client()
    copy.set_cookie("wizard_session", cookie)
    assert signed_in_as(copy) == account.name  # the same session, before sign-out

    assert client.get("/sign-out").status_code == 405  # a link cannot sign anyone out
    response = client.post("/sign-out", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in"
    assert "You are signed out." in page_text(client.get("/sign-in"))

    stale = app.test_client()
    stale.set_cookie("wizard_session", cookie)
    assert signed_in_as(stale) is None
    assert stale.get("/tokens").headers["Location"] == "/sign-in?next=/tokens"


def test_an_idle_session_is_signed_out_and_says_so(client, account, clock):
    sign_in(client, account, clock())
    clock.advance(minutes=10)
    assert client.get("/tokens").status_code == 200  # activity keeps the session alive
    clock.advance(minutes=15)  # exactly the idle limit since the last request
    assert client.get("/tokens").status_code == 200

    clock.advance(minutes=16)  # counted in whole minutes: never early, at most a minute late
    response = client.get("/tokens")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/tokens"
    page = page_text(client.get(response.headers["Location"]))
    assert (
        "You were signed out because there was no activity for 15 minutes. "
        "Sign in again to continue." in page
    )
    assert signed_in_as(client) is None


def test_the_idle_timeout_is_configurable(app, client, account, clock):
    app.config["SESSION_IDLE_MINUTES"] = 5
    sign_in(client, account, clock())
    clock.advance(minutes=6)
    page = page_text(client.get("/"))
    assert "no activity for 5 minutes" in page
    assert signed_in_as(client) is None


def test_the_code_step_expires_after_5_minutes(client, account, clock):
    passphrase_step(client, account.npi, account.passphrase)
    clock.advance(minutes=5)
    assert client.get("/sign-in/code").status_code == 200  # still open at 5:00

    clock.advance(seconds=1)
    token = account.token()
    response = code_step(client, token.id, token.code(at=clock()))
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in"
    assert "Your sign-in took more than 5 minutes, so we stopped it. Start again." in page_text(
        client.get("/sign-in")
    )
    assert signed_in_as(client) is None


def test_the_code_step_needs_the_passphrase_step_first(client):
    response = client.get("/sign-in/code")
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in"


# --- Where sign-in leads ---------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for path in ("/enroll", "/enroll/get-app", "/enroll/name", "/tokens", "/tokens/1/history"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == f"/sign-in?next={path}"


def test_the_enrollment_wizard_has_no_signed_out_shortcut(client):
    response = post(client, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")


def test_sign_in_follows_next_to_a_local_path(client, account, clock):
    redirect = client.get("/enroll")
    query = redirect.headers["Location"].removeprefix("/sign-in")
    assert passphrase_step(client, account.npi, account.passphrase, query).status_code == 303
    token = account.token()
    response = code_step(client, token.id, token.code(at=clock()))
    assert response.status_code == 303
    assert response.headers["Location"] == "/enroll"


def test_sign_in_ignores_a_next_that_leaves_the_site(client, account, clock):
    targets = [
        "https://evil.example/phish",
        "//evil.example/phish",
        "javascript:alert(1)",
        "evil.example/phish",
        "http:/evil.example",
    ]
    token = account.token()
    for target in targets:
        query = "?next=" + quote(target, safe="")
        assert passphrase_step(client, account.npi, account.passphrase, query).status_code == 303
        response = code_step(client, token.id, token.code(at=clock()))
        assert response.status_code == 303, target
        assert response.headers["Location"] == "/", target
        post(client, "/sign-out")
        clock.advance(30)  # a fresh code for the next round


# --- The dashboard ---------------------------------------------------------------------------


def test_dashboard_shows_the_account_grants_and_tokens(app, client, make_account, clock):
    account = make_account(("Active", "Inactive", "Lost", "Deleted"), name="Dr. Sam Grants")
    with app.app_context():
        db.session.add_all(
            [
                OrganisationGrant(
                    prescriber_id=account.id,
                    organisation="CalMHSA",
                    dea_number="AB1234563",
                    status="ACTIVE",
                ),
                OrganisationGrant(
                    prescriber_id=account.id,
                    organisation="County Clinic",
                    dea_number="BJ6125341",
                    status="SUSPENDED",
                ),
            ]
        )
        db.session.commit()
    sign_in(client, account, clock())
    body = client.get("/").get_data(as_text=True)
    text = page_text(client.get("/"))

    assert "<h1" in body and "Dr. Sam Grants</h1>" in body
    assert f"NPI {account.npi}" in text
    assert "Organization DEA number Status" in text
    assert "CalMHSA AB1234563 ACTIVE" in text
    assert "County Clinic BJ6125341 SUSPENDED" in text
    assert "Token name Credential ID Status" in text
    for token in account.tokens:
        shown = f"{token.nickname} {token.credential_id} {token.status}"
        assert (shown in text) == (token.status != "Deleted")
    assert re.search(r'<a class="button[^"]*" href="/tokens">Manage tokens</a>', body)
    assert re.search(r'<a class="button[^"]*" href="/enroll">Add a token</a>', body)
    assert 'href="/lost-token"' in body


def test_dashboard_reminds_about_a_backup_while_fewer_than_two_tokens_are_active(
    client, make_account, clock
):
    account = make_account(("Active", "Inactive"))
    sign_in(client, account, clock())
    page = page_text(client.get("/"))
    assert "You have no backup token." in page
    assert "No organization has granted you access yet." in page


def test_dashboard_has_no_backup_reminder_with_two_active_tokens(client, make_account, clock):
    account = make_account(("Active", "Active"))
    sign_in(client, account, clock())
    assert "You have no backup token." not in page_text(client.get("/"))


def test_signed_out_home_page_is_the_welcome_not_the_dashboard(client, account):
    page = page_text(client.get("/"))
    assert account.npi not in page
    assert "Organisations" not in page
