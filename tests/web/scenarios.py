"""Every POST route, reached through the real routes in the state that lets it act.

Shared by the fuzz tests (tests/web/test_fuzz_forms.py) and the CSRF and secrets checks
(tests/web/test_secrets.py). A scenario signs in, starts a flow or walks the wizard up to
the route, then describes one valid submission: the fields the form reads, a set of values
that the route accepts, and where the accepted plain post goes. Setting up goes through HTTP
and the services only (never around them), so a scenario proves the route is reachable.

`POST_SCENARIOS` must name every POST endpoint in the app's url_map; the fuzz module checks
this, so a new form gets fuzzed as soon as it lands. `Frozen` saves the database (SQLite or
PostgreSQL) and puts it back before each input, and compares the rows a refused input must
not touch.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pyotp
from databases import PgSnapshot
from flask import Flask
from flask.testing import FlaskClient
from signing import post
from sqlalchemy import select
from sqlalchemy.engine import make_url
from support.accounts import create_account, new_npi
from support.csrf import csrf_token, session_cookie

from wizard.extensions import db
from wizard.services import accounts, helpdesk, invitations, sandbox
from wizard.store.models import HelpdeskAgent

STRONG_PASSPHRASE = "violet comet harbour 1987"
SIGN_IN_PATH = "/sign-in"


@dataclass
class Agent:
    username: str
    passphrase: str
    secret: str
    setup_token: str


class World:
    """The app under test, its clock, and ways to make accounts, credentials and flows."""

    def __init__(self, app: Flask, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock
        self._agents = itertools.count(1)

    def now(self) -> datetime:
        return self.clock()

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def account(self, statuses: tuple[str, ...] = ("Active",), **kwargs):
        with self.app.app_context():
            return create_account(self.now(), statuses=statuses, **kwargs)

    def new_npi(self) -> str:
        return new_npi()

    def totp(self, secret: str, offset_steps: int = 0) -> str:
        return pyotp.TOTP(secret).at(self.now() + timedelta(seconds=30 * offset_steps))

    def issue(self, kind: str = "vip") -> sandbox.Issued:
        with self.app.app_context():
            return sandbox.issue(self.now(), kind=kind)

    def post(self, client: FlaskClient, url: str, data: dict, location: str | None = None):
        response = post(client, url, data)
        if location is not None:
            assert response.status_code == 303, (url, response.status_code, response.data[:600])
            assert response.headers["Location"] == location, response.headers["Location"]
        return response

    def passphrase_step(self, client: FlaskClient, account) -> None:
        self.post(
            client,
            SIGN_IN_PATH,
            {"npi": account.npi, "passphrase": account.passphrase},
            "/sign-in/code",
        )

    def sign_in(self, client: FlaskClient, account, offset_steps: int = -1) -> None:
        """Sign in with a code of the account's first Active token, one step before now by
        default (so the code of now is still unused for the test)."""
        self.passphrase_step(client, account)
        token = account.token("Active")
        self.post(
            client,
            "/sign-in/code",
            {"token": str(token.id), "code": self.totp(token.secret, offset_steps)},
            "/",
        )

    def invitation(self, proofed: bool = True) -> tuple[str, str]:
        """A fresh invitation: (Invitation ID, NPI)."""
        npi = self.new_npi()
        with self.app.app_context():
            code, _ = invitations.create(
                npi=npi,
                name="Dr. Casey Invited",
                email="casey@example.org",
                organisation="CalMHSA",
                dea="AB1234563",
                proofed=proofed,
                now=self.now(),
            )
        return code, npi

    def reset_code(self, npi: str) -> str:
        with self.app.app_context():
            return accounts.issue_reset_code(npi, self.now())

    def agent(self, set_up: bool = True) -> Agent:
        """A new help-desk agent; set up (passphrase and authenticator, with the code one step
        before now used) unless set_up is False."""
        username = f"pat.agent{next(self._agents)}"
        with self.app.app_context():
            token = helpdesk.add(username, self.now())
            found = db.session.scalar(
                select(HelpdeskAgent).where(HelpdeskAgent.username == username)
            )
            secret = helpdesk.pending_secret(found)
            if set_up:
                assert helpdesk.complete_setup(
                    found, STRONG_PASSPHRASE, self.totp(secret, -1), self.now()
                )
        return Agent(username, STRONG_PASSPHRASE, secret, token)

    def agent_sign_in(self, client: FlaskClient, agent: Agent) -> None:
        self.post(
            client,
            "/helpdesk/sign-in",
            {
                "username": agent.username,
                "passphrase": agent.passphrase,
                "code": self.totp(agent.secret),
            },
            "/helpdesk",
        )


@dataclass
class Reached:
    """A client standing in front of a POST route, and one submission the route accepts."""

    client: FlaskClient
    url: str
    valid: dict[str, str]
    accepted: str  # the Location of the accepted plain post
    csrf: str = ""
    cookie: str = ""
    # Extra values worth trying in a field: near misses that pass some checks.
    near: dict[str, list[str]] = field(default_factory=dict)
    # A page to read after an accepted post (stored input shown again).
    follow: str | None = None

    def __post_init__(self) -> None:
        self.csrf = csrf_token(self.client)
        self.cookie = session_cookie(self.client) or ""


@dataclass(frozen=True)
class Scenario:
    name: str
    endpoint: str
    build: Callable[[World], Reached]

    def __str__(self) -> str:
        return self.name


# --- The database, frozen and thawed ----------------------------------------------------------

# Columns that count refused attempts: they are meant to change on refused input.
COUNTERS = {
    "prescribers": {"sign_in_failures", "code_failures", "code_locked_until"},
    "helpdesk_agents": {"sign_in_failures"},
}
WATCHED = (
    "prescribers",
    "tokens",
    "oath_credentials",
    "invitations",
    "organisation_grants",
    "helpdesk_agents",
    "outbox",
)


class Frozen:
    """The app's database saved; restore() puts every table back as it was.

    SQLite: the file copied into memory with the backup API. PostgreSQL: every table copied
    into a schema of its own, and copied back with the sequences (databases.PgSnapshot)."""

    def __init__(self, app: Flask) -> None:
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        self.store = _SqliteSnapshot(url) if url.startswith("sqlite:///") else _pg_snapshot(url)
        self.rows = self.watched()

    def restore(self) -> None:
        self.store.restore()

    def watched(self) -> dict[str, list[tuple]]:
        found = {}
        for table in WATCHED:
            names, rows = self.store.rows(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608
            keep = [i for i, n in enumerate(names) if n not in COUNTERS.get(table, ())]
            found[table] = [tuple(row[i] for i in keep) for row in rows]
        return found

    def assert_unchanged(self, where: str) -> None:
        now = self.watched()
        for table in WATCHED:
            assert now[table] == self.rows[table], (
                f"{where}: refused input changed {table}:\n"
                f"  before {self.rows[table]}\n  after  {now[table]}"
            )

    def close(self) -> None:
        self.store.close()


def _pg_snapshot(url: str) -> PgSnapshot:
    parts = make_url(url)
    conninfo = (
        f"host={parts.host} port={parts.port} user={parts.username} "
        f"password={parts.password} dbname={parts.database}"
    )
    return PgSnapshot(conninfo, "frozen")


class _SqliteSnapshot:
    def __init__(self, url: str) -> None:
        self.live = sqlite3.connect(url.removeprefix("sqlite:///"), check_same_thread=False)
        self.live.isolation_level = None
        # This connection only writes the saved copy back: no need to wait for the disk.
        self.live.execute("PRAGMA synchronous=OFF")
        self.saved = sqlite3.connect(":memory:", check_same_thread=False)
        self.live.backup(self.saved)

    def restore(self) -> None:
        self.saved.backup(self.live)

    def rows(self, query: str) -> tuple[list[str], list[tuple]]:
        cursor = self.live.execute(query)
        return [d[0] for d in cursor.description], cursor.fetchall()

    def close(self) -> None:
        self.live.close()
        self.saved.close()


# --- Anonymous and half-way flows --------------------------------------------------------------


def _sign_in(world: World) -> Reached:
    account = world.account(("Active", "Inactive"))
    client = world.client()
    return Reached(
        client,
        "/sign-in?next=/tokens",
        {"npi": account.npi, "passphrase": account.passphrase},
        "/sign-in/code",
        near={"npi": [account.npi[:-1] + "0", f"{account.npi[:3]}-{account.npi[3:]}"]},
    )


def _sign_in_code(world: World) -> Reached:
    account = world.account(("Active", "Active", "Inactive"))
    client = world.client()
    world.passphrase_step(client, account)
    token = account.token("Active")
    inactive = account.token("Inactive")
    code = world.totp(token.secret)
    return Reached(
        client,
        "/sign-in/code",
        {"token": str(token.id), "code": code},
        "/",
        near={
            "token": [str(inactive.id), "0", "-1", str(token.id + 1000), f"{token.id}.0"],
            "code": [world.totp(token.secret, -5), world.totp(inactive.secret), code[:5]],
        },
    )


def _sign_out(world: World) -> Reached:
    account = world.account()
    client = world.client()
    world.sign_in(client, account)
    return Reached(client, "/sign-out", {}, SIGN_IN_PATH)


def _lost_token(world: World) -> Reached:
    account = world.account(("Active", "Active"))
    client = world.client()
    return Reached(
        client,
        "/lost-token",
        {"npi": account.npi, "passphrase": account.passphrase},
        "/lost-token/choose",
    )


def _lost_choose(world: World, signed_in: bool) -> Reached:
    account = world.account(("Active", "Inactive", "Lost"))
    client = world.client()
    if signed_in:
        world.sign_in(client, account)
    else:
        world.post(
            client,
            "/lost-token",
            {"npi": account.npi, "passphrase": account.passphrase},
            "/lost-token/choose",
        )
    other = world.account()
    return Reached(
        client,
        "/lost-token/choose",
        {"token": str(account.token("Inactive").id)},
        "/lost-token/confirm",
        near={"token": [str(account.token("Lost").id), str(other.tokens[0].id), "", "x"]},
    )


def _lost_confirm(world: World) -> Reached:
    account = world.account(("Active", "Active"))
    client = world.client()
    world.post(
        client,
        "/lost-token",
        {"npi": account.npi, "passphrase": account.passphrase},
        "/lost-token/choose",
    )
    world.post(
        client,
        "/lost-token/choose",
        {"token": str(account.tokens[1].id)},
        "/lost-token/confirm",
    )
    return Reached(client, "/lost-token/confirm", {}, "/lost-token/done")


def _lost_confirm_last(world: World) -> Reached:
    """The only Active token: the report asks once more (acknowledge)."""
    account = world.account(("Active", "Inactive"))
    client = world.client()
    world.post(
        client,
        "/lost-token",
        {"npi": account.npi, "passphrase": account.passphrase},
        "/lost-token/choose",
    )
    world.post(
        client, "/lost-token/choose", {"token": str(account.tokens[0].id)}, "/lost-token/confirm"
    )
    return Reached(
        client,
        "/lost-token/confirm",
        {"acknowledge": "y"},
        "/lost-token/done",
        near={"acknowledge": ["", "n", "false"]},
    )


def _lost_reactivate(world: World) -> Reached:
    """Signed out: NPI and passphrase, then a code from the suspended token."""
    account = world.account(("Active", "Suspended"))
    client = world.client()
    world.post(
        client,
        "/lost-token",
        {"npi": account.npi, "passphrase": account.passphrase},
        "/lost-token/choose",
    )
    token = account.token("Suspended")
    return Reached(
        client,
        f"/lost-token/reactivate/{token.id}",
        {"code": world.totp(token.secret)},
        "/lost-token/reactivated",
        near={"code": [world.totp(token.secret, -5), world.totp(account.token("Active").secret)]},
    )


def _start(world: World) -> Reached:
    code, npi = world.invitation()
    client = world.client()
    return Reached(
        client,
        "/start",
        {"invitation": code, "npi": npi},
        "/start/confirm",
        near={"invitation": [code.lower(), code.replace("-", " "), code[:-1] + "A"]},
    )


def _invited(world: World, confirmed: bool) -> tuple[FlaskClient, str]:
    code, npi = world.invitation()
    client = world.client()
    world.post(client, "/start", {"invitation": code, "npi": npi}, "/start/confirm")
    if confirmed:
        world.post(client, "/start/confirm", {"answer": "yes"}, "/start/passphrase")
    return client, code


def _start_confirm(world: World) -> Reached:
    client, code = _invited(world, confirmed=False)
    return Reached(
        client,
        "/start/confirm",
        {"answer": "yes"},
        "/start/passphrase",
        near={"answer": ["no", "YES", "yes "]},
    )


def _start_passphrase(world: World) -> Reached:
    client, code = _invited(world, confirmed=True)
    return Reached(
        client,
        "/start/passphrase",
        {"passphrase": STRONG_PASSPHRASE, "confirm": STRONG_PASSPHRASE},
        "/enroll",
        near={"confirm": [STRONG_PASSPHRASE + " "], "passphrase": ["password1234"]},
        follow="/enroll/get-app",
    )


def _forgot(world: World) -> Reached:
    account = world.account(("Active",))
    reset = world.reset_code(account.npi)
    code = world.totp(account.token().secret)
    client = world.client()
    return Reached(
        client,
        "/forgot-passphrase",
        {"npi": account.npi, "code": code, "reset_code": reset},
        "/forgot-passphrase/new",
        near={"reset_code": [reset.lower(), reset[:-1] + "Z"], "code": [code[::-1]]},
    )


def _new_passphrase(world: World) -> Reached:
    account = world.account(("Active",))
    reset = world.reset_code(account.npi)
    client = world.client()
    world.post(
        client,
        "/forgot-passphrase",
        {"npi": account.npi, "code": world.totp(account.token().secret), "reset_code": reset},
        "/forgot-passphrase/new",
    )
    return Reached(
        client,
        "/forgot-passphrase/new",
        {"passphrase": STRONG_PASSPHRASE, "confirm": STRONG_PASSPHRASE},
        SIGN_IN_PATH,
        near={"passphrase": [account.npi + " and more words", account.passphrase[:11]]},
    )


# --- Help desk ---------------------------------------------------------------------------------


def _helpdesk_sign_in(world: World) -> Reached:
    agent = world.agent()
    client = world.client()
    code = world.totp(agent.secret)
    return Reached(
        client,
        "/helpdesk/sign-in",
        {"username": agent.username, "passphrase": agent.passphrase, "code": code},
        "/helpdesk",
        near={
            "username": [agent.username.upper(), f" {agent.username} "],
            "code": [world.totp(agent.secret, -1)],
        },
    )


def _helpdesk_sign_out(world: World) -> Reached:
    agent = world.agent()
    client = world.client()
    world.agent_sign_in(client, agent)
    return Reached(client, "/helpdesk/sign-out", {}, "/helpdesk/sign-in")


def _helpdesk_setup(world: World) -> Reached:
    agent = world.agent(set_up=False)
    client = world.client()
    code = world.totp(agent.secret)
    return Reached(
        client,
        f"/helpdesk/setup/{agent.setup_token}",
        {"passphrase": STRONG_PASSPHRASE, "confirm": STRONG_PASSPHRASE, "code": code},
        "/helpdesk/sign-in",
        near={"passphrase": ["pat.agent", "password"], "code": [world.totp(agent.secret, 5)]},
    )


# --- The wizard ------------------------------------------------------------------------------


def _signed_in(world: World, statuses: tuple[str, ...] = ("Active",)):
    account = world.account(statuses)
    client = world.client()
    world.sign_in(client, account)
    return account, client


def _choose(world: World, client: FlaskClient, platform: str) -> None:
    world.post(
        client,
        "/enroll/get-app",
        {"platform": platform, "different_device": "y"},
        "/enroll/credential-id",
    )


def _get_app(world: World) -> Reached:
    _, client = _signed_in(world)
    return Reached(
        client,
        "/enroll/get-app",
        {"platform": "iphone", "different_device": "y"},
        "/enroll/credential-id",
        near={
            "platform": ["onespan", "symantec-hard", "IPHONE", "__proto__"],
            "different_device": ["", "n", "0", "false"],
        },
    )


KIND_OF = {"iphone": "vip", "onespan": "onespan", "symantec-hard": "symantec-hard"}


def _credential_id(platform: str) -> Callable[[World], Reached]:
    def build(world: World) -> Reached:
        account, client = _signed_in(world, ("Active", "Lost"))
        _choose(world, client, platform)
        issued = world.issue(KIND_OF[platform])
        lost = account.token("Lost").credential_id
        cid = issued.credential_id
        return Reached(
            client,
            "/enroll/credential-id",
            {"credential_id": cid},
            "/enroll/security-code",
            near={
                "credential_id": [
                    cid.lower(),
                    " ".join(cid[i : i + 4] for i in range(0, len(cid), 4)),
                    cid.replace("0", "O").replace("1", "I"),
                    lost,
                    account.token("Active").credential_id,
                    cid + "0",
                    cid[:-1],
                ]
            },
        )

    return build


def _security_code(platform: str) -> Callable[[World], Reached]:
    def build(world: World) -> Reached:
        _, client = _signed_in(world)
        _choose(world, client, platform)
        issued = world.issue(KIND_OF[platform])
        world.post(
            client,
            "/enroll/credential-id",
            {"credential_id": issued.credential_id},
            "/enroll/security-code",
        )
        if platform == "symantec-hard":
            hotp = pyotp.HOTP(issued.secret)
            # 30 presses ahead: the route asks for two codes in a row, then accepts the pair.
            ahead = world.post(client, "/enroll/security-code", {"code": hotp.at(29)})
            assert ahead.status_code == 422
            valid = {"code": hotp.at(30), "next_code": hotp.at(31)}
            near = {"code": [hotp.at(0), hotp.at(29)], "next_code": [hotp.at(33), hotp.at(30)]}
        else:
            code = world.totp(issued.secret)
            valid = {"code": code}
            near = {
                "code": [f"{code[:3]} {code[3:]}", f"{code[:3]}-{code[3:]}", code[::-1]],
                "next_code": [code],
            }
        return Reached(
            client,
            "/enroll/security-code",
            valid,
            "/enroll/name",
            near=near,
        )

    return build


def _wizard_at_name(world: World, statuses: tuple[str, ...] = ("Active",)):
    account, client = _signed_in(world, statuses)
    _choose(world, client, "iphone")
    issued = world.issue()
    world.post(
        client,
        "/enroll/credential-id",
        {"credential_id": issued.credential_id},
        "/enroll/security-code",
    )
    world.post(client, "/enroll/security-code", {"code": world.totp(issued.secret)}, "/enroll/name")
    return account, client, issued


def _name(world: World) -> Reached:
    account, client, _ = _wizard_at_name(world)
    return Reached(
        client,
        "/enroll/name",
        {"nickname": "Work iPhone"},
        "/enroll/done",
        near={"nickname": [account.tokens[0].nickname, "x" * 40, "x" * 41, "TOKEN 1"]},
        follow="/tokens",
    )


def _backup(world: World) -> Reached:
    _, client, _ = _wizard_at_name(world)
    world.post(client, "/enroll/name", {"nickname": "Work iPhone"}, "/enroll/done")
    return Reached(
        client,
        "/enroll/backup",
        {"choice": "not-now"},
        "/enroll/done",
        near={"choice": ["add", "decline", "NOT-NOW", "declined"]},
    )


def _start_over(world: World) -> Reached:
    _, client, _ = _wizard_at_name(world)
    return Reached(client, "/enroll/start-over", {}, "/enroll/get-app")


# --- The token table ---------------------------------------------------------------------------


def _token_action(action: str, last: bool) -> Callable[[World], Reached]:
    """disable, delete, rename or enable; last: on the only Active token (asks for a code)."""

    def build(world: World) -> Reached:
        statuses = ("Active", "Inactive") if last else ("Active", "Active", "Inactive")
        if action in ("reactivate", "confirm-lost"):
            statuses = ("Active", "Suspended")
        account, client = _signed_in(world, statuses)
        other = world.account()
        if action == "enable":
            token = account.token("Inactive")
        elif action in ("reactivate", "confirm-lost"):
            token = account.token("Suspended")
        else:
            token = account.tokens[0] if last else account.tokens[1]
        code = world.totp(token.secret)
        valid: dict[str, str] = {
            "disable": {"reason": "temporary"},
            "delete": {},
            "rename": {"nickname": "Spare phone"},
            "enable": {"code": code},
            "reactivate": {"code": code},
            "confirm-lost": {"acknowledge": "y"},
        }[action]
        if last and action in ("disable", "delete"):
            valid = {**valid, "acknowledge": "y", "code": code}
        near = {
            "reason": ["lost", "LOST", "permanent"],
            "acknowledge": ["", "n", "false"],
            "code": [world.totp(token.secret, -1), world.totp(other.tokens[0].secret)],
            "nickname": [account.tokens[-1].nickname, "x" * 41, "spare PHONE"],
        }
        return Reached(
            client,
            f"/tokens/{token.id}/{action}",
            valid,
            "/tokens",
            near={k: v for k, v in near.items() if k in valid or k == "acknowledge"},
            follow="/tokens",
        )

    return build


POST_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("sign-in", "auth.sign_in_post", _sign_in),
    Scenario("sign-in-code", "auth.sign_in_code_post", _sign_in_code),
    Scenario("sign-out", "auth.sign_out_post", _sign_out),
    Scenario("lost-token", "auth.lost_token_post", _lost_token),
    Scenario("lost-token-choose", "auth.lost_token_choose_post", lambda w: _lost_choose(w, False)),
    Scenario(
        "lost-token-choose-signed-in",
        "auth.lost_token_choose_post",
        lambda w: _lost_choose(w, True),
    ),
    Scenario("lost-token-confirm", "auth.lost_token_confirm_post", _lost_confirm),
    Scenario("lost-token-confirm-last", "auth.lost_token_confirm_post", _lost_confirm_last),
    Scenario("lost-token-reactivate", "auth.lost_token_reactivate_post", _lost_reactivate),
    Scenario("start", "auth.start_post", _start),
    Scenario("start-confirm", "auth.start_confirm_post", _start_confirm),
    Scenario("start-passphrase", "auth.start_passphrase_post", _start_passphrase),
    Scenario("forgot-passphrase", "auth.forgot_passphrase_post", _forgot),
    Scenario("new-passphrase", "auth.new_passphrase_post", _new_passphrase),
    Scenario("helpdesk-sign-in", "helpdesk.sign_in_post", _helpdesk_sign_in),
    Scenario("helpdesk-sign-out", "helpdesk.sign_out_post", _helpdesk_sign_out),
    Scenario("helpdesk-setup", "helpdesk.setup_post", _helpdesk_setup),
    Scenario("enrol-get-app", "enrol.save_get_app", _get_app),
    Scenario("enrol-credential-id", "enrol.save_credential_id", _credential_id("iphone")),
    Scenario("enrol-serial-onespan", "enrol.save_credential_id", _credential_id("onespan")),
    Scenario("enrol-serial-symantec", "enrol.save_credential_id", _credential_id("symantec-hard")),
    Scenario("enrol-security-code", "enrol.save_security_code", _security_code("iphone")),
    Scenario("enrol-resync-key-fob", "enrol.save_security_code", _security_code("symantec-hard")),
    Scenario("enrol-name", "enrol.save_name", _name),
    Scenario("enrol-backup", "enrol.backup", _backup),
    Scenario("enrol-start-over", "enrol.start_over", _start_over),
    Scenario("token-disable", "tokens.disable_post", _token_action("disable", last=False)),
    Scenario("token-disable-last", "tokens.disable_post", _token_action("disable", last=True)),
    Scenario("token-delete", "tokens.delete_post", _token_action("delete", last=False)),
    Scenario("token-delete-last", "tokens.delete_post", _token_action("delete", last=True)),
    Scenario("token-rename", "tokens.rename_post", _token_action("rename", last=False)),
    Scenario("token-enable", "tokens.enable_post", _token_action("enable", last=False)),
    Scenario("token-reactivate", "tokens.reactivate_post", _token_action("reactivate", last=False)),
    Scenario(
        "token-confirm-lost", "tokens.confirm_lost_post", _token_action("confirm-lost", last=False)
    ),
)


# The sandbox API's calls take JSON, not forms: tests/web/test_sandbox_api_security.py proves
# their protection without CSRF tokens (JSON only, no browser's cross-site request) and fuzzes
# their bodies.
JSON_API = "sandbox_api."


def post_endpoints(app: Flask) -> set[str]:
    """Every endpoint that takes a form POST."""
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and not rule.endpoint.startswith(JSON_API)
    }
