"""Secrets (issue 7): what must never be logged or shown, session fixation, clickjacking, CSRF.

Every flow runs with every logger at DEBUG (the root logger, so the app's, werkzeug's and
SQLAlchemy's too; SQLAlchemy logs each statement and its parameters at that level). Nothing
typed or held as a secret may then appear in a log line, nor in any page or header, except
the pages that exist to show it: the sandbox's practice app (codes and seeds) and the
help-desk setup page (the agent's own new authenticator key):
- one-time codes typed (right and wrong), matched as whole numbers;
- seeds: the base32 secret of every token and credential used, and the agent's TOTP secret;
- passphrases, right, wrong and new;
- reset codes and Invitation IDs (as issued, and without their dashes);
- session ids: every value the session cookie took during the flow.

Also: the session id rotates at prescriber and agent sign-in and a planted or old id gets
nowhere; X-Frame-Options DENY and CSP frame-ancestors 'none' on every route of the url_map
(anonymous, signed in, agent, error pages); and every POST route of the url_map refuses a
post without its CSRF token with the "form has expired" page and no change in the database,
then accepts the same post with it (so the refusal was the token's doing).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from scenarios import (
    POST_SCENARIOS,
    STRONG_PASSPHRASE,
    Frozen,
    Scenario,
    World,
    post_endpoints,
)
from signing import post
from support.csrf import csrf_token, session_cookie
from support.http import HttpClient, serve
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

COOKIE = "wizard_session"
DIGITS = "(?<![0-9]){}(?![0-9])"


class Secrets:
    """What a flow typed or was given, and every response it got."""

    def __init__(self) -> None:
        self.codes: set[str] = set()
        self.seeds: set[str] = set()
        self.words: set[str] = set()  # passphrases, reset codes, Invitation IDs
        self.session_ids: set[str] = set()
        self.agent_seeds: set[str] = set()
        self.responses: list[TestResponse] = []
        self.setup_finished_at: int | None = None  # responses after it may not show the key

    def code(self, value: str) -> str:
        self.codes.add(value)
        return value

    def seed(self, value: str) -> str:
        self.seeds.add(value)
        return value

    def word(self, value: str) -> str:
        self.words.add(value)
        if "-" in value:
            self.words.add(value.replace("-", ""))
        return value

    def found_in(self, text: str, *, agent_seed_allowed: bool = False) -> list[str]:
        found = [c for c in self.codes if re.search(DIGITS.format(c), text)]
        plain = self.seeds | self.words | self.session_ids
        if not agent_seed_allowed:
            plain |= self.agent_seeds
        found += [s for s in plain if s and s in text]
        return found


class Recording(FlaskClient):
    """A test client that keeps every response and every session id it was given."""

    secrets: Secrets

    def open(self, *args, **kwargs) -> TestResponse:
        response = super().open(*args, **kwargs)
        self.secrets.responses.append(response)
        cookie = self.get_cookie(COOKIE)
        if cookie is not None and cookie.value:
            self.secrets.session_ids.add(cookie.value)
        return response


@pytest.fixture
def secrets() -> Secrets:
    return Secrets()


@pytest.fixture
def world(app: Flask, clock, secrets: Secrets) -> World:
    class Client(Recording):
        pass

    Client.secrets = secrets
    app.test_client_class = Client
    return World(app, clock)


@pytest.fixture
def logs(caplog) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, from before the first request."""
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "werkzeug", "wizard", "flask_session", "flask_limiter"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


SQL = "sqlalchemy"


