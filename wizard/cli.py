"""Command-line tasks: flask --app wizard <command>."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from wizard.services import accounts, audit, helpdesk, invitations, sandbox, seeds
from wizard.store import schema


def _now() -> datetime:
    return current_app.config["CLOCK"]()


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


@sandbox_cli.command("seed")
def sandbox_seed() -> None:
    """Create the demo prescriber (once) and print it as JSON."""
    _sandbox_guard()
    create_schema()
    click.echo(json.dumps(sandbox.seed_demo(_now()), indent=2))


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
    click.echo(json.dumps(issued.__dict__))


@sandbox_cli.command("otp")
@click.argument("credential_id")
@click.option("--at", "at", type=int, default=None, help="Unix time (seconds) instead of now.")
def sandbox_otp(credential_id: str, at: int | None) -> None:
    """Print the current code of a sandbox credential (digits only)."""
    _sandbox_guard()
    now = datetime.fromtimestamp(at, UTC) if at is not None else _now()
    current = sandbox.current_code(credential_id.strip().upper(), now)
    if current is None:
        raise click.ClickException(f"No sandbox credential {credential_id}.")
    click.echo(current.code)


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
    click.echo("Valid for 24 hours, once. The prescriber also needs a code from an Active token.")
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
        click.echo(f"The audit log holds: {checked} events checked, none edited or missing.")
        return
    raise click.ClickException(
        f"The audit log was tampered with at event {broken.event_id}: {broken.problem} "
        f"({checked} events before it are intact)."
    )


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


def init_app(app: Flask) -> None:
    app.cli.add_command(helpdesk_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(init_db_command)
    app.cli.add_command(sandbox_cli)
    app.cli.add_command(invite_command)
    app.cli.add_command(reset_passphrase_command)
    app.cli.add_command(import_seeds_command)
