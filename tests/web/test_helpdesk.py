"""Help-desk console (issue 6): agents set up by a one-time link and signed in with a passphrase
and an authenticator code; agents and prescribers never share a session; prescribers cannot open
the console and agents cannot change tokens; support codes; the live view; no secret ever on a
console page; every console view audited; the printable script.

The funnel's counts are in test_funnel.py.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from helpdesk_helpers import (
    AGENT_PASSPHRASE,
    SUPPORT_CODE,
    agent_sign_in_attempt,
    finish_setup,
    footer_code,
    make_agent,
    setup_link,
    shown_secret,
    sign_in_agent,
)
from scenarios import World
from signing import (
    NOT_SIGNED_IN,
    audit_events,
    code_step,
    passphrase_step,
    pause,
    post,
    sign_in,
)
from sqlalchemy import select
from support.accounts import new_npi
from support.csrf import SESSION_COOKIE, session_cookie
from support.pages import page_text

from wizard.domain.support import new_support_code
from wizard.extensions import db
from wizard.services import invitations
from wizard.store.models import (
    HelpdeskAgent,
    Prescriber,
    SupportEvent,
    SupportSession,
    Token,
    WizardRun,
)
from wizard.web.qr import qr_svg

ROOT = Path(__file__).resolve().parents[2]
USERNAME = "pat.helpdesk"
ACTOR = f"agent:{USERNAME}"
CONSOLE_PAGES = ("/helpdesk", "/helpdesk/script", "/helpdesk/funnel", "/helpdesk/funnel.csv")
LOOKALIKES = set("01OIL")


@pytest.fixture
def agent(app, runner, clock):
    """An agent who has completed setup (in a browser of their own), not signed in."""
    return make_agent(runner, app.test_client(), clock())


@pytest.fixture
def console(client, agent, clock):
    """The test's `client`, signed in as the agent: the watchful client refuses any page that
    shows a one-time code the test typed (see tests/web/conftest.py)."""
    sign_in_agent(client, agent, clock())
    return agent


@pytest.fixture
def prescriber_browser(app):
    """The prescriber's own browser, apart from the agent's."""
    return app.test_client()


def signed_in_as(client) -> str | None:
    found = re.search(r"Signed in as ([^<]+)<", client.get("/").get_data(as_text=True))
    return found.group(1).strip() if found else None


def agent_row(app, username: str = USERNAME) -> HelpdeskAgent:
    with app.app_context():
        row = db.session.scalar(select(HelpdeskAgent).where(HelpdeskAgent.username == username))
        db.session.expunge_all()
        return row


def wrong_code(token, at) -> str:
    near = {token.code(at=at + timedelta(seconds=s)) for s in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def detail(event) -> dict:
    return json.loads(event.detail or "{}")


def person(page) -> str:
    """The live view's Prescriber line, as read: "Dr. Robin Test (NPI 1234567893)"."""
    return re.sub(r"\s+\)", ")", page.text("#live-person"))


def live(client_request, code: str):
    """The live panel the console polls (a partial: it has no h1 of its own), after the
    console's lookup of the code (the panel serves only codes this session looked up)."""
    client_request.get(f"/helpdesk?code={code}")
    return client_request.get(f"/helpdesk/live/{code}")


# --- Setting up an agent -----------------------------------------------------------------------


def test_helpdesk_add_prints_a_link_whose_page_shows_a_qr_code_and_the_key(app, runner, client):
    result = runner.invoke(args=["helpdesk", "add", "Pat.Helpdesk"])
    assert result.exit_code == 0, result.output
    assert f"Setup link for {USERNAME}" in result.output
    [link] = re.findall(r"http://127\.0\.0\.1:5000/helpdesk/setup/\S+", result.output)

    page = client.get(link.removeprefix("http://127.0.0.1:5000"))
    assert page.status_code == 200
    text = page_text(page)
    assert "Set up your help-desk account" in text
    assert USERNAME in text
    secret = shown_secret(page)
    assert len(pyotp.TOTP(secret).byte_secret()) >= 16  # at least 128 bits
    # The QR code is the otpauth URI of that very key, for this agent.
    uri = pyotp.TOTP(secret).provisioning_uri(name=USERNAME, issuer_name="EPCS help desk")
    wanted = re.search(r'<path[^>]* d="([^"]+)"', qr_svg(uri, "x")).group(1)
    body = page.get_data(as_text=True)
    shown = re.search(r'<svg class="qr"[^>]*>.*?<path[^>]* d="([^"]+)"', body, re.S)
    assert shown, "the setup page has no QR code"
    assert shown.group(1) == wanted
    # A reload shows the same key: the app scanned a minute ago keeps working.
    assert shown_secret(client.get(link.removeprefix("http://127.0.0.1:5000"))) == secret


@pytest.mark.parametrize("username", ["pat.helpdesk", "x", "has space", "Ünïcode"])
def test_helpdesk_add_refuses_a_taken_or_malformed_username(runner, username):
    setup_link(runner, USERNAME)
    result = runner.invoke(args=["helpdesk", "add", username])
    assert result.exit_code != 0
    assert "/helpdesk/setup/" not in result.output


@pytest.mark.parametrize(
    ("passphrase", "confirm", "message"),
    [
        ("too short", "too short", "at least 12 characters"),
        ("1234567890qwerty", "1234567890qwerty", "too common"),
        ("pat.helpdesk", "pat.helpdesk", "must not be your name"),
        (AGENT_PASSPHRASE, AGENT_PASSPHRASE + "!", "The passphrases do not match"),
        ("", "", "Enter a new passphrase"),
    ],
)
def test_setup_refuses_a_passphrase_that_breaks_the_rules(
    app, runner, client, clock, passphrase, confirm, message
):
    path = setup_link(runner, USERNAME)
    secret = shown_secret(client.get(path))
    code = pyotp.TOTP(secret).at(clock())
    response = finish_setup(client, path, passphrase, code, confirm=confirm)
    assert response.status_code == 422
    assert message in page_text(response)
    assert agent_row(app).passphrase_hash is None
    # Nothing was used up: the same link and the same code still complete the setup.
    done = finish_setup(client, path, AGENT_PASSPHRASE, code)
    assert done.status_code == 303


