"""Alembic's environment, run by `flask --app wizard db …`: the app's engine and models."""

from __future__ import annotations

import logging

from alembic import context
from flask import current_app

from wizard.store.schema import adopt_unversioned, hold_migration_lock, ignored

log = logging.getLogger("alembic.env")
extension = current_app.extensions["migrate"]
metadata = extension.db.metadata


def skip_empty_revisions(migration_context, revision, directives) -> None:
    """`db migrate` with nothing to change writes no file."""
    if (
        getattr(context.config.cmd_opts, "autogenerate", False)
        and directives[0].upgrade_ops.is_empty()
    ):
        directives[:] = []
        log.info("No change to the schema: no revision written.")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not ignored(current_app, obj, name, type_, reflected, compare_to)


def run_offline() -> None:
    """`db upgrade --sql`: print the SQL instead of running it."""
    context.configure(
        url=extension.db.engine.url.render_as_string(hide_password=False),
        target_metadata=metadata,
        literal_binds=True,
        **extension.configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    options = {
        "process_revision_directives": skip_empty_revisions,
        "include_object": include_object,
        **extension.configure_args,
    }
    with extension.db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, **options)
        with context.begin_transaction():
            hold_migration_lock(connection)
            adopt_unversioned(context.get_context(), context.script)
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