def assert_nothing_leaked(secrets: Secrets, logs: pytest.LogCaptureFixture) -> None:
    """No secret in a log line or a page (every leak is listed, not just the first).
    SQLAlchemy's statement log is checked here for everything but session ids:
    test_sql_logging_shows_no_session_id looks at those."""
    assert secrets.session_ids, "the flow had a session"
    assert logs.records, "the flow was logged"
    problems = []
    for record in logs.records:
        line = record.getMessage()
        if record.exc_info:
            line += "\n" + logging.Formatter().formatException(record.exc_info)
        leaked = secrets.found_in(line)
        if record.name.startswith(SQL):
            leaked = [s for s in leaked if s not in secrets.session_ids]
        if leaked:
            problems.append(f"{record.name} logged {leaked} in {line[:200]!r}")
    for index, response in enumerate(secrets.responses):
        path = response.request.path
        if path.startswith("/sandbox/"):
            continue  # the practice app shows codes and seeds: that is what it is for
        finished = secrets.setup_finished_at is not None and index >= secrets.setup_finished_at
        setup_page = path.startswith("/helpdesk/setup/") and not finished
        body = response.get_data(as_text=True)
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        leaked = secrets.found_in(body, agent_seed_allowed=setup_page)
        leaked += secrets.found_in(headers.replace(_set_cookie_lines(response), ""))
        if leaked:
            where = [line.strip() for line in body.splitlines() if any(x in line for x in leaked)]
            problems.append(
                f"{response.request.method} {path} ({response.status_code}) shows {leaked}: "
                f"{where[:2]}"
            )
    assert not problems, "\n".join(problems)


def _set_cookie_lines(response: TestResponse) -> str:
    """The Set-Cookie headers, where the session id belongs."""
    return "\n".join(f"Set-Cookie: {v}" for v in response.headers.getlist("Set-Cookie"))


# --- Flows -------------------------------------------------------------------------------------


def wrong(secret: str, world: World, secrets: Secrets) -> str:
    totp = pyotp.TOTP(secret)
    near = {totp.at(world.now(), counter_offset=k) for k in (-1, 0, 1)}
    candidate = int(totp.at(world.now()))
    while f"{candidate:06d}" in near:
        candidate = (candidate + 500_001) % 1_000_000
    return secrets.code(f"{candidate:06d}")


def known_account(world: World, secrets: Secrets, statuses=("Active", "Active", "Inactive")):
    account = world.account(statuses)
    secrets.word(account.passphrase)
    for token in account.tokens:
        secrets.seed(token.secret)
    return account


def signed_in_client(world: World, secrets: Secrets, account) -> FlaskClient:
    client = world.client()
    client.get("/sign-in")
    world.post(client, "/sign-in", {"npi": account.npi, "passphrase": account.passphrase})
    token = account.token("Active")
    world.post(
        client,
        "/sign-in/code",
        {"token": str(token.id), "code": secrets.code(world.totp(token.secret, -1))},
        "/",
    )
    return client


def test_sign_in_and_out_leak_nothing(world: World, secrets: Secrets, logs):
    account = known_account(world, secrets)
    client = world.client()
    client.get("/sign-in")
    wrong_passphrase = secrets.word("lantern river plum 24")
    world.post(client, "/sign-in", {"npi": account.npi, "passphrase": wrong_passphrase})
    world.post(client, "/sign-in", {"npi": account.npi, "passphrase": account.passphrase})
    token = account.token("Active")
    world.post(
        client, "/sign-in/code", {"token": token.id, "code": wrong(token.secret, world, secrets)}
    )
    world.post(
        client,
        "/sign-in/code",
        {"token": token.id, "code": secrets.code(world.totp(token.secret))},
        "/",
    )
    client.get("/")
    client.get("/tokens")
    world.post(client, "/sign-out", {}, "/sign-in")
    assert_nothing_leaked(secrets, logs)


