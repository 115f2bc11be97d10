"""Per-address limits (issue 11): every form that checks a one-time code shares one limit per
client address (the wizard's security code, enabling a token, confirming the last Active
token), the Credential ID step has its own (it tells which IDs are registered), per address
and per prescriber; a help-desk agent's support-code lookups are limited and each is audited
once, never the live panel's polls. The limits come from WIZARD_* settings; the 429 page says
what happened and when to try again.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpdesk_helpers import footer_code, make_agent, sign_in_agent
from signing import at_code_step, audit_events, post, prescriber, sign_in
from sqlalchemy import event
from support.pages import page_text

from wizard.extensions import db, limiter
from wizard.web.limits import no_limit_applies

HOME = "198.51.100.20"
ELSEWHERE = "198.51.100.99"


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = HOME
    return client


@pytest.fixture
def signed_in(client, make_account, clock):
    """A fresh prescriber with an Active and an Inactive token, signed in."""
    account = make_account(("Active", "Inactive"))
    sign_in(client, account, clock())
    clock.advance(30)
    return account


def wrong(token, at) -> str:
    near = {token.code(at=at + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222") if c not in near)


def assert_too_many(response) -> None:
    assert response.status_code == 429
    text = page_text(response)
    assert "Too many attempts" in text
    assert "Wait a minute, then try again." in text
    # Every limit here is per minute; the window's end is rounded up to a whole second.
    assert 1 <= int(response.headers["Retry-After"]) <= 61


def test_a_counted_post_only_counts_and_says_nothing_of_the_count(
    app, client, signed_in, clock, monkeypatch
):
    """With several app servers the counts live in Redis: reading a count back after each
    POST, to send X-RateLimit-* headers, would cost two more round trips a POST. Only a
    refusal says when to try again."""
    at_code_step(app, client, clock)
    reads = []
    strategy = limiter.limiter  # what reads a window's count back
    real = strategy.get_window_stats
    monkeypatch.setattr(strategy, "get_window_stats", lambda *a: reads.append(a) or real(*a))
    response = post(client, "/enroll/security-code", {"code": "000000"})

    assert response.status_code == 422
    assert reads == []
    assert not [h for h in response.headers.keys() if h.lower().startswith("x-ratelimit")]
    assert "Retry-After" not in response.headers


# --- Forms that check a code -------------------------------------------------------------------


def test_the_security_code_step_is_limited_per_client_address(app, client, signed_in, clock):
    app.config["CODE_RATE_LIMIT"] = "3 per minute"
    at_code_step(app, client, clock)
    for _ in range(3):
        assert post(client, "/enroll/security-code", {"code": "000000"}).status_code == 422

    assert_too_many(post(client, "/enroll/security-code", {"code": "000000"}))
    assert prescriber(app, signed_in.id).code_failures == 3  # the fourth was never checked

    client.environ_base["REMOTE_ADDR"] = ELSEWHERE  # the same prescriber, on another network
    assert post(client, "/enroll/security-code", {"code": "000000"}).status_code == 422


def test_enabling_a_token_shares_the_code_limit(app, client, signed_in, clock):
    app.config["CODE_RATE_LIMIT"] = "3 per minute"
    inactive = signed_in.token("Inactive")
    at_code_step(app, client, clock)
    for _ in range(2):
        assert post(client, "/enroll/security-code", {"code": "000000"}).status_code == 422
    url = f"/tokens/{inactive.id}/enable"
    assert post(client, url, {"code": wrong(inactive, clock())}).status_code == 422

    assert_too_many(post(client, url, {"code": inactive.code(at=clock())}))
    assert [e.outcome for e in audit_events(app, "token.enable-code")] == ["wrong"]


def test_confirming_the_last_active_token_shares_the_code_limit(app, client, make_account, clock):
    app.config["CODE_RATE_LIMIT"] = "2 per minute"
    account = make_account(("Active",))
    sign_in(client, account, clock())
    token = account.token()
    url = f"/tokens/{token.id}/delete"
    for _ in range(2):
        response = post(client, url, {"acknowledge": "y", "code": wrong(token, clock())})
        assert response.status_code == 422
    assert_too_many(post(client, url, {"acknowledge": "y", "code": token.code(at=clock())}))


# --- The Credential ID step --------------------------------------------------------------------


def test_the_credential_id_step_has_a_limit_per_client_address(app, client, signed_in, clock):
    app.config["CREDENTIAL_ID_RATE_LIMIT"] = "3 per minute"
    post(client, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    for n in range(3):
        typed = {"credential_id": f"SYMC{n:08d}"}
        assert post(client, "/enroll/credential-id", typed).status_code == 422
    assert_too_many(post(client, "/enroll/credential-id", {"credential_id": "SYMC00000009"}))


def test_the_credential_id_step_has_a_limit_per_prescriber_too(app, client, signed_in, clock):
    """Changing addresses does not help: a prescriber can only try so many IDs."""
    app.config["CREDENTIAL_ID_ACCOUNT_RATE_LIMIT"] = "3 per minute"
    post(client, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    for n in range(3):
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{n + 1}"
        typed = {"credential_id": f"SYMC{n:08d}"}
        assert post(client, "/enroll/credential-id", typed).status_code == 422
    client.environ_base["REMOTE_ADDR"] = "203.0.113.50"
    assert_too_many(post(client, "/enroll/credential-id", {"credential_id": "SYMC00000009"}))


def test_the_credential_id_limit_is_apart_from_the_code_limit(app, client, signed_in, clock):
    app.config["CREDENTIAL_ID_RATE_LIMIT"] = "1 per minute"
    at_code_step(app, client, clock)  # the one Credential ID allowed
    for _ in range(2):
        assert post(client, "/enroll/security-code", {"code": "000000"}).status_code == 422


def test_the_limits_come_from_the_environment(make_app):
    app = make_app(
        WIZARD_CODE_RATE_LIMIT="7 per minute",
        WIZARD_CREDENTIAL_ID_RATE_LIMIT="8 per minute",
        WIZARD_CREDENTIAL_ID_ACCOUNT_RATE_LIMIT="9 per hour",
        WIZARD_HELPDESK_LOOKUP_RATE_LIMIT="10 per hour",
    )
    assert app.config["CODE_RATE_LIMIT"] == "7 per minute"
    assert app.config["CREDENTIAL_ID_RATE_LIMIT"] == "8 per minute"
    assert app.config["CREDENTIAL_ID_ACCOUNT_RATE_LIMIT"] == "9 per hour"
    assert app.config["HELPDESK_LOOKUP_RATE_LIMIT"] == "10 per hour"


# --- The 429 page ------------------------------------------------------------------------------


def test_the_429_page_is_a_whole_page_with_one_heading_and_no_lost_work(
    app, client_request, account, clock
):
    app.config["SIGN_IN_RATE_LIMIT"] = "1 per minute"
    data = {"npi": account.npi, "passphrase": "not the right passphrase"}
    client_request.post("/sign-in", data, _expected_status=422)

    page = client_request.post("/sign-in", data, _expected_status=429)  # the house rules hold
    assert page.h1 == "Too many attempts"
    assert "What you saved before is kept." in page.text("main")
    assert page.select_one('main a[href="/"]')
    # htmx swaps 4xx answers into the page: it gets the same page to show.
    partial = client_request.post("/sign-in", data, _htmx=True, _expected_status=429)
    assert partial.h1 == "Too many attempts"


# --- Help-desk lookups -------------------------------------------------------------------------


@pytest.fixture
def agent(app, runner, clock):
    return make_agent(runner, app.test_client(), clock())


@pytest.fixture
def console(app, agent, clock):
    browser = app.test_client()
    sign_in_agent(browser, agent, clock())
    return browser


def test_a_support_code_lookup_is_audited_once_however_often_the_panel_polls(
    app, console, make_account
):
    code = footer_code(app.test_client().get("/sign-in"))
    assert console.get(f"/helpdesk?code={code}").status_code == 200
    for _ in range(5):
        assert console.get(f"/helpdesk/live/{code}").status_code == 200
    [view] = audit_events(app, "helpdesk.view")
    assert (view.outcome, view.client_address) == ("found", "127.0.0.1")


def test_the_live_panel_never_shows_a_code_that_was_not_looked_up(app, console):
    """Polling is not a way round the audited lookup."""
    code = footer_code(app.test_client().get("/sign-in"))
    assert console.get(f"/helpdesk/live/{code}").status_code == 404
    assert audit_events(app, "helpdesk.view") == []


def test_support_code_lookups_are_limited_per_agent_but_polls_are_not(app, console):
    app.config["HELPDESK_LOOKUP_RATE_LIMIT"] = "3 per minute"
    code = footer_code(app.test_client().get("/sign-in"))
    for typed in (code, "ZZZ-ZZZ", "ZZZ-ZZY"):
        assert console.get(f"/helpdesk?code={typed}").status_code == 200
    refused = console.get("/helpdesk?code=ZZZ-ZZX")
    assert refused.status_code == 429
    assert "Too many attempts" in page_text(refused)
    assert len(audit_events(app, "helpdesk.view")) == 3  # the refused one was not looked up

    assert console.get("/helpdesk").status_code == 200  # the empty console is no lookup
    for _ in range(5):
        assert console.get(f"/helpdesk/live/{code}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "counted"),
    [
        ("GET", "/enroll/credential-id", False),
        ("HEAD", "/tokens", False),
        ("GET", "/sign-in", False),
        ("POST", "/sign-in", True),
        ("POST", "/enroll/security-code", True),
        ("GET", "/helpdesk?code=ABC-DEF", True),
        ("HEAD", "/helpdesk?code=ABC-DEF", True),
    ],
)
def test_only_requests_some_limit_counts_go_through_the_limiter(app, method, path, counted):
    """Every limit counts POSTs but the help desk's lookup, a GET: other GETs skip it."""
    with app.test_request_context(path, method=method):
        assert no_limit_applies() is not counted


