"""Putting the sandbox's demo prescriber back as `sandbox seed` made it (sandbox only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from wizard.domain.tokens import Status
from wizard.extensions import db
from wizard.services import accounts, audit, lockout, sandbox, tokens
from wizard.services.sandbox_accounts import ACTOR
from wizard.store.models import OathCredential, OrganisationGrant, Prescriber


@dataclass(frozen=True)
class Reset:
    prescriber: Prescriber
    removed_tokens: int  # the demo's tokens marked Deleted


def reset_demo(now: datetime, actor: str = ACTOR) -> Reset:
    """The demo prescriber as a first `sandbox seed` leaves it: every token of its own marked
    Deleted (a Lost one's practice seed destroyed too, so that Credential ID can never be
    registered again), two new practice tokens, its passphrase, name, mail address and
    organization grant, and no lock, failure count, reset code or backup decision.

    Nothing else changes: other prescribers, practice credentials bound to no one, help-desk
    agents and the audit log stay, so another suite running against the same sandbox is
    not disturbed. actor names who asked in the audit log (the API, or the command line).
    """
    sandbox.require_sandbox()
    # Written first: it takes the audit chain's lock, so two resets run one after the other.
    audit.record("sandbox.reset", "started", actor=actor, now=now)
    demo = _demo()
    removed = 0
    if demo is None:  # never seeded: seeding is the whole reset (still under the lock)
        sandbox.seed_demo(now)
        demo = _demo()
    else:
        removed = _retire_tokens(demo, now, actor)
        _restore_account(demo, now)
        sandbox.add_demo_tokens(demo, now, actor)
    audit.record("sandbox.reset", "success", actor=actor, now=now, prescriber_id=demo.id)
    db.session.commit()
    db.session.refresh(demo)
    return Reset(demo, removed)


def _demo() -> Prescriber:
    return db.session.scalar(select(Prescriber).where(Prescriber.npi == sandbox.DEMO_NPI))


def _retire_tokens(demo: Prescriber, now: datetime, actor: str) -> int:
    removed = 0
    for token in demo.tokens:
        if token.status == Status.DELETED:
            continue
        if token.status == Status.LOST:
            db.session.execute(
                delete(OathCredential).where(
                    OathCredential.credential_id == token.credential_id,
                    OathCredential.source == "sandbox",
                )
            )
        tokens.release_binding(demo, token, now, during="sandbox.reset", required=False)
        previous, token.status, token.updated_at = token.status, Status.DELETED, now
        audit.record(
            "token.delete",
            "success",
            actor=actor,
            now=now,
            prescriber_id=demo.id,
            token_id=token.id,
            credential_id=token.credential_id,
            previous=previous,
            reason="sandbox-reset",
        )
        removed += 1
    db.session.flush()  # frees the names before the new tokens take them
    return removed


def _restore_account(demo: Prescriber, now: datetime) -> None:
    if not accounts.hasher_verify(demo.passphrase_hash or "", sandbox.DEMO_PASSPHRASE):
        demo.passphrase_hash = accounts.hash_passphrase(sandbox.DEMO_PASSPHRASE)
    demo.name = sandbox.DEMO_NAME
    demo.email = sandbox.DEMO_EMAIL
    demo.identity_proofed = True
    lockout.forget_sign_in_failures(lockout.PRESCRIBER, demo.npi)
    demo.code_failures = 0
    demo.code_locked_until = None
    demo.reset_code_hash = None
    demo.reset_expires_at = None
    demo.backup_decision = ""
    demo.backup_decided_at = None
    accounts.end_sessions(demo)  # a session signed in before the reset would see another account
    first, *others = demo.grants or [OrganisationGrant(prescriber_id=demo.id)]
    if first not in demo.grants:
        demo.grants.append(first)
    first.organisation = sandbox.DEMO_ORGANISATION
    first.dea_number = sandbox.DEMO_DEA
    first.status = "ACTIVE"
    for grant in others:
        db.session.delete(grant)
