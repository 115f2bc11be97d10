"""`flask --app wizard sandbox ...`: practice tokens and demo data (WIZARD_SANDBOX=1 only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from wizard.authority import AuthorityUnavailable
from wizard.cli import common
from wizard.services import sandbox, sandbox_reset
from wizard.vipsandbox.cli import vip_certs, vip_service

sandbox_cli = AppGroup("sandbox", help="Practice tokens and demo data (WIZARD_SANDBOX=1 only).")


def _sandbox_guard() -> None:
    if not current_app.config.get("SANDBOX"):
        raise click.ClickException(
            "Sandbox mode is off. Set WIZARD_SANDBOX=1 to use the sandbox commands."
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
    common.create_schema()
    try:
        demo = sandbox.seed_demo(common.now())
    except AuthorityUnavailable as error:
        raise common.vip_down(error) from None
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
        issued = sandbox.issue(common.now(), prefix=prefix.upper(), kind=kind)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--prefix") from None
    except AuthorityUnavailable as error:
        raise common.vip_down(error) from None
    click.echo(json.dumps(issued.__dict__))


@sandbox_cli.command("otp")
@click.argument("credential_id")
@click.option("--at", "at", type=int, default=None, help="Unix time (seconds) instead of now.")
def sandbox_otp(credential_id: str, at: int | None) -> None:
    """Print the current code of a sandbox credential (digits only)."""
    _sandbox_guard()
    now = datetime.fromtimestamp(at, UTC) if at is not None else common.now()
    try:
        current = sandbox.current_code(credential_id.strip().upper(), now)
    except AuthorityUnavailable as error:
        raise common.vip_down(error) from None
    if current is None and sandbox.held_elsewhere(credential_id.strip().upper()):
        raise click.ClickException(ELSEWHERE.format(ids=credential_id))
    if current is None:
        raise click.ClickException(f"No sandbox credential {credential_id}.")
    click.echo(current.code)


@sandbox_cli.command("reset")
def sandbox_reset_command() -> None:
    """Put the demo prescriber back as the first `sandbox seed` made it (new practice tokens)."""
    _sandbox_guard()
    common.create_schema()
    done = sandbox_reset.reset_demo(common.now(), actor="command-line")
    removed = common.count(done.removed_tokens, "token")
    click.echo(
        f"The demo prescriber {done.prescriber.npi} is reset: {removed} marked Deleted, two "
        "new practice tokens added. `flask --app wizard sandbox seed` prints them."
    )