def test_setup_refuses_a_wrong_code_and_sets_nothing(app, runner, client, clock):
    path = setup_link(runner, USERNAME)
    secret = shown_secret(client.get(path))
    right = pyotp.TOTP(secret).at(clock())
    wrong = next(c for c in ("000000", "111111", "222222") if c != right)
    response = finish_setup(client, path, AGENT_PASSPHRASE, wrong)
    assert response.status_code == 422
    assert "That code did not match" in page_text(response)
    assert agent_row(app).passphrase_hash is None
    assert client.get(path).status_code == 200  # the link still works
    refused = agent_sign_in_attempt(app.test_client(), USERNAME, AGENT_PASSPHRASE, right)
    assert refused.status_code == 422  # no account to sign in to yet


def test_setup_link_works_once(app, runner, client, clock):
    agent = make_agent(runner, client, clock())
    assert agent_row(app).passphrase_hash is not None
    assert [e.outcome for e in audit_events(app, "helpdesk.agent-setup")] == ["success"]
    assert client.get(agent.setup_path).status_code == 404
    again = finish_setup(app.test_client(), agent.setup_path, "another passphrase here", "123456")
    assert again.status_code in (400, 404)
    assert app.test_client().get(agent.setup_path).status_code == 404


def test_setup_link_expires_after_24_hours(app, runner, client, clock):
    path = setup_link(runner, USERNAME)
    clock.advance(hours=23, minutes=59, seconds=59)
    page = client.get(path)
    assert page.status_code == 200
    secret = shown_secret(page)
    clock.advance(seconds=1)
    assert client.get(path).status_code == 404
    late = finish_setup(client, path, AGENT_PASSPHRASE, pyotp.TOTP(secret).at(clock()))
    assert late.status_code in (400, 404)
    assert agent_row(app).passphrase_hash is None


def test_a_made_up_setup_link_is_not_found(client):
    assert client.get("/helpdesk/setup/ABCD-EFGH-JKMN-PQRS").status_code == 404
    assert client.get("/helpdesk/setup/nonsense").status_code == 404


# --- Signing in as an agent --------------------------------------------------------------------


def test_agent_signs_in_with_username_passphrase_and_a_current_code(app, client, agent, clock):
    assert client.get("/helpdesk").headers["Location"] == "/helpdesk/sign-in"
    sign_in_agent(client, agent, clock())
    page = client.get("/helpdesk")
    assert page.status_code == 200
    assert f"Help desk: {USERNAME}" in page_text(page)
    [event] = audit_events(app, "helpdesk.sign-in")
    assert (event.outcome, event.actor) == ("success", ACTOR)


@pytest.mark.parametrize(
    "case", ["wrong passphrase", "wrong code", "no code", "no passphrase", "unknown agent"]
)
def test_agent_sign_in_needs_all_three(app, client, agent, clock, case):
    username, passphrase = USERNAME, AGENT_PASSPHRASE
    code = agent.fresh_code(clock())
    if case == "wrong passphrase":
        passphrase = "not the agent's passphrase"
    elif case == "wrong code":
        code = agent.wrong_code(clock())
    elif case == "no code":
        code = ""
    elif case == "no passphrase":
        passphrase = ""
    else:
        username = "nobody.here"
    response = agent_sign_in_attempt(client, username, passphrase, code)
    assert response.status_code == 422
    assert client.get("/helpdesk").status_code in (302, 303)
    if case in ("wrong passphrase", "wrong code", "unknown agent"):
        assert NOT_SIGNED_IN in page_text(response)
        # The message does not say which of the three was wrong.
        assert "passphrase is wrong" not in page_text(response).lower()


def test_an_agent_code_works_once(app, client, agent, clock):
    code = agent.fresh_code(clock())
    assert agent_sign_in_attempt(client, USERNAME, AGENT_PASSPHRASE, code).status_code == 303
    post(client, "/helpdesk/sign-out")
    assert client.get("/helpdesk").status_code in (302, 303)

    replay = agent_sign_in_attempt(client, USERNAME, AGENT_PASSPHRASE, code)
    assert replay.status_code == 422
    assert client.get("/helpdesk").status_code in (302, 303)
    # The code the setup page accepted cannot sign in either (same or earlier step).
    setup_code = agent.code_at_step(min(agent.used))
    other = app.test_client()
    assert agent_sign_in_attempt(other, USERNAME, AGENT_PASSPHRASE, setup_code).status_code == 422


def test_five_failures_lock_an_agent_for_15_minutes_and_are_audited(app, client, agent, clock):
    for n in range(5):
        if n % 2:
            attempt = agent_sign_in_attempt(
                client, USERNAME, AGENT_PASSPHRASE, agent.wrong_code(clock())
            )
        else:
            attempt = agent_sign_in_attempt(client, USERNAME, "wrong passphrase here", "123456")
        assert attempt.status_code == 422
    row = agent_row(app)
    assert row.sign_in_failures == 5
    paused = pause(app, f"agent:{USERNAME}")
    assert paused.locked_until == clock() + timedelta(minutes=15)

    failed = [e for e in audit_events(app, "helpdesk.sign-in") if e.outcome == "failed"]
    assert [(e.actor, detail(e).get("failures")) for e in failed] == [
        (ACTOR, n) for n in range(1, 6)
    ]
    [lock] = audit_events(app, "sign_in.lock")
    assert (lock.outcome, lock.actor, lock.prescriber_id) == ("locked", ACTOR, None)

    # Right passphrase and a right code are refused while locked, and audited as such.
    clock.advance(minutes=14, seconds=59)
    refused = agent_sign_in_attempt(client, USERNAME, AGENT_PASSPHRASE, agent.fresh_code(clock()))
    assert refused.status_code == 422
    assert client.get("/helpdesk").status_code in (302, 303)
    assert audit_events(app, "helpdesk.sign-in")[-1].outcome == "locked"
    assert pause(app, f"agent:{USERNAME}").locked_until == paused.locked_until

    clock.advance(seconds=1)
    sign_in_agent(client, agent, clock())
    assert client.get("/helpdesk").status_code == 200
    assert agent_row(app).sign_in_failures == 0