def test_the_wizard_leaks_nothing(world: World, secrets: Secrets, logs, app):
    account = known_account(world, secrets, ("Active",))
    client = signed_in_client(world, secrets, account)
    for platform, kind in (("iphone", "vip"), ("onespan", "onespan")):
        issued = world.issue(kind)
        secrets.seed(issued.secret)
        client.get("/enroll")
        client.get("/enroll/get-app?device=" + platform)
        world.post(client, "/enroll/get-app", {"platform": platform, "different_device": "y"})
        client.get("/enroll/credential-id", headers={"HX-Request": "true"})
        world.post(client, "/enroll/credential-id", {"credential_id": issued.credential_id})
        world.post(client, "/enroll/security-code", {"code": wrong(issued.secret, world, secrets)})
        client.get("/enroll/security-code?clear=1")
        code = secrets.code(world.totp(issued.secret))
        world.post(client, "/enroll/security-code", {"code": code}, "/enroll/name")
        client.get("/enroll/credential-id")  # back: values shown again, never the code
        client.get("/enroll/name")
        world.post(client, "/enroll/name", {"nickname": f"My {platform}"}, "/enroll/done")
        client.get("/enroll/done")
        world.post(client, "/enroll/backup", {"choice": "add"})
    # A key fob that ran ahead: two codes in a row.
    fob = world.issue("symantec-hard")
    secrets.seed(fob.secret)
    hotp = pyotp.HOTP(fob.secret)
    world.post(client, "/enroll/get-app", {"platform": "symantec-hard", "different_device": "y"})
    world.post(client, "/enroll/credential-id", {"credential_id": fob.credential_id})
    world.post(client, "/enroll/security-code", {"code": secrets.code(hotp.at(40))})
    world.post(
        client,
        "/enroll/security-code",
        {"code": secrets.code(hotp.at(41)), "next_code": secrets.code(hotp.at(42))},
        "/enroll/name",
    )
    world.post(client, "/enroll/name", {"nickname": "Key fob"}, "/enroll/done")
    client.get("/tokens")
    assert_nothing_leaked(secrets, logs)


def test_token_actions_leak_nothing(world: World, secrets: Secrets, logs):
    account = known_account(world, secrets, ("Active", "Active", "Inactive"))
    client = signed_in_client(world, secrets, account)
    first, second, inactive = account.tokens
    for action in ("rename", "disable", "delete", "enable"):
        client.get(f"/tokens/{second.id}/{action}")
        client.get(f"/tokens/{second.id}/{action}", headers={"HX-Request": "true"})
    world.post(client, f"/tokens/{second.id}/rename", {"nickname": "Spare"}, "/tokens")
    client.get(f"/tokens/{second.id}/history")
    world.post(
        client, f"/tokens/{inactive.id}/enable", {"code": wrong(inactive.secret, world, secrets)}
    )
    code = secrets.code(world.totp(inactive.secret))
    world.post(client, f"/tokens/{inactive.id}/enable", {"code": code}, "/tokens")
    world.post(client, f"/tokens/{second.id}/disable", {"reason": "temporary"}, "/tokens")
    world.post(client, f"/tokens/{inactive.id}/disable", {"reason": "lost"}, "/tokens")
    # first is now the last Active token: deleting it asks for a code from it.
    world.post(
        client,
        f"/tokens/{first.id}/delete",
        {"acknowledge": "y", "code": wrong(first.secret, world, secrets)},
    )
    last = {"acknowledge": "y", "code": secrets.code(world.totp(first.secret))}
    world.post(client, f"/tokens/{first.id}/delete", last, "/tokens")
    client.get("/tokens?deleted=1")
    assert_nothing_leaked(secrets, logs)


def test_a_lost_token_report_leaks_nothing(world: World, secrets: Secrets, logs):
    account = known_account(world, secrets, ("Active", "Active"))
    client = world.client()
    client.get("/lost-token")
    world.post(
        client, "/lost-token", {"npi": account.npi, "passphrase": secrets.word("wrong words here")}
    )
    world.post(client, "/lost-token", {"npi": account.npi, "passphrase": account.passphrase})
    client.get("/lost-token/choose")
    world.post(client, "/lost-token/choose", {"token": account.tokens[1].id}, "/lost-token/confirm")
    client.get("/lost-token/confirm")
    world.post(client, "/lost-token/confirm", {}, "/lost-token/done")
    client.get("/lost-token/done")
    assert_nothing_leaked(secrets, logs)


