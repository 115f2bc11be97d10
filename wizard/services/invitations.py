"""First-time onboarding: invitations issued by an administrator, redeemed once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from wizard.domain import codes
from wizard.domain.identifiers import clean_dea, clean_npi, is_valid_dea, is_valid_npi
from wizard.extensions import db
from wizard.services import accounts, audit, notices
from wizard.store.models import Invitation, OrganisationGrant, Prescriber

VALID_FOR = timedelta(days=14)
# local@domain.tld, nothing else: no spaces, commas, angle brackets, quotes or line breaks.
_ONE_ADDRESS = re.compile(r"[^@\s,;<>\"()\[\]\\]+@[^@\s,;<>\"()\[\]\\]+\.[^@\s,;<>\"()\[\]\\.]+")


def is_one_address(text: str) -> bool:
    """One plain mailbox (name@domain): every mail about the account goes there, so a list, a
    display name hiding another address, or a line break would send it somewhere else."""
    address = text.strip()
    return bool(_ONE_ADDRESS.fullmatch(address))


class InvitationError(ValueError):
    """The administrator's input is not acceptable; the message says why."""


def create(
    *,
    npi: str,
    name: str,
    email: str,
    organisation: str = "",
    dea: str = "",
    proofed: bool = True,
    now: datetime,
) -> tuple[str, Invitation]:
    """Issue an invitation; returns the Invitation ID (shown once) and the stored row."""
    npi = clean_npi(npi)
    if not is_valid_npi(npi):
        raise InvitationError(f"{npi!r} is not a valid NPI (10 digits with a valid check digit).")
    dea = clean_dea(dea)
    if dea and not is_valid_dea(dea):
        raise InvitationError(f"{dea!r} is not a valid DEA number (2 letters, 7 digits).")
    if dea and not organisation:
        raise InvitationError("Give --organization with --dea.")
    if not name.strip():
        raise InvitationError("Give the prescriber's name.")
    if not is_one_address(email):
        raise InvitationError(f"{email!r} is not one mail address (like sam@example.org).")
    if accounts.by_npi(npi) is not None:
        raise InvitationError(f"An account with NPI {npi} already exists.")
    code = codes.new_code()
    invitation = Invitation(
        code_hash=codes.digest(code),
        npi=npi,
        name=name.strip(),
        email=email.strip(),
        organisation=organisation.strip(),
        dea_number=dea,
        identity_proofed=proofed,
        expires_at=now + VALID_FOR,
        created_at=now,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "invitation.create",
        "success",
        actor="administrator",
        now=now,
        invitation_id=invitation.id,
        npi=npi,
    )
    db.session.commit()
    return code, invitation


class Problem(StrEnum):
    NOT_FOUND = "not-found"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class Lookup:
    invitation: Invitation | None = None
    problem: Problem | None = None


def keepable(typed_code: str) -> str | None:
    """What a form may keep of a well-formed Invitation ID while the NPI is typed again:
    its hash, never the ID itself. None for one that cannot be an Invitation ID."""
    return codes.digest(typed_code) if codes.well_formed(typed_code) else None


def find(typed_code: str, npi: str, now: datetime) -> Lookup:
    """The invitation for this ID and NPI, or why it cannot be used."""
    return find_kept(keepable(typed_code), npi, now)


def find_kept(code_hash: str | None, npi: str, now: datetime) -> Lookup:
    """find() for an Invitation ID kept by keepable()."""
    if code_hash is None:
        return Lookup(problem=Problem.NOT_FOUND)
    invitation = db.session.scalar(select(Invitation).where(Invitation.code_hash == code_hash))
    if invitation is None or invitation.npi != clean_npi(npi):
        audit.record("invitation.lookup", "not-found", actor="anonymous", now=now)
        db.session.commit()
        return Lookup(problem=Problem.NOT_FOUND)
    if invitation.used_at is not None:
        return Lookup(invitation, Problem.USED)
    if invitation.expires_at <= now:
        return Lookup(invitation, Problem.EXPIRED)
    return Lookup(invitation)


def get(invitation_id: int | None) -> Invitation | None:
    return db.session.get(Invitation, invitation_id) if invitation_id else None


def redeem(invitation: Invitation, passphrase: str, now: datetime) -> Prescriber:
    """Create the prescriber from the invitation, once. Raises InvitationError when used up."""
    if invitation.used_at is not None or invitation.expires_at <= now:
        raise InvitationError("This invitation can no longer be used.")
    if accounts.by_npi(invitation.npi) is not None:
        raise InvitationError("An account with this NPI already exists.")
    prescriber = Prescriber(
        npi=invitation.npi,
        name=invitation.name,
        email=invitation.email,
        passphrase_hash=accounts.hash_passphrase(passphrase),
        identity_proofed=invitation.identity_proofed,
        created_at=now,
    )
    if invitation.organisation:
        prescriber.grants.append(
            OrganisationGrant(
                organisation=invitation.organisation,
                dea_number=invitation.dea_number,
                status="ACTIVE",
            )
        )
    invitation.used_at = now
    db.session.add(prescriber)
    try:
        db.session.flush()
    except IntegrityError:  # the same invitation redeemed in another tab just now
        db.session.rollback()
        raise InvitationError("This invitation has already been used.") from None
    notices.send(prescriber, "account.set-up", now)
    audit.record(
        "invitation.redeem",
        "success",
        actor=audit.actor_of(prescriber),
        now=now,
        prescriber_id=prescriber.id,
        invitation_id=invitation.id,
    )
    db.session.commit()
    return prescriber