def test_the_failure_that_pauses_an_agent_says_what_every_failure_says(client, agent, clock):
    """As at the prescriber's sign-in, a pause is never named (it would tell that the user
    name exists); every failure says how pauses work instead."""
    first = agent_sign_in_attempt(client, USERNAME, "wrong passphrase here", "123456")
    for _ in range(3):
        agent_sign_in_attempt(client, USERNAME, "wrong passphrase here", "123456")
    fifth = agent_sign_in_attempt(client, USERNAME, "wrong passphrase here", "123456")
    sixth = agent_sign_in_attempt(client, USERNAME, AGENT_PASSPHRASE, agent.fresh_code(clock()))
    assert first.status_code == fifth.status_code == sixth.status_code == 422
    assert page_text(first) == page_text(fifth) == page_text(sixth)
    assert "We could not sign you in with those details" in page_text(first)
    assert "After 5 failed attempts in a row, we pause attempts on that account" in (
        page_text(first)
    )


def test_an_empty_help_desk_sign_in_form_says_nothing_of_pauses(client, agent):
    """Nothing was checked or counted, so the page does not warn about failed attempts."""
    empty = agent_sign_in_attempt(client, "", "", "")
    assert empty.status_code == 422
    assert "failed attempts in a row" not in page_text(empty)
    assert agent_row(client.application).sign_in_failures == 0


# --- Agents and prescribers never share a session ----------------------------------------------


def test_agent_sign_in_drops_a_prescribers_session(app, client, agent, account, clock):
    sign_in(client, account, clock())
    prescribers_cookie = session_cookie(client)
    assert signed_in_as(client) == account.name

    sign_in_agent(client, agent, clock())
    assert session_cookie(client) != prescribers_cookie
    assert signed_in_as(client) is None
    assert client.get("/tokens").headers["Location"].startswith("/sign-in")
    assert client.get("/enroll/get-app").headers["Location"].startswith("/sign-in")
    assert client.get("/helpdesk").status_code == 200

    # The prescriber's old session id is gone, not merely replaced in this browser.
    old = app.test_client()
    old.set_cookie(SESSION_COOKIE, prescribers_cookie)
    assert signed_in_as(old) is None
    assert old.get("/helpdesk").status_code in (302, 303)


def test_prescriber_sign_in_drops_an_agents_session(app, client, agent, account, clock):
    sign_in_agent(client, agent, clock())
    agents_cookie = session_cookie(client)
    assert client.get("/helpdesk").status_code == 200

    sign_in(client, account, clock())
    assert session_cookie(client) != agents_cookie
    assert signed_in_as(client) == account.name
    assert client.get("/helpdesk").headers["Location"] == "/helpdesk/sign-in"
    assert f"Help desk: {USERNAME}" not in page_text(client.get("/"))

    old = app.test_client()
    old.set_cookie(SESSION_COOKIE, agents_cookie)
    assert old.get("/helpdesk").status_code in (302, 303)


def test_agent_sign_out_ends_the_agent_session(client, agent, clock):
    sign_in_agent(client, agent, clock())
    response = post(client, "/helpdesk/sign-out")
    assert response.status_code == 303
    assert response.headers["Location"] == "/helpdesk/sign-in"
    assert client.get("/helpdesk").headers["Location"] == "/helpdesk/sign-in"


# --- A prescriber cannot open the console ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/helpdesk",
        "/helpdesk?code={code}",
        "/helpdesk/live/{code}",
        "/helpdesk/script",
        "/helpdesk/funnel",
        "/helpdesk/funnel?days=30",
        "/helpdesk/funnel.csv",
    ],
)
def test_a_signed_in_prescriber_is_sent_away_from_the_console(app, client, account, clock, url):
    client.get("/sign-in")
    sign_in(client, account, clock())
    code = footer_code(client.get("/enroll/get-app"))
    assert code
    response = client.get(url.format(code=code))
    assert response.status_code in (302, 303)
    assert response.headers["Location"] == "/helpdesk/sign-in"
    assert audit_events(app, "helpdesk.view") == []


@pytest.mark.parametrize("url", ["/helpdesk/live/ABC-DEF", "/helpdesk/funnel.csv"])
def test_nobody_signed_in_is_sent_to_the_agent_sign_in(client, url):
    response = client.get(url)
    assert response.status_code in (302, 303)
    assert response.headers["Location"] == "/helpdesk/sign-in"


# --- An agent cannot change tokens -------------------------------------------------------------


def snapshot(app) -> list[tuple]:
    """Every token and every prescriber's counters: what a change would touch."""
    with app.app_context():
        tokens = [
            (t.id, t.prescriber_id, t.nickname, t.credential_id, t.status, t.updated_at)
            for t in db.session.scalars(select(Token).order_by(Token.id))
        ]
        people = [
            (p.id, p.code_failures, p.sign_in_failures, p.passphrase_hash)
            for p in db.session.scalars(select(Prescriber).order_by(Prescriber.id))
        ]
        return tokens + people


