"""Mail to a prescriber about a change, added to the caller's transaction (the outbox).

The change and its mail are committed together or not at all; `flask --app wizard mail send`
delivers the mail later (services.outbox), so a mail-server outage never touches the change.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid, parseaddr

from flask import current_app

from wizard.domain.notices import Facts, compose
from wizard.extensions import db
from wizard.services import audit
from wizard.store.models import OutboxMail, Prescriber, Token


def sender_domain() -> str:
    address = parseaddr(current_app.config["MAIL_FROM"])[1]
    return address.rpartition("@")[2] or "localhost"


def send(
    prescriber: Prescriber, kind: str, now: datetime, token: Token | None = None, **facts
) -> OutboxMail | None:
    """Queue the mail about kind (a key of domain.notices.KINDS). The caller commits.

    A prescriber without a mail address of record gets none (recorded in the audit log)."""
    if not prescriber.email:
        audit.record(
            "mail.queue",
            "no-address",
            actor="system",
            now=now,
            prescriber_id=prescriber.id,
            kind=kind,
        )
        return None
    subject, body = compose(
        kind,
        Facts(
            name=prescriber.name,
            when=now,
            where=audit.client_address(),
            token=token.nickname if token else "",
            credential_id=token.credential_id if token else "",
            base_url=current_app.config.get("BASE_URL", ""),
            **facts,
        ),
    )
    mail = OutboxMail(
        prescriber_id=prescriber.id,
        kind=kind,
        to_address=prescriber.email,
        subject=subject,
        body=body,
        message_id=make_msgid("epcs", domain=sender_domain()),
        state="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(mail)
    return mail