def test_cant_look_up_support_codes_past_the_limit_with_head(app, console):
    """HEAD runs the console's GET view, lookup included: it counts as one."""
    app.config["HELPDESK_LOOKUP_RATE_LIMIT"] = "3 per minute"
    code = footer_code(app.test_client().get("/sign-in"))
    for typed in ("ZZZ-ZZZ", "ZZZ-ZZY", "ZZZ-ZZX"):
        assert console.get(f"/helpdesk?code={typed}").status_code == 200

    head = console.head(f"/helpdesk?code={code}")

    assert head.status_code == 429
    assert console.get(f"/helpdesk/live/{code}").status_code == 404, "never looked up"
    assert len(audit_events(app, "helpdesk.view")) == 3


def test_a_head_lookup_counts_toward_the_limit(app, console):
    app.config["HELPDESK_LOOKUP_RATE_LIMIT"] = "3 per minute"
    for typed in ("ZZZ-ZZZ", "ZZZ-ZZY", "ZZZ-ZZX"):
        assert console.head(f"/helpdesk?code={typed}").status_code == 200
    assert console.get("/helpdesk?code=ZZZ-ZZW").status_code == 429


def test_every_limit_that_counts_a_get_is_on_a_help_desk_view(app):
    """no_limit_applies lets GETs and HEADs outside the help desk skip the limiter: it holds
    only while no other view has a limit that counts them (read from Flask-Limiter's table
    of decorated views)."""
    decorated = limiter.limit_manager._decorated_limits
    counting_reads = {
        view
        for view, limits in decorated.items()
        for limit in limits
        if not limit.methods or {"get", "head"} & set(limit.methods)
    }
    assert decorated, "Flask-Limiter's table of decorated views has moved: read it anew"
    assert counting_reads == {"wizard.web.helpdesk.routes.console.console"}


