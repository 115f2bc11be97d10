"""Command-line tasks: flask --app wizard <command>."""

from __future__ import annotations

import json
import logging
import signal
import threading
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from wizard.authority import AuthorityUnavailable
from wizard.extensions import db
from wizard.services import (
    accounts,
    audit,
    helpdesk,
    invitations,
    outbox,
    sandbox,
    sandbox_reset,
    seeds,
    tokens,
)
from wizard.store import schema
from wizard.vipsandbox.cli import vip_certs, vip_service


def _now() -> datetime:
    return current_app.config["CLOCK"]()


def _count(n: int, noun: str) -> str:
    """ "1 event", "5 events": the command line's counts in plain English."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _link(path: str) -> str:
    """A full link where an address is known (WIZARD_BASE_URL or development), else the path."""
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    return f"{base}{path}"


def _base_url(given: str | None = None) -> str:
    """The address links are built on: --base-url, else WIZARD_BASE_URL (see config.py)."""
    base = (given or current_app.config.get("BASE_URL") or "").strip().rstrip("/")
    if not base:
        raise click.ClickException(
            "Set WIZARD_BASE_URL to the address the wizard is served at "
            "(for example https://epcs.example.org), or give --base-url."
        )
    return base


def create_schema() -> bool:
    """Bring the database to the newest schema (Alembic revisions); True when it was new."""
    return schema.upgrade().new


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema: the same as `flask --app wizard db upgrade`."""
    done = schema.upgrade()
    if done.new:
        click.echo("Created the database schema.")
    elif done.changed:
        click.echo(f"Upgraded the database schema to revision {', '.join(done.after)}.")
    else:
        click.echo("The database schema is up to date.")


sandbox_cli = AppGroup("sandbox", help="Practice tokens and demo data (WIZARD_SANDBOX=1 only).")


def _sandbox_guard() -> None:
    if not current_app.config.get("SANDBOX"):
        raise click.ClickException(
            "Sandbox mode is off. Set WIZARD_SANDBOX=1 to use the sandbox commands."
        )


def _vip_down(error: AuthorityUnavailable) -> click.ClickException:
    status = f" {error.status}" if error.status else ""
    return click.ClickException(
        f"VIP at {current_app.config['VIP_URL']} gave no usable answer ({error.reason}{status}). "
        "In the sandbox, start the stand-in (flask --app wizard sandbox vip-service) or unset "
        "WIZARD_VIP_URL."
    )


# `make run` keeps Symantec practice seeds in its VIP stand-in; a command run in another shell
# without the same WIZARD_VIP_* settings cannot read them, and says how to.
ELSEWHERE = (
    "{ids}: made in the VIP stand-in, so its codes are read there. Run this command with "
    "the WIZARD_VIP_* settings that reach it (as make run sets them; README, Sandbox mode)."
)


sandbox_cli.add_command(vip_certs)
sandbox_cli.add_command(vip_service)


@sandbox_cli.command("seed")
def sandbox_seed() -> None:
    """Create the demo prescriber (once) and print it as JSON."""
    _sandbox_guard()
    create_schema()
    try:
        demo = sandbox.seed_demo(_now())
    except AuthorityUnavailable as error:
        raise _vip_down(error) from None
    click.echo(json.dumps(demo, indent=2))
    unread = [t["credential_id"] for t in demo["tokens"] if t["secret"] is None]
    if unread:
        click.echo("No secret for " + ELSEWHERE.format(ids=", ".join(unread)), err=True)


@sandbox_cli.command("issue")
@click.option("--prefix", default="SYMC", show_default=True, help="Credential ID prefix.")
@click.option(
    "--kind",
    type=click.Choice(list(sandbox.KINDS)),
    default="vip",
    show_default=True,
    help="vip: a VIP Access app credential; onespan: a 10-digit Digipass-style serial (TOTP); "
    "symantec-hard: an FT serial whose codes follow button presses (HOTP).",
)
def sandbox_issue(prefix: str, kind: str) -> None:
    """Issue a new virtual credential bound to no one."""
    _sandbox_guard()
    try:
        issued = sandbox.issue(_now(), prefix=prefix.upper(), kind=kind)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--prefix") from None
    except AuthorityUnavailable as error:
        raise _vip_down(error) from None
    click.echo(json.dumps(issued.__dict__))