def test_a_passphrase_reset_leaks_nothing(world: World, secrets: Secrets, logs, runner):
    account = known_account(world, secrets, ("Active",))
    issued = runner.invoke(args=["reset-passphrase", "--npi", account.npi])
    reset = secrets.word(re.search(r"Reset code: (\S+)", issued.output).group(1))
    token = account.token()
    client = world.client()
    client.get("/forgot-passphrase")
    world.post(
        client,
        "/forgot-passphrase",
        {"npi": account.npi, "code": wrong(token.secret, world, secrets), "reset_code": reset},
    )
    world.post(
        client,
        "/forgot-passphrase",
        {
            "npi": account.npi,
            "code": secrets.code(world.totp(token.secret, -1)),
            "reset_code": "ABCD-EFGH-JKMN-PQRS",
        },
    )
    world.post(
        client,
        "/forgot-passphrase",
        {"npi": account.npi, "code": secrets.code(world.totp(token.secret)), "reset_code": reset},
        "/forgot-passphrase/new",
    )
    client.get("/forgot-passphrase/new?clear=1")
    weak = secrets.word("too short")
    world.post(client, "/forgot-passphrase/new", {"passphrase": weak, "confirm": weak})
    new = secrets.word(STRONG_PASSPHRASE)
    world.post(client, "/forgot-passphrase/new", {"passphrase": new, "confirm": new + "x"})
    world.post(client, "/forgot-passphrase/new", {"passphrase": new, "confirm": new}, "/sign-in")
    world.post(client, "/sign-in", {"npi": account.npi, "passphrase": new}, "/sign-in/code")
    assert_nothing_leaked(secrets, logs)


def test_onboarding_leaks_nothing(world: World, secrets: Secrets, logs, runner):
    npi = world.new_npi()
    made = runner.invoke(
        args=["invite", "--npi", npi, "--name", "Dr. Casey New", "--email", "casey@example.org"]
    )
    invitation = secrets.word(re.search(r"Invitation ID: (\S+)", made.output).group(1))
    client = world.client()
    client.get("/start")
    other_npi = world.new_npi()
    world.post(client, "/start", {"invitation": invitation, "npi": other_npi})
    world.post(client, "/start", {"invitation": invitation.lower(), "npi": npi}, "/start/confirm")
    client.get("/start/confirm")
    world.post(client, "/start/confirm", {"answer": "yes"}, "/start/passphrase")
    weak = secrets.word("too short")
    world.post(client, "/start/passphrase", {"passphrase": weak, "confirm": weak})
    new = secrets.word(STRONG_PASSPHRASE)
    world.post(client, "/start/passphrase", {"passphrase": new, "confirm": new}, "/enroll")
    client.get("/enroll/get-app")
    assert_nothing_leaked(secrets, logs)


def test_the_help_desk_leaks_nothing(world: World, secrets: Secrets, logs, runner):
    made = runner.invoke(args=["helpdesk", "add", "sam.agent"])
    link = re.search(r"(/helpdesk/setup/\S+)", made.output).group(1)
    client = world.client()
    setup = client.get(link)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', setup.get_data(as_text=True)).group(1)
    secrets.agent_seeds.add(secret)
    passphrase = secrets.word("amber fjord cello 2044")
    world.post(
        client,
        link,
        {"passphrase": passphrase, "confirm": passphrase, "code": wrong(secret, world, secrets)},
    )
    setup_code = secrets.code(world.totp(secret, -1))
    world.post(
        client,
        link,
        {"passphrase": passphrase, "confirm": passphrase, "code": setup_code},
        "/helpdesk/sign-in",
    )
    secrets.setup_finished_at = len(secrets.responses)
    assert client.get(link).status_code == 404, "the setup link works once"
    # A prescriber somewhere in the wizard, with a support code to read out.
    account = known_account(world, secrets, ("Active",))
    prescriber = signed_in_client(world, secrets, account)
    prescriber.get("/enroll/get-app")
    support_code = re.search(
        r'support-code">([A-Z0-9-]+)<', prescriber.get("/enroll/get-app").get_data(as_text=True)
    ).group(1)
    agent = world.client()
    agent.get("/helpdesk/sign-in")
    world.post(
        agent,
        "/helpdesk/sign-in",
        {"username": "sam.agent", "passphrase": passphrase, "code": wrong(secret, world, secrets)},
    )
    world.post(
        agent,
        "/helpdesk/sign-in",
        {
            "username": "sam.agent",
            "passphrase": passphrase,
            "code": secrets.code(world.totp(secret)),
        },
        "/helpdesk",
    )
    agent.get("/helpdesk")
    agent.get(f"/helpdesk?code={support_code}")
    agent.get(f"/helpdesk/live/{support_code}")
    agent.get("/helpdesk/script")
    agent.get("/helpdesk/funnel?days=30")
    agent.get("/helpdesk/funnel.csv")
    world.post(agent, "/helpdesk/sign-out", {}, "/helpdesk/sign-in")
    assert_nothing_leaked(secrets, logs)