def token_posts(account, vip) -> list[tuple[str, dict]]:
    mine = account.token()
    credential = vip.issue()
    return [
        (f"/tokens/{mine.id}/rename", {"nickname": "Renamed by the help desk"}),
        (f"/tokens/{mine.id}/disable", {"reason": "lost", "confirm": "y"}),
        (f"/tokens/{mine.id}/enable", {"code": vip.code(mine)}),
        (f"/tokens/{mine.id}/delete", {"confirm": "y"}),
        ("/enroll/get-app", {"platform": "iphone", "different_device": "y"}),
        ("/enroll/credential-id", {"credential_id": credential.credential_id}),
        ("/enroll/security-code", {"code": vip.code(credential)}),
        ("/enroll/name", {"nickname": "Help desk phone"}),
        ("/enroll/backup", {"choice": "decline"}),
        ("/enroll/start-over", {}),
        ("/lost-token/choose", {"token": str(mine.id)}),
        ("/lost-token/confirm", {}),
    ]


def where_to(response) -> str | None:
    """Where a response sends the browser: Location, or HX-Redirect for an htmx request."""
    if response.status_code in (302, 303):
        return response.headers["Location"]
    return response.headers.get("HX-Redirect")


def refused(response) -> bool:
    """Refused outright, or sent to a sign-in page or back to a flow's first page."""
    if response.status_code >= 400:
        return True
    location = where_to(response)
    return location is not None and location.split("?")[0] in (
        "/sign-in",
        "/helpdesk/sign-in",
        "/lost-token",
    )


def test_an_agent_cannot_change_tokens(app, client, console, account, vip, clock):
    before = snapshot(app)
    for url, data in token_posts(account, vip):
        for htmx in (False, True):
            headers = {"HX-Request": "true"} if htmx else {}
            response = post(client, url, data, headers=headers)
            assert refused(response), (
                f"POST {url} (htmx={htmx}) with the agent's session answered "
                f"{response.status_code} {response.headers.get('Location', '')}"
            )
            if where_to(response) and url.startswith(("/tokens", "/enroll")):
                assert where_to(response).startswith("/sign-in?next="), url
    assert snapshot(app) == before
    assert client.get("/helpdesk").status_code == 200  # still an agent, nothing else


def test_an_agent_session_cannot_report_a_token_lost(app, client, console, account, clock):
    """Even when the prescriber's NPI and passphrase are typed in: the console is read-only and
    the agent's session never becomes a prescriber's."""
    before = snapshot(app)
    mine = account.token()
    steps = [
        ("/lost-token", {"npi": account.npi, "passphrase": account.passphrase}),
        ("/lost-token/choose", {"token": str(mine.id)}),
        ("/lost-token/confirm", {}),
    ]
    answers = []
    for url, data in steps:  # the whole flow, to see what it would change
        response = post(client, url, data)
        answers.append((url, response.status_code, response.headers.get("Location")))
    assert snapshot(app) == before, answers
    url, status, location = answers[0]
    assert status >= 400 or location in ("/sign-in", "/helpdesk/sign-in"), answers
    assert client.get("/helpdesk").status_code == 200


# --- Support codes -----------------------------------------------------------------------------


PRESCRIBER_PAGES = ["/sign-in", "/start", "/lost-token", "/forgot-passphrase"]