@sandbox_cli.command("otp")
@click.argument("credential_id")
@click.option("--at", "at", type=int, default=None, help="Unix time (seconds) instead of now.")
def sandbox_otp(credential_id: str, at: int | None) -> None:
    """Print the current code of a sandbox credential (digits only)."""
    _sandbox_guard()
    now = datetime.fromtimestamp(at, UTC) if at is not None else _now()
    try:
        current = sandbox.current_code(credential_id.strip().upper(), now)
    except AuthorityUnavailable as error:
        raise _vip_down(error) from None
    if current is None and sandbox.held_elsewhere(credential_id.strip().upper()):
        raise click.ClickException(ELSEWHERE.format(ids=credential_id))
    if current is None:
        raise click.ClickException(f"No sandbox credential {credential_id}.")
    click.echo(current.code)


@sandbox_cli.command("reset")
def sandbox_reset_command() -> None:
    """Put the demo prescriber back as the first `sandbox seed` made it (new practice tokens)."""
    _sandbox_guard()
    create_schema()
    done = sandbox_reset.reset_demo(_now(), actor="command-line")
    removed = _count(done.removed_tokens, "token")
    click.echo(
        f"The demo prescriber {done.prescriber.npi} is reset: {removed} marked Deleted, two "
        "new practice tokens added. `flask --app wizard sandbox seed` prints them."
    )


@click.command("invite")
@click.option("--npi", required=True, help="The prescriber's 10-digit NPI.")
@click.option("--name", required=True, help="The prescriber's name as it should appear.")
@click.option("--email", required=True, help="Where the invitation is sent (out of band).")
@click.option("--organization", "organisation", default="", help="Organization granting access.")
@click.option("--dea", default="", help="DEA number for that organization's grant.")
@click.option(
    "--proofed/--not-proofed",
    default=True,
    show_default=True,
    help="Whether identity proofing is complete (token registration waits for it).",
)
@with_appcontext
def invite_command(npi, name, email, organisation, dea, proofed) -> None:
    """Invite a new prescriber; prints a single-use Invitation ID valid 14 days."""
    try:
        code, invitation = invitations.create(
            npi=npi,
            name=name,
            email=email,
            organisation=organisation,
            dea=dea,
            proofed=proofed,
            now=_now(),
        )
    except invitations.InvitationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Invitation ID: {code}")
    click.echo(f"For: {invitation.name} (NPI {invitation.npi})")
    click.echo(f"Valid until: {invitation.expires_at:%Y-%m-%d %H:%M} UTC.")
    click.echo(f"Use it once at {_link('/start')}")


@click.command("reset-passphrase")
@click.option("--npi", required=True, help="The prescriber's 10-digit NPI.")
@with_appcontext
def reset_passphrase_command(npi: str) -> None:
    """Issue a one-time passphrase reset code (valid 24 hours) to send out of band."""
    try:
        code = accounts.issue_reset_code(npi, _now())
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Reset code: {code}")
    click.echo(
        "Valid for 24 hours, once. The prescriber also needs a code from an Active token "
        "(or one reported lost in the last 30 days)."
    )
    click.echo(f"Use it at {_link('/forgot-passphrase')}")


def _psk_bytes(ctx, param, value: str | None) -> bytes | None:
    if value is None:
        return None
    text = value.strip().removeprefix("0x").replace(":", "").replace(" ", "")
    try:
        return bytes.fromhex(text)
    except ValueError:
        # Never echo the value: it is a key.
        raise click.BadParameter("give the pre-shared key as hexadecimal digits") from None