def test_the_limiter_is_not_even_entered_for_a_page_read(app, client, monkeypatch):
    """Its check would resolve the view's limits and run every filter only to find none: it
    runs for a POST, and not for a GET."""
    entered = []
    real = limiter.identify_request
    monkeypatch.setattr(limiter, "identify_request", lambda: entered.append(1) or real())
    assert client.get("/sign-in").status_code == 200
    assert entered == []
    post(client, "/sign-in", {"npi": "1234567893", "passphrase": "not the passphrase"})
    assert entered


def test_the_limiter_s_after_request_hook_is_skipped_for_a_page_read(app, client, monkeypatch):
    entered = []
    real = limiter._Limiter__check_conditional_deductions
    monkeypatch.setattr(
        limiter,
        "_Limiter__check_conditional_deductions",
        lambda response: entered.append(1) or real(response),
    )
    assert client.get("/sign-in").status_code == 200
    assert entered == []
    post(client, "/sign-in", {"npi": "1234567893", "passphrase": "not the passphrase"})
    assert entered


def test_the_check_before_the_view_is_skipped_while_no_limit_is_counted_there(
    app, client, monkeypatch
):
    """Every limit here decorates its view: the check Flask-Limiter makes before every view
    would resolve the view's limits and run every filter only to count nothing."""
    resolved = []
    manager = limiter.limit_manager
    real = manager.resolve_limits

    def resolve_limits(app, endpoint, blueprint, name, in_middleware, *rest):
        resolved.append(in_middleware)
        return real(app, endpoint, blueprint, name, in_middleware, *rest)

    monkeypatch.setattr(manager, "resolve_limits", resolve_limits)
    post(client, "/sign-in", {"npi": "1234567893", "passphrase": "not the passphrase"})
    assert resolved == [False], "the decorator's check alone"


def test_a_limit_for_the_whole_application_is_still_counted_before_the_view(
    app, client, monkeypatch
):
    """Such a limit (Flask-Limiter's RATELIMIT_APPLICATION) is counted before every view, the
    undecorated ones included: with one set, the check before the view runs again."""
    from flask_limiter import ApplicationLimit

    monkeypatch.setattr(
        limiter.limit_manager,
        "_application_limits",
        [ApplicationLimit(limit_provider="2 per minute").bind(limiter)],
    )
    limiter.reset()
    replies = [post(client, "/enroll/start-over", {}).status_code for _ in range(3)]
    limiter.reset()
    assert 429 not in replies[:2]
    assert replies[2] == 429


def test_a_limited_post_holds_one_pooled_connection_at_a_time(app, client, signed_in):
    """The sandbox's exemption is asked inside the view's limit check, after the request has
    read the prescriber: it reads on the request's own connection, never a second one (a
    request holding two could wait on the others for the pool)."""
    held, most = [0], [0]

    def out(*_):
        held[0] += 1
        most[0] = max(most[0], held[0])

    def back(*_):
        held[0] -= 1

    with app.app_context():
        pool = db.engine.pool
    event.listen(pool, "checkout", out)
    event.listen(pool, "checkin", back)
    try:
        reply = post(client, "/enroll/security-code", {"code": "123456"})
    finally:
        event.remove(pool, "checkout", out)
        event.remove(pool, "checkin", back)
    assert reply.status_code in (302, 303, 422)
    assert most[0] == 1
