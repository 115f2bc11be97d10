"""Accounts of their own for test suites: fresh prescribers and help-desk agents (sandbox only).

Each call makes a new account that no other caller shares, so parallel test runs never meet
on the token limit, the lockout counters or the one-code-per-time-step rule.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from wizard.authority import authority
from wizard.domain.identifiers import is_valid_npi, npi_check_digit
from wizard.domain.otp import (
    OathSecret,
    code_at,
    first_unused_step,
    new_secret,
    seconds_left,
    time_step,
)
from wizard.domain.tokens import PLATFORMS, Status
from wizard.extensions import db
from wizard.services import accounts, audit, helpdesk, sandbox
from wizard.store.models import (
    HelpdeskAgent,
    OrganisationGrant,
    Prescriber,
    SandboxAccount,
    Token,
)

ACTOR = "sandbox-api"
# The API's names for credential kinds, and the sandbox's own names for them.
KINDS = {"vip-app": "vip", "onespan": "onespan", "symantec-hard": "symantec-hard"}
# What a prescriber's first token looks like, per kind.
_TOKEN_SHAPES = {
    "vip-app": ("Practice VIP Access", PLATFORMS["iphone"]),
    "onespan": ("Practice OneSpan key fob", PLATFORMS["onespan"]),
    "symantec-hard": ("Practice Symantec key fob", PLATFORMS["symantec-hard"]),
}
ORGANIZATION = "Sandbox Health"
_FIRST = ("Avery", "Jordan", "Riley", "Casey", "Morgan", "Quinn", "Rowan", "Emerson", "Harper")
_LAST = ("Alvarez", "Brooks", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito")
_NEW_NPI_TRIES = 5


def kind_of(credential_id: str) -> str:
    """The API's kind for a sandbox Credential ID or serial number."""
    if credential_id.isdigit():
        return "onespan"
    if credential_id.startswith(("FT", "AVT")):
        return "symantec-hard"
    return "vip-app"


def new_credential(kind: str, now: datetime) -> str:
    """A practice credential bound to no one; its Credential ID or serial number."""
    return sandbox.issue(now, kind=KINDS[kind], actor=ACTOR).credential_id


def _random_npi() -> str:
    base = f"1{secrets.randbelow(10**8):08d}"
    return base + npi_check_digit(base)


def _random_dea(last_name: str) -> str:
    digits = [secrets.randbelow(10) for _ in range(6)]
    check = (digits[0] + digits[2] + digits[4]) + 2 * (digits[1] + digits[3] + digits[5])
    return f"F{last_name[0]}{''.join(map(str, digits))}{check % 10}"


@dataclass(frozen=True)
class NewPrescriber:
    prescriber: Prescriber
    passphrase: str  # only ever returned to the caller who asked for the account


def new_prescriber(now: datetime, kind: str | None = "vip-app") -> NewPrescriber:
    """A prescriber with a new valid NPI, a passphrase, an organization grant and, unless
    kind is None, one Active practice token of that kind. One transaction."""
    sandbox.require_sandbox()
    passphrase = secrets.token_urlsafe(18)
    passphrase_hash = accounts.hash_passphrase(passphrase)  # slow: outside the transaction
    for _ in range(_NEW_NPI_TRIES):
        try:
            prescriber = _add_prescriber(now, passphrase_hash, kind)
        except IntegrityError:  # the NPI was taken a moment ago: draw another
            db.session.rollback()
            continue
        return NewPrescriber(prescriber, passphrase)
    raise RuntimeError("no free NPI found")  # 5 collisions in 10^8 numbers: not by chance


def _add_prescriber(now: datetime, passphrase_hash: str, kind: str | None) -> Prescriber:
    first, last = secrets.choice(_FIRST), secrets.choice(_LAST)
    npi = _random_npi()
    while npi == sandbox.DEMO_NPI:
        npi = _random_npi()
    prescriber = Prescriber(
        npi=npi,
        name=f"Dr. {first} {last}",
        email=f"prescriber.{npi}@example.org",
        passphrase_hash=passphrase_hash,
        identity_proofed=True,
        created_at=now,
    )
    prescriber.grants.append(
        OrganisationGrant(organisation=ORGANIZATION, dea_number=_random_dea(last), status="ACTIVE")
    )
    db.session.add(prescriber)
    db.session.flush()  # IntegrityError here when the NPI is taken
    db.session.add(SandboxAccount(prescriber_id=prescriber.id, created_at=now))
    audit.record(
        "sandbox.prescriber-create", "success", actor=ACTOR, now=now, prescriber_id=prescriber.id
    )
    if kind is not None:
        add_practice_token(prescriber, kind, now)
    db.session.commit()
    return prescriber


def add_practice_token(prescriber: Prescriber, kind: str, now: datetime) -> Token:
    """A new practice credential saved on the prescriber's account, Active (no commit)."""
    nickname, platform = _TOKEN_SHAPES[kind]
    issued = sandbox.add_credential(now, KINDS[kind], ACTOR)
    token = Token(
        vip_bound=authority().bind(prescriber, issued.credential_id, nickname),
        prescriber_id=prescriber.id,
        nickname=nickname,
        nickname_key=nickname.casefold(),
        credential_id=issued.credential_id,
        manufacturer=platform.manufacturer,
        token_type=platform.token_type,
        model=platform.model,
        status=Status.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token.add",
        "success",
        actor=ACTOR,
        now=now,
        prescriber_id=prescriber.id,
        token_id=token.id,
        credential_id=token.credential_id,
        nickname=token.nickname,
    )
    return token


