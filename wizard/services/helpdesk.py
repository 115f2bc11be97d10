"""Help-desk agents: created by an administrator, set up once, signed in with two factors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from wizard.domain import codes
from wizard.domain.otp import OathSecret, judge, new_secret, provisioning_uri
from wizard.extensions import db
from wizard.services import accounts, audit, lockout
from wizard.services.lockout import AGENT, Lock
from wizard.store.models import HelpdeskAgent
from wizard.store.replay import consume_step

SETUP_VALID = timedelta(hours=24)
USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")
ISSUER = "EPCS help desk"


class AgentError(ValueError):
    """The administrator's or agent's input is not acceptable; the message says why."""


def actor_of(agent: HelpdeskAgent) -> str:
    return f"agent:{agent.username}"


def _cipher():
    return current_app.extensions["seed_cipher"]


def _aad(agent: HelpdeskAgent) -> str:
    return f"agent:{agent.username}"


def add(username: str, now: datetime) -> str:
    """Create an agent; returns the one-time setup token for their link (valid 24 hours)."""
    username = username.strip().lower()
    if not USERNAME.fullmatch(username):
        raise AgentError("A username is 2 to 64 lowercase letters, digits, dots, dashes or _.")
    if db.session.scalar(select(HelpdeskAgent).where(HelpdeskAgent.username == username)):
        raise AgentError(f"There is already an agent called {username}.")
    token = codes.new_code()
    agent = HelpdeskAgent(
        username=username,
        setup_hash=codes.digest(token),
        setup_expires_at=now + SETUP_VALID,
        created_at=now,
    )
    db.session.add(agent)
    db.session.flush()
    audit.record("helpdesk.agent-add", "success", actor="administrator", now=now, agent=username)
    db.session.commit()
    return token


def by_id(agent_id: int | None) -> HelpdeskAgent | None:
    return db.session.get(HelpdeskAgent, agent_id) if agent_id is not None else None


def by_setup_token(token: str, now: datetime) -> HelpdeskAgent | None:
    if not codes.well_formed(token):
        return None
    agent = db.session.scalar(
        select(HelpdeskAgent).where(HelpdeskAgent.setup_hash == codes.digest(token))
    )
    if agent is None or agent.setup_expires_at is None or agent.setup_expires_at <= now:
        return None
    return agent


def pending_secret(agent: HelpdeskAgent) -> str:
    """The authenticator secret shown during setup, made once per setup."""
    if agent.sealed_totp is None:
        agent.sealed_totp = _cipher().seal(new_secret(), _aad(agent))
        db.session.commit()
    return _cipher().open(agent.sealed_totp, _aad(agent))


def otpauth_uri(agent: HelpdeskAgent) -> str:
    return provisioning_uri(OathSecret(pending_secret(agent)), agent.username, ISSUER)


def _code_ok(agent: HelpdeskAgent, code: str, now: datetime) -> bool:
    """A current authenticator code, accepted once: its step is consumed as the token
    authority consumes a token's (wizard.store.replay). The caller commits."""
    if agent.sealed_totp is None:
        return False
    oath = OathSecret(_cipher().open(agent.sealed_totp, _aad(agent)))
    verdict = judge(oath, code, now, agent.totp_last_step)
    if not verdict.accepted:
        return False
    if not consume_step(HelpdeskAgent.totp_last_step, agent.id, verdict.step):
        return False  # another request took this step a moment ago
    db.session.expire(agent, ["totp_last_step"])
    return True


def complete_setup(agent: HelpdeskAgent, passphrase: str, code: str, now: datetime) -> bool:
    """Set the passphrase once the authenticator proves it works; False when the code fails."""
    if not _code_ok(agent, code, now):
        return False
    agent.passphrase_hash = accounts.hash_passphrase(passphrase)
    agent.setup_hash = None
    agent.setup_expires_at = None
    audit.record("helpdesk.agent-setup", "success", actor=actor_of(agent), now=now)
    db.session.commit()
    return True


@dataclass(frozen=True)
class AgentAttempt:
    agent: HelpdeskAgent | None = None
    lock: Lock = Lock()


def sign_in(username: str, passphrase: str, code: str, now: datetime) -> AgentAttempt:
    """Both factors at once; failures count as for prescribers (per name and address, and
    the hard limit per agent). Every refusal costs one argon2 verification, whether or not
    the agent exists or is paused."""
    typed = username.strip().lower()
    agent = db.session.scalar(select(HelpdeskAgent).where(HelpdeskAgent.username == typed))
    ticket = lockout.reserve_sign_in(AGENT, typed, now)
    ready = agent is not None and agent.passphrase_hash is not None and ticket.granted
    passphrase_ok = accounts.verify_or_dummy(agent.passphrase_hash if ready else None, passphrase)
    actor = actor_of(agent) if agent else "anonymous"
    if not ticket.granted:
        outcome = "locked" if agent else "unknown-agent"
        audit.record("helpdesk.sign-in", outcome, actor=actor, now=now)
        db.session.commit()
        return AgentAttempt(lock=ticket.lock)
    if not (passphrase_ok and _code_ok(agent, code, now)):
        outcome = "failed" if agent else "unknown-agent"
        lock = lockout.fail(ticket, now, action="helpdesk.sign-in", outcome=outcome, actor=actor)
        return AgentAttempt(lock=lock)
    lockout.succeed(ticket, now)
    accounts.rehash(HelpdeskAgent, agent.id, agent.passphrase_hash, passphrase)
    audit.record("helpdesk.sign-in", "success", actor=actor, now=now)
    db.session.commit()
    return AgentAttempt(agent)


def record_view(agent: HelpdeskAgent, support_code: str, row, now: datetime) -> None:
    """Audit one lookup of a support code (row: the support session found, or None); the
    prescriber it shows, when known, is named so the view is in their history too."""
    audit.record(
        "helpdesk.view",
        "found" if row is not None else "not-found",
        actor=actor_of(agent),
        now=now,
        prescriber_id=row.prescriber_id if row is not None else None,
        support_code=support_code,
    )
    db.session.commit()
