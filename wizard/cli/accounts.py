"""Accounts: the schema, invitations, passphrase resets, hard-token seeds, help-desk agents."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from wizard.cli import common
from wizard.services import accounts, helpdesk, invitations, seeds
from wizard.store import schema


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
            now=common.now(),
        )
    except invitations.InvitationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Invitation ID: {code}")
    click.echo(f"For: {invitation.name} (NPI {invitation.npi})")
    click.echo(f"Valid until: {invitation.expires_at:%Y-%m-%d %H:%M} UTC.")
    click.echo(f"Use it once at {common.link('/start')}")


@click.command("reset-passphrase")
@click.option("--npi", required=True, help="The prescriber's 10-digit NPI.")
@with_appcontext
def reset_passphrase_command(npi: str) -> None:
    """Issue a one-time passphrase reset code (valid 24 hours) to send out of band."""
    try:
        code = accounts.issue_reset_code(npi, common.now())
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Reset code: {code}")
    click.echo(
        "Valid for 24 hours, once. The prescriber also needs a code from an Active token "
        "(or one reported lost in the last 30 days)."
    )
    click.echo(f"Use it at {common.link('/forgot-passphrase')}")


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
            now=common.now(),
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
    base = common.base_url(base_url)
    try:
        token = helpdesk.add(username, common.now())
    except helpdesk.AgentError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Setup link for {username.strip().lower()} (once, within 24 hours):")
    click.echo(f"{base}/helpdesk/setup/{token}")
