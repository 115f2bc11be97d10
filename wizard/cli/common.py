"""What the command-line modules share: the clock, counts, links and the VIP outage message."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app

from wizard.authority import AuthorityUnavailable
from wizard.store import schema


def now() -> datetime:
    return current_app.config["CLOCK"]()


def count(n: int, noun: str) -> str:
    """ "1 event", "5 events": the command line's counts in plain English."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def link(path: str) -> str:
    """A full link where an address is known (WIZARD_BASE_URL or development), else the path."""
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    return f"{base}{path}"


def base_url(given: str | None = None) -> str:
    """The address links are built on: --base-url, else WIZARD_BASE_URL (see config.py)."""
    base = (given or current_app.config.get("BASE_URL") or "").strip().rstrip("/")
    if not base:
        raise click.ClickException(
            "Set WIZARD_BASE_URL to the address the wizard is served at "
            "(for example https://epcs.example.org), or give --base-url."
        )
    return base


def vip_down(error: AuthorityUnavailable) -> click.ClickException:
    status = f" {error.status}" if error.status else ""
    return click.ClickException(
        f"VIP at {current_app.config['VIP_URL']} gave no usable answer ({error.reason}{status}). "
        "In the sandbox, start the stand-in (flask --app wizard sandbox vip-service) or unset "
        "WIZARD_VIP_URL."
    )


def create_schema() -> bool:
    """Bring the database to the newest schema (Alembic revisions); True when it was new."""
    return schema.upgrade().new
