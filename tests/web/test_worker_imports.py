"""Issue 13: a web worker imports what it uses. lxml (the VIP client's SOAP messages) loads
only where VIP is configured; the practice token's VIP client, the command line, Alembic,
python-stdnum and zxcvbn's lists (a passphrase being set) never at start."""

from __future__ import annotations

import json

import pytest
from support.probe import run_probe
from test_configuration import production
from test_vip_config import production as production_with_vip

from wizard.store.crypto import SeedCipher

# A fresh interpreter, as a gunicorn worker starts: build the app, draw a QR code (step 1 and
# the help desk's setup page do), and name the modules loaded.
PROBE = """
import json, sys
import wizard
from wizard.web.qr import qr_svg
wizard.create_app()
qr_svg("https://apps.apple.com/app/vip-access-for-iphone/id307658513", "QR code")
print(json.dumps(sorted(sys.modules)))
"""

NEVER_AT_START = (
    "lxml",
    "wizard.authority.vip",
    "wizard.vipsandbox",
    "wizard.cli",
    "alembic",
    "flask_migrate",
    "stdnum",
    "pydoc",
    "zxcvbn",
)


def loaded_by_a_worker(environ: dict[str, str]) -> set[str]:
    return set(json.loads(run_probe(PROBE, environ)[-1]))


def packages_among(modules: set[str], names: tuple[str, ...]) -> set[str]:
    return {n for n in names if any(m == n or m.startswith(n + ".") for m in modules)}


def sandbox(tmp_path) -> dict[str, str]:
    return {
        "WIZARD_SANDBOX": "1",
        "WIZARD_DATABASE_URL": f"sqlite:///{tmp_path / 'wizard.sqlite3'}",
        "WIZARD_SECRET_KEY": "a-secret-key-for-this-test-only",
        "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
    }


@pytest.mark.parametrize("mode", ["sandbox", "production without VIP"])
def test_cant_find_lxml_or_the_command_line_in_a_worker_without_vip(tmp_path, mode):
    environ = sandbox(tmp_path) if mode == "sandbox" else production()

    modules = loaded_by_a_worker(environ)

    assert "wizard.web" in modules  # the probe saw the app being built
    assert packages_among(modules, NEVER_AT_START) == set()


def test_should_load_lxml_where_vip_checks_the_codes(vip_certs):
    modules = loaded_by_a_worker(production_with_vip(vip_certs))

    assert packages_among(modules, ("lxml", "wizard.authority.vip")) == {
        "lxml",
        "wizard.authority.vip",
    }
    assert packages_among(modules, ("wizard.vipsandbox", "wizard.cli", "stdnum")) == set()


SERVING = """
import json, sys
import wizard
app = wizard.create_app()
client = app.test_client()
assert client.get("/sign-in").status_code == 200  # a session saved (an upsert)
print(json.dumps(sorted(sys.modules)))
"""


def test_cant_find_the_postgresql_dialect_in_a_worker_on_sqlite(database, tmp_path):
    """2 MB a worker on SQLite does without (docs/PERFORMANCE.md, memory)."""
    if database.backend != "sqlite":
        pytest.skip("on PostgreSQL it is the dialect in use")
    environ = {**sandbox(tmp_path), "WIZARD_DATABASE_URL": database.main()}

    modules = set(json.loads(run_probe(SERVING, environ)[-1]))

    assert "wizard.store.sessions" in modules
    assert packages_among(modules, ("sqlalchemy.dialects.postgresql",)) == set()