def test_support_code_is_on_sign_in_and_onboarding_pages_and_stays_through_sign_in(
    client, account, clock
):
    codes = {url: footer_code(client.get(url)) for url in PRESCRIBER_PAGES}
    assert all(codes.values()), codes
    assert len(set(codes.values())) == 1, codes
    [code] = set(codes.values())
    assert SUPPORT_CODE.match(code), code

    passphrase_step(client, account.npi, account.passphrase)
    assert footer_code(client.get("/sign-in/code")) == code
    sign_in(client, account, clock())
    for url in ["/enroll/get-app", "/"]:
        assert footer_code(client.get(url)) == code, url
    post(client, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    assert footer_code(client.get("/enroll/credential-id")) == code


def test_every_token_page_and_error_page_shows_the_support_code(app, client, clock):
    """The code is there exactly when a prescriber is stuck: on each token page and on the
    error pages of the lost-token, new-passphrase and onboarding flows."""
    world = World(app, clock)
    account = world.account(("Active", "Inactive", "Suspended"))
    active, inactive, suspended = account.tokens
    world.sign_in(client, account)
    code = footer_code(client.get("/tokens"))
    assert code
    shown = {}
    for token, action in [
        (active, "disable"),
        (active, "delete"),
        (active, "rename"),
        (active, "history"),
        (inactive, "enable"),
        (suspended, "reactivate"),
        (suspended, "confirm-lost"),
    ]:
        url = f"/tokens/{token.id}/{action}"
        shown[url] = footer_code(client.get(url))
    for url, data in [
        (f"/tokens/{inactive.id}/enable", {"code": "12"}),
        (f"/tokens/{active.id}/rename", {"nickname": ""}),
        (f"/tokens/{active.id}/delete", {}),
        ("/lost-token/choose", {}),
    ]:
        response = post(client, url, data)
        assert response.status_code == 422, (url, response.status_code)
        shown[f"POST {url}"] = footer_code(response)
    assert set(shown.values()) == {code}, shown

    resetting = app.test_client()
    token = account.token("Active")
    reset_code = world.reset_code(account.npi)
    world.post(
        resetting,
        "/forgot-passphrase",
        {"npi": account.npi, "code": world.totp(token.secret), "reset_code": reset_code},
        "/forgot-passphrase/new",
    )
    assert footer_code(resetting.get("/forgot-passphrase/new"))
    refused = post(resetting, "/forgot-passphrase/new", {"passphrase": "short", "confirm": "x"})
    assert refused.status_code == 422 and footer_code(refused)

    onboarding = app.test_client()
    invitation, npi = world.invitation()
    world.post(onboarding, "/start", {"invitation": invitation, "npi": npi}, "/start/confirm")
    not_mine = post(onboarding, "/start/confirm", {"answer": "no"})
    assert not_mine.status_code == 200 and footer_code(not_mine)


def test_every_route_is_a_prescriber_page_or_named_apart(app):
    """A new blueprint must choose: prescriber pages (support code) or not."""
    from wizard.web.support import PRESCRIBER_BLUEPRINTS

    others = {"helpdesk", "sandbox", "sandbox_api", None}
    blueprints = {r.endpoint.rpartition(".")[0] or None for r in app.url_map.iter_rules()}
    assert blueprints <= PRESCRIBER_BLUEPRINTS | others, blueprints


def test_each_browser_has_its_own_support_code(app):
    codes = {footer_code(app.test_client().get("/sign-in")) for _ in range(20)}
    assert None not in codes
    assert len(codes) == 20


def test_support_codes_have_no_look_alike_characters(app):
    shown = [footer_code(app.test_client().get("/start")) for _ in range(20)]
    made = [new_support_code() for _ in range(2000)]
    for code in shown + made:
        assert SUPPORT_CODE.match(code), code
        assert not (set(code) & LOOKALIKES), code


def test_console_finds_a_code_typed_loosely_and_says_when_none_matches(
    app, client_request, console, prescriber_browser
):
    code = footer_code(prescriber_browser.get("/sign-in"))
    for typed in (code, code.lower(), code.replace("-", ""), f" {code[:3]} {code[4:]} "):
        page = client_request.get(f"/helpdesk?code={typed}")
        assert page.select_one("#live"), typed
        assert code in page.text("#live-title")
    nothing = client_request.get("/helpdesk?code=ZZZ-ZZZ")
    assert nothing.select_one("#live") is None
    assert "No session has that support code" in nothing.text("#code-error")
    client_request.get("/helpdesk/live/ZZZ-ZZZ", _expected_status=404)


# --- The live view -----------------------------------------------------------------------------


def test_live_view_shows_where_the_prescriber_is_and_what_to_say(
    app, client_request, console, prescriber_browser, make_account, vip, clock
):
    prescriber = make_account()
    browser = prescriber_browser
    code = footer_code(browser.get("/sign-in"))

    page = client_request.get(f"/helpdesk?code={code}")
    assert person(page) == "Not known yet"
    assert page.text("#live-page") == "Sign in"
    assert page.text("#live-device") == "Not chosen yet"
    assert page.text("#live-step") == "Not started"
    assert page.text("#live-credential") == "Not entered yet"
    assert page.select_one("#live-error") is None

    sign_in(browser, prescriber, clock())
    browser.get("/enroll/get-app")
    panel = live(client_request, code)
    assert person(panel) == f"{prescriber.name} (NPI {prescriber.npi})"
    assert panel.text("#live-step") == "1 of 5: Get the app or key fob"

    post(browser, "/enroll/get-app", {"platform": "android", "different_device": "y"})
    browser.get("/enroll/credential-id")
    panel = live(client_request, code)
    assert panel.text("#live-device") == "Android phone or tablet"
    assert panel.text("#live-step") == "2 of 5: Find your Credential ID"

    credential = vip.issue()
    typed = f"{credential.credential_id[:4].lower()} {credential.credential_id[4:]}"
    post(browser, "/enroll/credential-id", {"credential_id": typed})
    response = post(browser, "/enroll/security-code", {"code": vip.wrong_code(credential)})
    assert response.status_code == 422

    panel = live(client_request, code)
    assert panel.text("#live-page") == "Step 3: Enter the security code"
    assert panel.text("#live-step") == "3 of 5: Enter the security code"
    assert panel.text("#live-credential") == credential.credential_id
    error = panel.text("#live-error")
    assert "The code did not match." in error
    assert "wait for the next code and read it out" in error
    assert "What to say" in error

    # Back to step 2: the current step and the furthest step differ.
    browser.get("/enroll/credential-id")
    page = client_request.get(f"/helpdesk?code={code}")
    assert page.text("#live-step") == (
        "2 of 5: Find your Credential ID (furthest: Enter the security code)"
    )
    assert page.text("#live-page") == "Step 2: Find your Credential ID"


def test_a_lost_report_shows_in_the_live_view_with_what_to_say(
    app, client_request, console, prescriber_browser, make_account, clock
):
    prescriber = make_account(("Active", "Active"))
    browser = prescriber_browser
    code = footer_code(browser.get("/lost-token"))
    post(browser, "/lost-token", {"npi": prescriber.npi, "passphrase": prescriber.passphrase})
    post(browser, "/lost-token/choose", {"token": str(prescriber.tokens[1].id)})
    assert live(client_request, code).select_one("#live-change") is None

    assert post(browser, "/lost-token/confirm").status_code == 303
    panel = live(client_request, code)
    change = panel.text("#live-change")
    assert "15:00:00 UTC: They reported a token lost. It is suspended" in change
    assert "What to say: If they find it within 30 days they can reactivate it" in change
    assert "Change: They reported a token lost." in panel.text("#live-timeline")

    clock.advance(60)
    secret = prescriber.tokens[1].secret
    post(
        browser,
        f"/lost-token/reactivate/{prescriber.tokens[1].id}",
        {"code": pyotp.TOTP(secret).at(clock())},
    )
    assert "They reactivated a token they had reported lost" in live(client_request, code).text(
        "#live-change"
    )


def test_live_view_says_a_reused_code_and_a_wrong_credential_id_in_plain_words(
    app, client_request, console, prescriber_browser, make_account, vip, clock
):
    prescriber = make_account()
    browser = prescriber_browser
    code = footer_code(browser.get("/sign-in"))
    sign_in(browser, prescriber, clock())
    post(browser, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})

    assert post(browser, "/enroll/credential-id", {"credential_id": "SYMC1234"}).status_code == 422
    error = live(client_request, code).text("#live-error")
    assert "The Credential ID they typed is not in a form we accept." in error
    assert "four letters, then eight digits" in error

    credential = vip.issue()
    post(browser, "/enroll/credential-id", {"credential_id": credential.credential_id})
    right = vip.code(credential)
    assert post(browser, "/enroll/security-code", {"code": right}).status_code == 303
    post(browser, "/enroll/start-over")
    post(browser, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    post(browser, "/enroll/credential-id", {"credential_id": credential.credential_id})
    assert post(browser, "/enroll/security-code", {"code": right}).status_code == 422
    error = live(client_request, code).text("#live-error")
    assert "They entered a code that was already used." in error
    assert "Each code works once" in error


def test_live_timeline_lists_pages_and_problems_in_plain_words(
    app, client_request, console, prescriber_browser, make_account, vip, clock
):
    prescriber = make_account()
    browser = prescriber_browser
    code = footer_code(browser.get("/sign-in"))
    sign_in(browser, prescriber, clock())
    browser.get("/enroll/get-app")
    post(browser, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    browser.get("/enroll/credential-id")
    credential = vip.issue()
    post(browser, "/enroll/credential-id", {"credential_id": credential.credential_id})
    post(browser, "/enroll/security-code", {"code": vip.wrong_code(credential)})

    items = [li.text for li in live(client_request, code).select("#live-timeline li")]
    assert all(re.match(r"\d\d:\d\d:\d\d ", item) for item in items), items
    said = [item[9:] for item in items]
    for expected in [
        "Sign in",
        "Step 1: Get the app or key fob",
        "Step 2: Find your Credential ID",
        "Step 3: Enter the security code",
        "Problem: The code did not match.",
    ]:
        assert expected in said, said
    assert said.index("Step 1: Get the app or key fob") < said.index(
        "Step 2: Find your Credential ID"
    )
    assert said.index("Step 3: Enter the security code") < said.index(
        "Problem: The code did not match."
    )
    assert not any("wrong-code" in item for item in items), items


def test_live_view_shows_the_invited_name_and_npi_during_onboarding(
    app, client_request, console, prescriber_browser, clock
):
    npi = new_npi()
    with app.app_context():
        invitation, _row = invitations.create(
            npi=npi, name="Dr. Casey Newcomer", email="casey@example.org", now=clock()
        )
    browser = prescriber_browser
    code = footer_code(browser.get("/start"))
    assert live(client_request, code).text("#live-person") == "Not known yet"
    assert post(browser, "/start", {"invitation": invitation, "npi": npi}).status_code == 303
    browser.get("/start/confirm")
    panel = live(client_request, code)
    assert person(panel) == f"Dr. Casey Newcomer (NPI {npi})"
    assert panel.text("#live-page") == "Onboarding: confirm name"


def test_live_panel_polls_itself_and_offers_a_reload_without_javascript(
    client_request, console, prescriber_browser
):
    code = footer_code(prescriber_browser.get("/sign-in"))
    page = client_request.get(f"/helpdesk?code={code}")
    panel = page.select_one("#live")
    assert panel["hx-get"] == f"/helpdesk/live/{code}"
    seconds = re.fullmatch(r"every (\d+(?:\.\d+)?)s", panel["hx-trigger"])
    assert seconds and float(seconds.group(1)) <= 2
    assert page.select_one(f'#live a[href="/helpdesk?code={code}"]')
    partial = live(client_request, code)
    assert partial.select_one("#live")["hx-get"] == f"/helpdesk/live/{code}"
    assert "<html" not in partial.html


# --- No secret on a console page ---------------------------------------------------------------


def test_console_pages_never_show_a_code_passphrase_seed_or_session_id(
    app, client, client_request, console, prescriber_browser, make_account, vip, clock
):
    prescriber = make_account(("Active", "Inactive"))
    browser = prescriber_browser
    support = footer_code(browser.get("/sign-in"))
    # A wrong passphrase and a wrong code first: typed secrets the help desk must not see.
    wrong_passphrase = "lantern river plum 24"
    passphrase_step(browser, prescriber.npi, wrong_passphrase)
    passphrase_step(browser, prescriber.npi, prescriber.passphrase)
    bad_sign_in_code = wrong_code(prescriber.token(), clock())
    code_step(browser, prescriber.token().id, bad_sign_in_code)
    sign_in_code = prescriber.token().code(at=clock() + timedelta(seconds=30))
    assert passphrase_step(browser, prescriber.npi, prescriber.passphrase).status_code == 303
    assert code_step(browser, prescriber.token().id, sign_in_code).status_code == 303
    # A new token: a wrong code, then the right one, saved.
    credential = vip.issue()
    post(browser, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    post(browser, "/enroll/credential-id", {"credential_id": credential.credential_id})
    wrong_enrol_code = vip.wrong_code(credential)
    post(browser, "/enroll/security-code", {"code": wrong_enrol_code})
    right_enrol_code = vip.code(credential)
    post(browser, "/enroll/security-code", {"code": right_enrol_code})
    assert post(browser, "/enroll/name", {"nickname": "Work phone"}).status_code == 303
    assert browser.get("/enroll/done").status_code == 200
    cookie = session_cookie(browser)
    assert cookie

    codes = [bad_sign_in_code, sign_in_code, wrong_enrol_code, right_enrol_code]
    for code in codes:
        client.never_show(code)  # the watchful client checks every response the agent gets
    texts = [
        prescriber.passphrase,
        wrong_passphrase,
        cookie,
        credential.secret,
        *(t.secret for t in prescriber.tokens),
        console.secret,
    ]

    pages = [
        f"/helpdesk?code={support}",
        f"/helpdesk/live/{support}",
        "/helpdesk/script",
        "/helpdesk/funnel",
        "/helpdesk/funnel?days=30",
        "/helpdesk/funnel.csv",
        "/helpdesk/funnel.csv?days=30",
    ]
    seen = []
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        seen.append(body)
        for code in codes:
            assert not re.search(rf"(?<!\d){code}(?!\d)", body), f"{url} shows the code {code}"
        for text in texts:
            for form in {text, text.lower(), text.upper()}:
                assert form not in body, f"{url} shows a secret ({text[:4]}…)"
    # It was a real walk-through: the console saw it.
    assert "Step 5: Done" in seen[0]
    assert credential.credential_id in seen[0]

    # Nor is any of it kept where the console reads from.
    with app.app_context():
        stored = [
            repr([(r.__dict__) for r in db.session.scalars(select(model))])
            for model in (SupportSession, SupportEvent, WizardRun)
        ]
    for dump in stored:
        for text in [*texts, *codes]:
            assert text not in dump


# --- Audit -------------------------------------------------------------------------------------


def test_every_console_view_is_audited_with_the_agent_and_the_code(
    app, client, console, prescriber_browser
):
    code = footer_code(prescriber_browser.get("/sign-in"))
    client.get("/helpdesk")  # the empty console: no code looked at
    client.get(f"/helpdesk?code={code}")
    client.get(f"/helpdesk?code={code.lower()}")
    client.get("/helpdesk?code=ZZZ-ZZZ")
    views = audit_events(app, "helpdesk.view")
    assert [(e.actor, e.outcome, detail(e).get("support_code")) for e in views] == [
        (ACTOR, "found", code),
        (ACTOR, "found", code),
        (ACTOR, "not-found", "ZZZ-ZZZ"),
    ]
    assert all(e.prescriber_id is None for e in views)


def test_a_console_view_of_a_signed_in_prescriber_names_them_in_the_audit(
    app, client, console, prescriber_browser, account, clock
):
    code = footer_code(prescriber_browser.get("/sign-in"))
    sign_in(prescriber_browser, account, clock())
    prescriber_browser.get("/enroll/get-app")
    client.get(f"/helpdesk?code={code}")
    [view] = audit_events(app, "helpdesk.view")
    assert (view.actor, view.outcome) == (ACTOR, "found")
    assert detail(view)["support_code"] == code


# --- The script --------------------------------------------------------------------------------


def test_script_has_words_and_problems_for_every_step(client_request, console):
    page = client_request.get("/helpdesk/script")
    sections = page.select("section.script-step")
    titles = [s.select_one("h2").text for s in sections]
    for n, title in enumerate(
        [
            "Get the app or key fob",
            "Find your Credential ID",
            "Enter the security code",
            "Name and save",
            "Done",
        ],
        start=1,
    ):
        matching = [s for s in sections if s.select_one("h2").text.startswith(f"Step {n}:")]
        assert len(matching) == 1, titles
        [section] = matching
        assert title in section.select_one("h2").text
        assert section.select("ol li"), f"step {n} has no words to say"
        rows = section.select("tbody tr")
        assert rows and all(len(r.select("td")) == 2 for r in rows), f"step {n}: problems"
        assert all(td.text for r in rows for td in r.select("td"))
    assert "Sign in" in titles
    # The code step's usual problem, with its fix.
    code_step_section = next(s for s in sections if s.select_one("h2").text.startswith("Step 3"))
    assert "Wait for the next code" in code_step_section.text


def test_script_is_printable(client_request, console):
    page = client_request.get("/helpdesk/script")
    sheets = [link["href"] for link in page.select('link[rel="stylesheet"]')]
    assert "/static/css/app.css" in sheets
    css = (ROOT / "static" / "css" / "app.css").read_text()
    blocks = re.findall(r"@media print\s*\{(.*?\})\s*\}", css, re.S)
    assert blocks, "no print stylesheet"
    printed = " ".join(blocks)
    for hidden in (".site-header", ".subnav"):
        assert hidden in printed, f"{hidden} is printed"
    assert "break-inside: avoid" in printed


def test_console_pages_are_linked_from_each_other(client_request, console):
    for url in ("/helpdesk", "/helpdesk/script", "/helpdesk/funnel"):
        nav = client_request.get(url).select_one('nav[aria-label="Help desk"]')
        links = {a["href"]: a.get("aria-current") for a in nav.select("a")}
        assert set(links) == {"/helpdesk", "/helpdesk/script", "/helpdesk/funnel"}
        assert links[url] == "page"


def test_sign_in_page_for_agents_is_not_a_prescriber_page(client_request):
    page = client_request.get("/helpdesk/sign-in")
    assert page.h1 == "Help desk sign in"
    labels = [label.text for label in page.select("label")]
    assert labels == ["Username", "Passphrase", "Code from your authenticator app"]


# --- Issue 14: what the live view says ---------------------------------------------------------


def test_live_view_shows_a_problem_as_resolved_once_they_reach_done(
    app, client_request, console, prescriber_browser, make_account, vip, clock
):
    prescriber = make_account()
    browser = prescriber_browser
    code = footer_code(browser.get("/sign-in"))
    sign_in(browser, prescriber, clock())
    post(browser, "/enroll/get-app", {"platform": "iphone", "different_device": "y"})
    credential = vip.issue()
    post(browser, "/enroll/credential-id", {"credential_id": credential.credential_id})
    post(browser, "/enroll/security-code", {"code": vip.wrong_code(credential)})
    assert "What to say" in live(client_request, code).text("#live-error")

    clock.advance(30)
    post(browser, "/enroll/security-code", {"code": vip.code(credential)})
    post(browser, "/enroll/name", {"nickname": "Desk phone"})
    browser.get("/enroll/done")
    panel = live(client_request, code)
    resolved = panel.select_one("#live-error")
    assert "notice--success" in resolved["class"]
    assert resolved.text.startswith("Resolved (")
    assert "they reached Done" in resolved.text
    assert "The code did not match." in resolved.text, "what it was, for the record"
    assert "What to say" not in resolved.text

    # A new problem after Done (a backup run) is open again.
    post(browser, "/enroll/backup", {"choice": "add"})
    post(browser, "/enroll/get-app", {"platform": "android", "different_device": "y"})
    post(browser, "/enroll/credential-id", {"credential_id": "SYMC1234"})
    error = live(client_request, code).select_one("#live-error")
    assert "notice--warning" in error["class"] and "What to say" in error.text


def picked(panel) -> str:
    """The live view's token picked to sign in, as read: "Token 2 (SYMC12345678, Active)"."""
    return re.sub(r"\(\s+", "(", re.sub(r"\s+([,)])", r"\1", panel.text("#live-sign-in-token")))


def test_live_view_names_the_device_type_and_the_token_picked_to_sign_in(
    app, client_request, console, prescriber_browser, make_account, clock
):
    prescriber = make_account(("Active", "Active"))
    first, second = prescriber.tokens
    browser = prescriber_browser
    code = footer_code(browser.get("/sign-in"))
    panel = live(client_request, code)
    labels = [dt.text for dt in panel.select("#live dt")]
    assert "Device type" in labels and "Token chosen" not in labels
    assert panel.text("#live-sign-in-token") == "No token picked yet"

    passphrase_step(browser, prescriber.npi, prescriber.passphrase)
    assert code_step(browser, second.id, "000000").status_code == 422
    panel = live(client_request, code)
    assert person(panel) == f"{prescriber.name} (NPI {prescriber.npi})"
    assert picked(panel) == f"{second.nickname} ({second.credential_id}, Active)"
    assert "Picked a token to sign in with" in panel.text("#live-timeline")

    assert code_step(browser, first.id, first.code(at=clock())).status_code == 303
    panel = live(client_request, code)
    assert picked(panel) == f"{first.nickname} ({first.credential_id}, Active)"


def test_the_testing_kit_names_only_labels_the_live_view_has(
    client_request, console, prescriber_browser
):
    """HelpDeskConsole.field(name) matches a label exactly: a name the page lacks waits forever."""
    kit = (ROOT / "docs" / "TESTING-KIT.md").read_text()
    listed = kit.split("`field(name)` for", 1)[1].split("(it refreshes", 1)[0]
    names = re.findall(r'"([^"]+)"', listed)
    code = footer_code(prescriber_browser.get("/sign-in"))
    labels = [dt.text for dt in live(client_request, code).select("#live dt")]
    live_template = (ROOT / "templates" / "helpdesk" / "_live.html").read_text()
    assert "Token picked to sign in" in names and "Device type" in names
    for name in names:
        # "Serial number" replaces "Credential ID" once a key fob is chosen.
        assert name in labels or (name == "Serial number" and f'"{name}"' in live_template), name


def test_live_view_never_shows_another_prescribers_token_as_picked(
    app, client_request, console, prescriber_browser, make_account, clock
):
    """A token id posted that is not one of the choices is not recorded."""
    prescriber, other = make_account(), make_account()
    browser = prescriber_browser
    code = footer_code(browser.get("/sign-in"))
    passphrase_step(browser, prescriber.npi, prescriber.passphrase)
    assert code_step(browser, other.token().id, "123456").status_code == 422
    assert live(client_request, code).text("#live-sign-in-token") == "No token picked yet"


def test_live_view_titles_a_key_fobs_step_2_for_its_serial_number(
    app, client_request, console, prescriber_browser, make_account, clock
):
    prescriber = make_account()
    browser = prescriber_browser
    code = footer_code(browser.get("/sign-in"))
    sign_in(browser, prescriber, clock())
    post(browser, "/enroll/get-app", {"platform": "onespan"})
    browser.get("/enroll/credential-id")
    panel = live(client_request, code)
    assert panel.text("#live-step") == "2 of 5: Find the serial number"
    assert "Serial number" in [dt.text for dt in panel.select("#live dt")]


def test_setup_page_shows_no_signed_in_agent_before_setup_is_done(client, runner):
    link = setup_link(runner, "sam.setup")
    page = client.get(link).get_data(as_text=True)
    assert "Help desk: sam.setup" not in page
    assert "Sign out" not in page
    assert "sam.setup" in page, "the username is still named on the page"


def test_script_covers_key_fobs_lost_tokens_and_passphrase_resets(client_request, console):
    page = client_request.get("/helpdesk/script")
    sections = {s.select_one("h2").text: s for s in page.select("section.script-step")}
    for title, words in [
        ("Key fob, step 2: Find the serial number", ["printed on the back", "AVT or FT"]),
        ("Key fob, step 3: Enter the security code", ["Press the button once"]),
        ("A lost or stolen token", ["one business day", "no code is needed"]),
        ("A forgotten passphrase", ["reset code", "Forgot your passphrase?"]),
    ]:
        section = sections[title]
        assert section.select("ol li") and section.select("tbody tr"), title
        for word in words:
            assert word in section.text, (title, word)
    lost = sections["A lost or stolen token"].text
    # Wording that stays true when a lost token is suspended first and may be reactivated.
    for promise in ("never", "for good", "permanent", "cannot be used again"):
        assert promise not in lost


def test_script_tells_agents_a_found_token_can_be_reactivated_within_30_days(
    client_request, console
):
    page = client_request.get("/helpdesk/script")
    sections = {s.select_one("h2").text: s for s in page.select("section.script-step")}
    lost = sections["A lost or stolen token"]
    problems = {row.select_one("th, td").text.strip(): row.text for row in lost.select("tbody tr")}
    assert "Found the token again" in problems
    assert "Reactivate with a code from it" in problems["Found the token again"]
    assert "30 days" in lost.select_one("ol").text