@click.command("import-seeds")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pskc", "csv"], case_sensitive=False),
    help="File format; by default from the file name (.xml/.pskc/.pskcxml, .csv) or contents.",
)
@click.option(
    "--psk",
    envvar="WIZARD_SEED_PSK",
    metavar="HEX",
    callback=_psk_bytes,
    help="Pre-shared key (hex) of an encrypted PSKC file; or set WIZARD_SEED_PSK.",
)
@click.option(
    "--manufacturer",
    type=click.Choice(["ONESPAN", "SYMANTEC"], case_sensitive=False),
    help="Manufacturer of every token in the file; by default from the file or the serial.",
)
@with_appcontext
def import_seeds_command(file: str, fmt: str | None, psk: bytes | None, manufacturer) -> None:
    """Import hard-token seeds (PSKC or CSV) so their codes can be checked here.

    CSV: a header row serial,secret,algorithm[,digits][,period_or_counter]; secret in hex or
    base32; algorithm totp or hotp. Tokens already present are skipped; secrets are never shown.
    """
    with open(file, "rb") as handle:
        data = handle.read()
    try:
        result = seeds.import_seeds(
            data,
            filename=file,
            now=_now(),
            fmt=seeds.SeedFormat(fmt.lower()) if fmt else None,
            psk=psk,
            manufacturer=seeds.Manufacturer(manufacturer.upper()) if manufacturer else None,
        )
    except seeds.SeedImportError as error:
        raise click.ClickException(f"{error} Nothing was imported.") from None
    how = ", encrypted" if result.encrypted else ""
    click.echo(f"Read {result.read} tokens from {file} ({result.format.value.upper()}{how}).")
    if psk is not None and not result.encrypted:
        click.echo("Note: the file is not encrypted; --psk was not needed.")
    click.echo(f"Added: {len(result.added)}")
    click.echo(f"Skipped (already present): {len(result.skipped)}")
    click.echo(f"Invalid: {len(result.invalid)}")
    for rejected in result.invalid:
        click.echo(f"  {rejected.where}: {rejected.reason}")


audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; name the first edited or missing event."""
    checked, broken = audit.verify_chain()
    if broken is None:
        click.echo(f"Checked {_count(checked, 'event')} in the audit log: none edited or missing.")
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
    released, pending = tokens.release_pending(_now())
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
        raise _vip_down(error) from None
    url, said = current_app.config["VIP_URL"], answer.message.rstrip(".")
    click.echo(f"VIP at {url} works: the connection, the client certificate and the CA are good.")
    if answer.status == "6003":
        click.echo(f"It answered 6003 ({said}) about a made-up user, as expected.")
    else:
        click.echo(f"It answered {answer.status} ({said}) about a made-up user.")


helpdesk_cli = AppGroup("helpdesk", help="Help-desk agents.")


@helpdesk_cli.command("add")
@click.argument("username")
@click.option(
    "--base-url",
    help="Where the wizard is served, for the setup link. Default: WIZARD_BASE_URL, or the "
    "development server's address (http://127.0.0.1:5000, or FLASK_RUN_HOST and FLASK_RUN_PORT).",
)
def helpdesk_add(username: str, base_url: str | None) -> None:
    """Create a help-desk agent and print their one-time setup link (valid 24 hours)."""
    base = _base_url(base_url)
    try:
        token = helpdesk.add(username, _now())
    except helpdesk.AgentError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Setup link for {username.strip().lower()} (once, within 24 hours):")
    click.echo(f"{base}/helpdesk/setup/{token}")


sessions_cli = AppGroup("sessions", help="Server-side sessions.")


@sessions_cli.command("purge")
def sessions_purge() -> None:
    """Delete expired sessions (the app also does it every few minutes by itself)."""
    deleted = current_app.session_interface.store.purge(_now())
    click.echo(f"Deleted {_count(deleted, 'expired session')}.")


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
    count = tokens.finalize_expired(_now())
    click.echo(f"{count} suspended token{'s' if count != 1 else ''} now Lost for good.")


def init_app(app: Flask) -> None:
    app.cli.add_command(mail_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(sessions_cli)
    app.cli.add_command(helpdesk_cli)
    app.cli.add_command(vip_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(init_db_command)
    app.cli.add_command(sandbox_cli)
    app.cli.add_command(invite_command)
    app.cli.add_command(reset_passphrase_command)
    app.cli.add_command(import_seeds_command)