def test_the_sandbox_is_the_one_place_that_shows_codes(world: World, secrets: Secrets, logs):
    """The exemption is narrow: the practice app shows its own code; no other page does."""
    issued = world.issue()
    client = world.client()
    page = client.get(f"/sandbox/vip-access?credential={issued.credential_id}")
    code = world.totp(issued.secret)
    assert code in page.get_data(as_text=True)
    secrets.code(code)
    secrets.seed(issued.secret)
    client.get("/sign-in")
    secrets.responses = [r for r in secrets.responses if r.request.path == "/sign-in"]
    assert_nothing_leaked(secrets, logs)


def test_a_real_server_logs_no_secret_in_its_request_lines(app: Flask, world, logs):
    """Through werkzeug's server, whose request log names every path and query string."""
    account = world.account()
    token = account.token()
    issued = world.issue()
    secrets_typed = [account.passphrase, token.secret, issued.secret]
    codes = []
    with serve(app) as base_url:
        browser = HttpClient(base_url)
        browser.post("/sign-in", {"npi": account.npi, "passphrase": account.passphrase})
        codes.append(world.totp(token.secret))
        assert (
            browser.post("/sign-in/code", {"token": token.id, "code": codes[-1]}).status_code == 303
        )
        browser.post("/enroll/get-app", {"platform": "iphone", "different_device": "y"})
        browser.post("/enroll/credential-id", {"credential_id": issued.credential_id})
        codes.append(world.totp(issued.secret))
        assert browser.post("/enroll/security-code", {"code": codes[-1]}).status_code == 303
        browser.post("/enroll/name", {"nickname": "Phone"})
        session_id = browser.cookies["wizard_session"]
    werkzeug_lines = [r.getMessage() for r in logs.records if r.name == "werkzeug"]
    assert any("POST /enroll/name" in line for line in werkzeug_lines), "requests were logged"
    app_lines = "\n".join(r.getMessage() for r in logs.records if not r.name.startswith(SQL))
    for value in [*secrets_typed, session_id]:
        assert value not in app_lines
    for code in codes:
        assert not re.search(DIGITS.format(code), app_lines)


def test_sql_logging_shows_no_session_id(world: World, secrets: Secrets, logs):
    """SQLAlchemy at INFO/DEBUG logs every statement with its parameters; the session
    interface looks sessions up by id, so the id would be in those lines unless the engine
    hides parameters (create_engine(..., hide_parameters=True))."""
    account = known_account(world, secrets, ("Active",))
    client = signed_in_client(world, secrets, account)
    client.get("/enroll/get-app")
    sql_lines = [r.getMessage() for r in logs.records if r.name.startswith(SQL)]
    assert sql_lines, "SQLAlchemy logged its statements"
    shown = [line for line in sql_lines if any(sid in line for sid in secrets.session_ids)]
    assert not shown, f"{len(shown)} SQL log lines carry a session id, e.g. {shown[0][:160]!r}"


# --- Session fixation --------------------------------------------------------------------------


