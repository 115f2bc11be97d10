"""Running the service: the audit log, VIP, sessions, the mail outbox and tokens' deadlines."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from wizard.authority import AuthorityUnavailable
from wizard.cli import common
from wizard.extensions import db
from wizard.services import audit, outbox, tokens

audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; name the first edited or missing event."""
    checked, broken = audit.verify_chain()
    if broken is None:
        click.echo(
            f"Checked {common.count(checked, 'event')} in the audit log: none edited or missing."
        )
        return
    raise click.ClickException(
        f"The audit log was tampered with at event {broken.event_id}: {broken.problem} "
        f"({checked} events before it are intact)."
    )


vip_cli = AppGroup("vip", help="Symantec VIP User Services.")


@vip_cli.command("release-pending")
def vip_release_pending() -> None:
    """Remove the VIP bindings of Deleted and Lost tokens that VIP could not be told of.

    Exits 1 while some remain (run it again later, or from cron)."""
    released, pending = tokens.release_pending(common.now())
    click.echo(f"Bindings removed: {released}. Still pending: {pending}.")
    if pending:
        raise SystemExit(1)


@vip_cli.command("check")
def vip_check() -> None:
    """Ask VIP one harmless question (GetUserInfo for a user that does not exist): proves the
    URL, both certificates and the CA before a prescriber needs them."""
    from wizard.authority import authority
    from wizard.authority.vip import messages
    from wizard.authority.vip.status import outcome
    from wizard.store.holders import new_vip_user_id

    vip = authority().vip
    if vip is None:
        raise click.ClickException("VIP is not configured: WIZARD_VIP_URL is not set.")
    try:
        answer = vip.transport.call(messages.get_user_info(new_vip_user_id()))
        outcome(answer)
    except AuthorityUnavailable as error:
        raise common.vip_down(error) from None
    url, said = current_app.config["VIP_URL"], answer.message.rstrip(".")
    click.echo(f"VIP at {url} works: the connection, the client certificate and the CA are good.")
    if answer.status == "6003":
        click.echo(f"It answered 6003 ({said}) about a made-up user, as expected.")
    else:
        click.echo(f"It answered {answer.status} ({said}) about a made-up user.")


sessions_cli = AppGroup("sessions", help="Server-side sessions.")


@sessions_cli.command("purge")
def sessions_purge() -> None:
    """Delete expired sessions (the app also does it every few minutes by itself)."""
    deleted = current_app.session_interface.store.purge(common.now())
    click.echo(f"Deleted {common.count(deleted, 'expired session')}.")


mail_cli = AppGroup("mail", help="Mail to prescribers: the outbox and its delivery.")


def _stop_on_signal() -> threading.Event:
    """Set on SIGTERM or Ctrl+C: the sender finishes the mail in hand, then stops."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    return stop


@mail_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep sending until stopped (SIGTERM or Ctrl+C).")
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 3600),
    default=5.0,
    show_default=True,
    help="Seconds between looks at the outbox, with --loop.",
)
def mail_send(loop: bool, interval: float) -> None:
    """Send the queued mail by SMTP (WIZARD_MAIL_URL). Safe to run on several hosts at once."""
    try:
        transport = outbox.configured_transport()
    except outbox.MailError as error:
        raise click.ClickException(str(error)) from None
    worker = outbox.worker_name()
    clock = current_app.config["CLOCK"]
    stop = _stop_on_signal()
    if loop:
        click.echo(f"Sending mail every {interval:g} s until stopped ({worker}).")
    while True:
        try:
            report = outbox.deliver(transport, worker, clock)
        except SQLAlchemyError as error:  # the database is away: try again on the next pass
            db.session.rollback()
            logging.getLogger("wizard.mail").warning("outbox unreadable: %s", type(error).__name__)
            report = outbox.Report(problem="the database could not be read")
        finally:
            db.session.remove()
        if report.sent or report.retrying or report.refused or not loop:
            click.echo(
                f"Sent {len(report.sent)}, will retry {len(report.retrying)}, "
                f"refused {len(report.refused)}."
                + (f" Problem: {report.problem}" if report.problem else "")
            )
        if not loop:
            if report.problem and not report.sent:
                raise SystemExit(1)
            return
        if stop.wait(interval):
            return


@mail_cli.command("status")
def mail_status() -> None:
    """How many mails are queued, sent and failed."""
    found = outbox.counts()
    click.echo(f"Queued: {found['queued']}  Sent: {found['sent']}  Failed: {found['failed']}")


tokens_cli = AppGroup("tokens", help="Prescribers' tokens.")


@tokens_cli.command("finalize-lost")
def tokens_finalize_lost() -> None:
    """Make Lost every token suspended more than 30 days ago (run daily)."""
    count = tokens.finalize_expired(common.now())
    click.echo(f"{count} suspended token{'s' if count != 1 else ''} now Lost for good.")
