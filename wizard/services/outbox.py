"""Delivering the outbox by SMTP.

Any number of senders may run at once (several processes, several nodes): a sender takes a
mail with a conditional UPDATE (a claim that holds for LEASE), sends it, then marks it sent.
A mail-server outage or refusal puts the mail back with a growing delay; a sender that dies
between its claim and the server's answer leaves the claim to expire, and another sender then
sends the mail. Nothing is lost; a mail is sent twice only when a sender dies after the server
accepted it and before it was marked (the copy has the same Message-ID).
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app
from sqlalchemy import func, or_, select, update

from wizard.domain.mail import MailServer, parse_mail_url, retry_delay
from wizard.extensions import db
from wizard.store.models import OutboxMail

log = logging.getLogger("wizard.mail")

LEASE = timedelta(minutes=5)
TIMEOUT_SECONDS = 20


class MailError(Exception):
    """The mail server cannot be used as configured; the message says why (never a secret)."""


def worker_name() -> str:
    """Who holds a claim: host, process and a random part (two senders never share one)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


# --- The transport ----------------------------------------------------------------------------


class SmtpTransport:
    """One SMTP connection: STARTTLS (always, before any login) or implicit TLS; then login
    when the URL names a user. Used as a context manager."""

    def __init__(self, server: MailServer, ca_file: str = "") -> None:
        self.server = server
        self.context = ssl.create_default_context(cafile=ca_file or None)
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        server = self.server
        if server.implicit_tls:
            connection = smtplib.SMTP_SSL(
                server.host, server.port, timeout=TIMEOUT_SECONDS, context=self.context
            )
        else:
            connection = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
        self.connection = connection
        try:
            connection.ehlo()
            if not server.implicit_tls:
                if not connection.has_extn("starttls"):
                    raise MailError(f"{server.host} does not offer STARTTLS")
                connection.starttls(context=self.context)
                connection.ehlo()
            if server.username:
                connection.login(server.username, server.password)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def send(self, message: EmailMessage) -> None:
        assert self.connection is not None
        self.connection.send_message(message)

    def __exit__(self, *exc) -> None:
        if self.connection is None:
            return
        try:
            self.connection.quit()
        except (OSError, smtplib.SMTPException):
            self.connection.close()
        self.connection = None


def configured_transport() -> Callable[[], SmtpTransport]:
    """The transport WIZARD_MAIL_URL names. Raises MailError when it is not set."""
    url = current_app.config.get("MAIL_URL")
    if not url:
        raise MailError(
            "WIZARD_MAIL_URL is not set, so there is nowhere to send mail"
            + (
                " (in sandbox mode, /sandbox/mailbox shows it)."
                if current_app.config.get("SANDBOX")
                else "."
            )
        )
    server = parse_mail_url(url)
    ca_file = current_app.config.get("MAIL_CA_FILE", "")
    return lambda: SmtpTransport(server, ca_file)


# --- The outbox rows --------------------------------------------------------------------------


def _due(now: datetime):
    return (
        OutboxMail.state == "queued",
        OutboxMail.next_attempt_at <= now,
        or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until <= now),
    )


def due_ids(now: datetime, limit: int) -> list[int]:
    return list(
        db.session.scalars(
            select(OutboxMail.id).where(*_due(now)).order_by(OutboxMail.id).limit(limit)
        )
    )


def claim(mail_id: int, worker: str, now: datetime) -> bool:
    """Take one mail for LEASE; False when another sender took it first. Commits."""
    taken = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, *_due(now))
        .values(
            claimed_by=worker,
            claimed_until=now + LEASE,
            attempts=OutboxMail.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return taken.rowcount == 1


def _finish(mail_id: int, worker: str, **values) -> bool:
    done = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, OutboxMail.claimed_by == worker)
        .values(claimed_by=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return done.rowcount == 1


def mark_sent(mail_id: int, worker: str, now: datetime) -> None:
    if not _finish(mail_id, worker, state="sent", sent_at=now, last_error=""):
        log.warning("mail id=%s was sent after its claim had expired", mail_id)


def retry_later(mail_id: int, worker: str, now: datetime, error: str) -> None:
    attempts = db.session.scalar(select(OutboxMail.attempts).where(OutboxMail.id == mail_id)) or 1
    _finish(mail_id, worker, next_attempt_at=now + retry_delay(attempts), last_error=error[:200])


def refuse(mail_id: int, worker: str, error: str) -> None:
    """The server refused this mail for good (for example an unknown mailbox)."""
    _finish(mail_id, worker, state="failed", last_error=error[:200])


def message_of(mail: OutboxMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body)
    return message


# --- Sending ----------------------------------------------------------------------------------


@dataclass
class Report:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    problem: str = ""  # why the server could not be used, when it could not


def _describe(error: BaseException) -> str:
    """What went wrong, without anything the server echoed of our login."""
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"login refused ({error.smtp_code})"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        return f"recipient refused ({', '.join(map(str, codes))})"
    if isinstance(error, smtplib.SMTPResponseException):
        reply = (
            error.smtp_error.decode(errors="replace")
            if isinstance(error.smtp_error, bytes)
            else str(error.smtp_error)
        )
        return f"{error.smtp_code} {reply}"[:200]
    return f"{type(error).__name__}: {error}"[:200]


def _permanent(error: BaseException) -> bool:
    """A refusal of this very mail (5xx to its recipient or its content): trying again would
    give the same answer. Everything else (4xx, a connection lost, a login refused) may pass."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    # A header the message cannot carry (a certificate error is a ValueError too, and passes).
    return isinstance(error, ValueError) and not isinstance(error, OSError)


def _connection_lost(error: BaseException) -> bool:
    """The connection itself failed (smtplib's errors are OSErrors too, most are not this)."""
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def deliver(
    transport: Callable[[], SmtpTransport],
    worker: str,
    clock: Callable[[], datetime],
    batch: int = 50,
) -> Report:
    """Send the mails due now, one claim at a time, over one connection."""
    report = Report()
    pending = due_ids(clock(), batch)
    if not pending:
        return report
    connection: SmtpTransport | None = None
    try:
        for mail_id in pending:
            if not claim(mail_id, worker, clock()):
                continue  # another sender has it
            try:
                if connection is None:
                    connection = transport().__enter__()
                mail = db.session.get(OutboxMail, mail_id)
                connection.send(message_of(mail))
            except (OSError, smtplib.SMTPException, MailError, ValueError) as error:
                problem = _describe(error)
                if _permanent(error):
                    refuse(mail_id, worker, problem)
                    report.refused.append(mail_id)
                    log.warning("mail id=%s refused: %s", mail_id, problem)
                    continue
                retry_later(mail_id, worker, clock(), problem)
                report.retrying.append(mail_id)
                log.warning("mail id=%s not sent, will retry: %s", mail_id, problem)
                if connection is None or _connection_lost(error):
                    report.problem = problem
                    break  # the server is unreachable: the others wait for the next pass
                continue
            mark_sent(mail_id, worker, clock())
            report.sent.append(mail_id)
            log.info("mail id=%s sent", mail_id)
    finally:
        if connection is not None:
            connection.__exit__(None, None, None)
    return report


def counts() -> dict[str, int]:
    """How many mails are queued, sent and failed."""
    found = dict(
        db.session.execute(select(OutboxMail.state, func.count()).group_by(OutboxMail.state)).all()
    )
    return {state: found.get(state, 0) for state in ("queued", "sent", "failed")}


def newest(limit: int = 50) -> list[OutboxMail]:
    """The latest mails, newest first (the sandbox mailbox)."""
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)))
