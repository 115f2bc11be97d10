"""The command line (wizard/cli/, Flask-Migrate, Alembic) loads only when a `flask` command
asks for it: a web worker serving pages never imports it."""

from __future__ import annotations

from support.probe import run_probe

# In a fresh interpreter, as a web worker starts: build the app, serve pages, then list the
# command line's modules; then ask for the commands, as `flask --app wizard --help` does.
PROBE = """
import sys
import click
import wizard

def loaded():
    return ",".join(sorted(
        name for name in sys.modules
        if name == "wizard.cli" or name.startswith(("wizard.cli.", "flask_migrate", "alembic"))
    ))

app = wizard.create_app()
client = app.test_client()
print(" ".join(str(client.get(path).status_code) for path in ("/", "/sign-in", "/healthz")))
print(loaded())
app.cli.list_commands(click.Context(app.cli))
print(loaded())
"""


def test_a_web_worker_never_imports_the_command_line(app):
    environ = {
        "WIZARD_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "WIZARD_SECRET_KEY": "probe-secret",
        "WIZARD_SEED_KEY": app.config["SEED_KEY"],
        "WIZARD_SANDBOX": "1",
    }
    statuses, serving, commands = run_probe(PROBE, environ)
    assert statuses == "200 200 200"
    assert serving == ""
    for module in ("wizard.cli", "wizard.cli.accounts", "wizard.cli.sandbox", "flask_migrate"):
        assert module in commands.split(",")
