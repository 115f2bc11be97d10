"""Command-line tasks: flask --app wizard <command>.

By subject: accounts (init-db, invite, reset-passphrase, import-seeds, helpdesk), sandbox, and
operations (audit, vip, sessions, mail, tokens); common holds what they share.
"""

from __future__ import annotations

from flask import Flask

from wizard.cli.accounts import (
    helpdesk_cli,
    import_seeds_command,
    init_db_command,
    invite_command,
    reset_passphrase_command,
)
from wizard.cli.common import create_schema
from wizard.cli.operations import audit_cli, mail_cli, sessions_cli, tokens_cli, vip_cli
from wizard.cli.sandbox import sandbox_cli

__all__ = ["create_schema", "init_app"]


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