def test_a_planted_session_id_is_replaced_at_prescriber_sign_in(app, world, secrets):
    account = known_account(world, secrets, ("Active",))
    attacker = app.test_client()
    attacker.get("/sign-in")
    planted = session_cookie(attacker)
    victim = app.test_client()
    victim.set_cookie(COOKIE, planted)
    world.post(victim, "/sign-in", {"npi": account.npi, "passphrase": account.passphrase})
    token = account.token()
    world.post(victim, "/sign-in/code", {"token": token.id, "code": world.totp(token.secret)}, "/")

    assert session_cookie(victim) != planted, "the id must change at sign-in"
    assert victim.get("/tokens").status_code == 200
    response = attacker.get("/tokens")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    stale = app.test_client()
    stale.set_cookie(COOKIE, planted)
    assert stale.get("/enroll/get-app").status_code == 302


def test_a_planted_session_id_is_replaced_at_agent_sign_in(app, world):
    agent = world.agent()
    attacker = app.test_client()
    attacker.get("/helpdesk/sign-in")
    planted = session_cookie(attacker)
    victim = app.test_client()
    victim.set_cookie(COOKIE, planted)
    world.agent_sign_in(victim, agent)

    assert session_cookie(victim) != planted, "the id must change at agent sign-in"
    assert victim.get("/helpdesk").status_code == 200
    response = attacker.get("/helpdesk")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/helpdesk/sign-in")


def test_the_session_id_changes_when_an_invitation_signs_the_prescriber_in(app, world):
    code, npi = world.invitation()
    client = app.test_client()
    world.post(client, "/start", {"invitation": code, "npi": npi}, "/start/confirm")
    world.post(client, "/start/confirm", {"answer": "yes"}, "/start/passphrase")
    before = session_cookie(client)
    world.post(
        client,
        "/start/passphrase",
        {"passphrase": STRONG_PASSPHRASE, "confirm": STRONG_PASSPHRASE},
        "/enroll",
    )
    assert session_cookie(client) != before
    old = app.test_client()
    old.set_cookie(COOKIE, before)
    assert old.get("/enroll/get-app").status_code == 302


def test_an_old_session_id_is_signed_out_after_sign_out(app, world, secrets):
    account = known_account(world, secrets, ("Active",))
    client = signed_in_client(world, secrets, account)
    signed_in_id = session_cookie(client)
    world.post(client, "/sign-out", {}, "/sign-in")
    replay = app.test_client()
    replay.set_cookie(COOKIE, signed_in_id)
    assert replay.get("/tokens").status_code == 302


# --- Clickjacking ------------------------------------------------------------------------------


def assert_not_frameable(response: TestResponse, where: str) -> None:
    assert response.headers.get("X-Frame-Options") == "DENY", where
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {p.split()[0]: p.split()[1:] for p in csp.split(";") if p.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], f"{where}: {csp!r}"


def concrete_urls(app: Flask, values: dict[str, str]) -> list[tuple[str, str]]:
    """(method, url) for every rule and method of the url_map, with its arguments filled."""
    urls = []
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for argument in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+:)?{argument}>", values.get(argument, "x"), url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            urls.append((method, url))
    return urls