def describe(prescriber: Prescriber, passphrase: str) -> dict:
    """A prescriber as the API answers it (no secret but the passphrase it was given)."""
    grant = prescriber.grants[0] if prescriber.grants else None
    return {
        "npi": prescriber.npi,
        "passphrase": passphrase,
        "name": prescriber.name,
        "email": prescriber.email,
        "organization": None
        if grant is None
        else {"name": grant.organisation, "dea_number": grant.dea_number, "status": grant.status},
        "tokens": [
            {
                "credential_id": t.credential_id,
                "name": t.nickname,
                "status": t.status,
                "kind": kind_of(t.credential_id),
            }
            for t in prescriber.tokens
            if t.status != Status.DELETED
        ],
    }


@dataclass(frozen=True)
class NewAgent:
    username: str
    passphrase: str
    totp_secret: str
    otpauth_uri: str


def new_agent(now: datetime) -> NewAgent:
    """A help-desk agent already set up: username, passphrase and authenticator secret."""
    sandbox.require_sandbox()
    passphrase = secrets.token_urlsafe(18)
    passphrase_hash = accounts.hash_passphrase(passphrase)
    secret = new_secret()
    username = f"qa-{secrets.token_hex(5)}"
    agent = HelpdeskAgent(
        username=username,
        passphrase_hash=passphrase_hash,
        sealed_totp=_cipher().seal(secret, f"agent:{username}"),
        created_at=now,
    )
    db.session.add(agent)
    db.session.flush()
    db.session.add(SandboxAccount(agent_id=agent.id, created_at=now))
    audit.record("sandbox.agent-create", "success", actor=ACTOR, now=now, agent=username)
    db.session.commit()
    return NewAgent(username, passphrase, secret, helpdesk.otpauth_uri(agent))


def _cipher():
    return current_app.extensions["seed_cipher"]


def _api_agent(username: str) -> HelpdeskAgent | None:
    return db.session.scalar(
        select(HelpdeskAgent)
        .join(SandboxAccount, SandboxAccount.agent_id == HelpdeskAgent.id)
        .where(HelpdeskAgent.username == username)
    )


@dataclass(frozen=True)
class AgentCode:
    username: str
    code: str
    valid_for_seconds: int


def agent_code(
    username: str, clock: Callable[[], datetime], sleep, *, fresh: bool
) -> AgentCode | None:
    """The authenticator code of an agent made by the API (None for any other username);
    with fresh, one not accepted yet, waiting for the next time step if need be."""
    sandbox.require_sandbox()
    agent = _api_agent(username)
    audit.record(
        "sandbox.agent-code-read",
        "success" if agent else "unknown-agent",
        actor=ACTOR,
        now=clock(),
        agent=username,
        fresh=int(fresh),
    )
    db.session.commit()
    if agent is None or agent.sealed_totp is None:
        return None
    oath = OathSecret(_cipher().open(agent.sealed_totp, f"agent:{agent.username}"))
    if fresh:
        _, wait = first_unused_step(clock(), oath.period, agent.totp_last_step)
        db.session.commit()  # hold no connection while waiting
        if wait:
            sleep(wait + sandbox.STEP_MARGIN)
    now = clock()
    return AgentCode(
        username,
        code_at(oath, time_step(now, oath.period)),
        seconds_left(now, oath.period),
    )


# Asked at every limited POST of a signed-in account in sandbox mode, inside the view's limit
# check: the request has read the prescriber by then, so it runs on the request's connection
# (a direct read would hold a second one).
_MADE_FOR_PRESCRIBER = (
    select(SandboxAccount.__table__.c.id)
    .where(SandboxAccount.__table__.c.prescriber_id == bindparam("prescriber"))
    .limit(1)
)


def exempt_from_sign_in_limit(
    npi: str | None = None,
    prescriber_id: int | None = None,
    username: str | None = None,
    agent_id: int | None = None,
) -> bool:
    """True in sandbox mode for an account the sandbox API made: test suites sign such
    accounts in many times a minute from one address. Account lockout still applies."""
    if not current_app.config.get("SANDBOX"):
        return False
    # Only a name some account could have is looked up: what is typed may hold anything,
    # a NUL among it, which PostgreSQL refuses even in a query.
    if prescriber_id is None and npi and not is_valid_npi(npi):
        return False
    if prescriber_id is None and not npi and username and not helpdesk.USERNAME.fullmatch(username):
        return False
    if prescriber_id is not None:  # at every signed-in request: a statement built once
        return db.session.scalar(_MADE_FOR_PRESCRIBER, {"prescriber": prescriber_id}) is not None
    query = select(SandboxAccount.id)
    if npi:
        query = query.join(Prescriber, Prescriber.id == SandboxAccount.prescriber_id).where(
            Prescriber.npi == npi
        )
    elif username:
        query = query.join(HelpdeskAgent, HelpdeskAgent.id == SandboxAccount.agent_id).where(
            HelpdeskAgent.username == username
        )
    elif agent_id is not None:
        query = query.where(SandboxAccount.agent_id == agent_id)
    else:
        return False
    return db.session.scalar(query.limit(1)) is not None