def test_every_route_refuses_to_be_framed(app: Flask, world: World, clock):
    account = world.account(("Active", "Inactive"))
    agent = world.agent()
    prescriber = world.client()
    world.sign_in(prescriber, account)
    helpdesk = world.client()
    world.agent_sign_in(helpdesk, agent)
    support = prescriber.get("/enroll/get-app").get_data(as_text=True)
    values = {
        "token_id": str(account.tokens[0].id),
        "filename": "css/app.css",
        "credential_id": account.tokens[0].credential_id,
        "code": re.search(r'support-code">([A-Z0-9-]+)<', support).group(1),
        "token": agent.setup_token,
    }
    urls = concrete_urls(app, values)
    assert len(urls) == sum(
        len((r.methods or set()) - {"HEAD", "OPTIONS"}) for r in app.url_map.iter_rules()
    )
    checked = 0
    for name, client in (
        ("anonymous", world.client()),
        ("prescriber", prescriber),
        ("agent", helpdesk),
    ):
        for method, url in urls:
            response = client.open(url, method=method)
            assert_not_frameable(response, f"{name} {method} {url} ({response.status_code})")
            checked += 1
    # Error pages too: not found, method not allowed, a server error.
    for method, url in (("GET", "/no-such-page"), ("DELETE", "/"), ("PUT", "/sign-in")):
        assert_not_frameable(world.client().open(url, method=method), f"{method} {url}")
    broken = world.client()
    token = csrf_token(broken, "/sign-in")
    response = broken.post(
        "/sign-in", data=b"[1]", content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert_not_frameable(response, f"a {response.status_code} answer")
    assert checked >= 3 * 60


# --- CSRF on every POST route ------------------------------------------------------------------


def test_every_post_route_is_covered(app):
    assert post_endpoints(app) <= {s.endpoint for s in POST_SCENARIOS}


@pytest.mark.parametrize("scenario", POST_SCENARIOS, ids=str)
def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(
    scenario: Scenario, world: World
):
    reached = scenario.build(world)
    frozen = Frozen(world.app)
    try:
        for how, headers in (("form", {}), ("htmx", {"HX-Request": "true"})):
            response = reached.client.post(
                reached.url, data=MultiDict(reached.valid), headers=headers
            )
            body = response.get_data(as_text=True)
            where = f"{how} POST {reached.url} without a CSRF token"
            assert response.status_code == 400, f"{where}: {response.status_code}"
            assert "This form has expired" in body and "Nothing was saved" in body, where
            frozen.assert_unchanged(where)

        accepted = post(reached.client, reached.url, reached.valid)
        assert accepted.status_code == 303, f"the valid post was refused: {accepted.status_code}"
        assert accepted.headers["Location"] == reached.accepted
    finally:
        frozen.close()


def test_gunicorn_access_lines_keep_their_fields_and_hide_setup_links(app_factory, caplog):
    """gunicorn logs each request with one mapping of fields: the filter that hides setup
    links must keep that mapping, or every access line fails to format."""
    app_factory({"TESTING": True}, {"WIZARD_DATABASE_URL": "sqlite://", "WIZARD_SANDBOX": "1"})
    caplog.set_level(logging.INFO, logger="gunicorn.access")
    fields = {"h": "203.0.113.5", "r": "GET /helpdesk/setup/K7FQ-3QXM-ZP2D HTTP/1.1", "s": "200"}

    logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s', fields)

    lines = [r.getMessage() for r in caplog.records if r.name == "gunicorn.access"]
    assert lines == ['203.0.113.5 "GET /helpdesk/setup/[redacted] HTTP/1.1" 200']


@pytest.mark.parametrize(
    "path",
    [
        "/helpdesk/setup/K7FQ-3QXM-ZP2D",
        "/helpdesk//setup/K7FQ-3QXM-ZP2D",  # Werkzeug merges the slashes: still the setup page
        "/helpdesk/setup%2FK7FQ-3QXM-ZP2D",  # decoded before routing
        "/helpdesk/%73etup/K7FQ-3QXM-ZP2D",
        "/HELPDESK/setup/K7FQ-3QXM-ZP2D",  # a 404, but the token is still live
        "/helpdesk/setup/K7FQ-3QXM-ZP2D?from=mail",
    ],
)
def test_a_setup_links_token_is_hidden_however_its_path_is_written(app_factory, caplog, path):
    app_factory({"TESTING": True}, {"WIZARD_DATABASE_URL": "sqlite://", "WIZARD_SANDBOX": "1"})
    caplog.set_level(logging.INFO, logger="gunicorn.access")
    fields = {"r": f"GET {path} HTTP/1.1", "f": f"https://epcs.example.org{path}"}

    logging.getLogger("gunicorn.access").info('"%(r)s" "%(f)s"', fields)

    line = next(r.getMessage() for r in caplog.records if r.name == "gunicorn.access")
    assert "K7FQ" not in line
    assert line.count("[redacted]") == 2
