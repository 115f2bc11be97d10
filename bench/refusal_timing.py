"""How long each kind of refused sign-in takes: no answer may time apart an unknown account.

    .venv/bin/python bench/refusal_timing.py               # 40 samples of each kind
    .venv/bin/python bench/refusal_timing.py --samples 100 --json out.json

Builds the wizard over a fresh SQLite file in a temporary folder, with argon2's production
parameters (not the tests' cheap profile), and posts through the Flask test client (in this
process: no network, so only the server's own work is timed):
- prescriber sign-in (/sign-in), help-desk sign-in (/helpdesk/sign-in) and the passphrase reset
  (/forgot-passphrase), each refused for an account that does not exist, for one that is
  paused after failed attempts from this address, for one blocked after 100 failures, and
  for a real account with a wrong passphrase or reset code (those from an address of their
  own each time, so that the account is never paused).
Kinds are interleaved in a shuffled order, so a busy spell of the machine falls on all alike.
Prints the median and p90 of each, and each median against the unknown account's. Its targets
(for `python -m bench`): in each form, the slowest kind's median over the fastest's, <= 1.25.

A measurement, not a test: the test that guards the same property (with a wide tolerance) is
tests/web/test_enumeration.py. Callable from other scripts: measure(samples) returns the rows.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import random
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSPHRASE = "bench lantern orchard 73"  # noqa: S105 - the bench accounts' passphrase
WRONG = "not the passphrase at all"  # noqa: S105
AGENT_NAMES = ("bench-agent", "bench-paused", "bench-blocked")


def _app(folder: Path):
    from wizard import create_app
    from wizard.cli import create_schema
    from wizard.store.crypto import SeedCipher

    environ = {
        "WIZARD_SANDBOX": "1",
        "WIZARD_DATABASE_URL": f"sqlite:///{folder / 'refusals.sqlite3'}",
        "WIZARD_SECRET_KEY": "refusal-timing-bench-secret-key-0123456789",
        "WIZARD_SEED_KEY": SeedCipher.new_key_text(),
        # Every sample comes from one address: the per-address limits would answer 429.
        "WIZARD_SIGN_IN_RATE_LIMIT": "1000000 per minute",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, environ=environ)
    with app.app_context():
        create_schema()
    return app


def _npi(n: int) -> str:
    from wizard.domain.identifiers import npi_check_digit

    base = f"1{n:08d}"
    return base + npi_check_digit(base)


def _prescriber(app, n: int) -> str:
    from wizard.extensions import db
    from wizard.services import accounts
    from wizard.store.models import Prescriber

    npi = _npi(n)
    with app.app_context():
        db.session.add(
            Prescriber(
                npi=npi, name=f"Dr. Bench {n}", passphrase_hash=accounts.hash_passphrase(PASSPHRASE)
            )
        )
        db.session.commit()
    return npi


def _agent(app, username: str) -> None:
    from wizard.extensions import db
    from wizard.services import accounts
    from wizard.store.models import HelpdeskAgent

    with app.app_context():
        db.session.add(
            HelpdeskAgent(
                username=username,
                passphrase_hash=accounts.hash_passphrase(PASSPHRASE),
                created_at=datetime.now(UTC),
            )
        )
        db.session.commit()


def _block(app, table: str, where: str, value: str) -> None:
    """100 consecutive failures, written directly (the cap, whatever the lock design)."""
    from wizard.extensions import db

    with app.app_context():
        db.session.execute(
            db.text(f"UPDATE {table} SET sign_in_failures = 100 WHERE {where} = :v"),  # noqa: S608
            {"v": value},
        )
        db.session.commit()


def _value(value: str | Callable[[], str]) -> str:
    return value() if callable(value) else value


class _Posts:
    """Posts to the three forms through one test client (one session, address 127.0.0.1)."""

    def __init__(self, app) -> None:
        self.client = app.test_client()
        self.addresses = (f"10.{n // 250}.{n % 250}.1" for n in itertools.count(1))

    def poster(self, path: str, fields: Callable[[], dict], move: bool) -> Callable[[], int]:
        """move: each post from an address of its own (so a real account is never paused)."""

        def post() -> int:
            moved = {"REMOTE_ADDR": next(self.addresses)} if move else {}
            return self.client.post(path, data=fields(), environ_base=moved).status_code

        return post

    def sign_in(self, npi, passphrase: str = WRONG, move: bool = False):
        return self.poster("/sign-in", lambda: {"npi": _value(npi), "passphrase": passphrase}, move)

    def agent(self, username, passphrase: str = WRONG):
        fields = {"passphrase": passphrase, "code": "123456"}
        return self.poster(
            "/helpdesk/sign-in", lambda: {"username": _value(username), **fields}, False
        )

    def reset(self, npi, move: bool = False):
        fields = {"code": "123456", "reset_code": "ABCD-EFGH-JKMN-PQRS"}
        return self.poster("/forgot-passphrase", lambda: {"npi": _value(npi), **fields}, move)


def _posts(app) -> dict[str, Callable[[], int]]:
    """One callable per kind of refusal; each posts once and returns the status."""
    posts = _Posts(app)
    counter = iter(range(10**7, 10**8))
    real, paused, blocked = (_prescriber(app, n) for n in (1, 2, 3))
    for username in AGENT_NAMES:
        _agent(app, username)
    for _ in range(5):  # paused: five failures from this address
        posts.sign_in(paused)()
        posts.agent("bench-paused")()
    _block(app, "prescribers", "npi", blocked)
    _block(app, "helpdesk_agents", "username", "bench-blocked")

    def unknown_npi() -> str:
        return _npi(next(counter))

    def unknown_agent() -> str:
        return f"nobody-{next(counter)}"

    return {
        "sign-in, unknown NPI": posts.sign_in(unknown_npi),
        "sign-in, paused": posts.sign_in(paused, PASSPHRASE),
        "sign-in, blocked (100)": posts.sign_in(blocked, PASSPHRASE),
        "sign-in, wrong passphrase": posts.sign_in(real, move=True),
        "help desk, unknown name": posts.agent(unknown_agent),
        "help desk, paused": posts.agent("bench-paused", PASSPHRASE),
        "help desk, blocked (100)": posts.agent("bench-blocked", PASSPHRASE),
        "reset, unknown NPI": posts.reset(unknown_npi),
        "reset, paused": posts.reset(paused),
        "reset, wrong reset code": posts.reset(real, move=True),
    }


def measure(samples: int = 40, seed: int = 7) -> list[dict]:
    """Median and p90 (ms) of each kind of refusal, with its median against the unknown's."""
    logging.getLogger("wizard").setLevel(logging.WARNING)  # one audit line per post otherwise
    with tempfile.TemporaryDirectory(prefix="refusal-timing-") as folder:
        app = _app(Path(folder))
        posts = _posts(app)
        timings: dict[str, list[float]] = {name: [] for name in posts}
        statuses: dict[str, set[int]] = {name: set() for name in posts}
        order = [name for name in posts for _ in range(samples)]
        random.Random(seed).shuffle(order)  # noqa: S311 - the order of samples, not a secret
        for name in order:
            started = time.perf_counter()
            statuses[name].add(posts[name]())
            timings[name].append((time.perf_counter() - started) * 1000)
    rows = []
    for name, values in timings.items():
        group = name.split(",")[0]
        baseline = statistics.median(timings[_unknown_of(group)])
        median = statistics.median(values)
        rows.append(
            {
                "refusal": name,
                "median_ms": round(median, 1),
                "p90_ms": round(statistics.quantiles(values, n=10)[-1], 1),
                "against_unknown": round(median / baseline, 2),
                "statuses": sorted(statuses[name]),
            }
        )
    return rows


def _unknown_of(group: str) -> str:
    return {
        "sign-in": "sign-in, unknown NPI",
        "help desk": "help desk, unknown name",
        "reset": "reset, unknown NPI",
    }[group]


# How far apart the medians of one form's refusals may be: a quarter, where the gap measured
# before the fix was 2.4 times (docs/SECURITY.md).
SPREAD_GOAL = 1.25


def targets(rows: list[dict]) -> list[dict]:
    """Per form: the slowest refusal's median over the fastest's, as {name, measured, goal,
    met} (bench/report.py's shape)."""
    out = []
    for group in ("sign-in", "help desk", "reset"):
        medians = [r["median_ms"] for r in rows if r["refusal"].split(",")[0] == group]
        spread = max(medians) / min(medians)
        out.append(
            {
                "name": f"refusal timing, {group}: slowest / fastest median of its refusals",
                "measured": round(spread, 3),
                "goal": f"<= {SPREAD_GOAL:g}",
                "met": spread <= SPREAD_GOAL,
            }
        )
    return out


def table(rows: list[dict]) -> str:
    lines = [
        "| refusal | median ms | p90 ms | median / unknown's | status |",
        "|---|---:|---:|---:|---|",
    ]
    for row in rows:
        status = ", ".join(str(s) for s in row["statuses"])
        lines.append(
            f"| {row['refusal']} | {row['median_ms']} | {row['p90_ms']} | "
            f"{row['against_unknown']} | {status} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=40, help="posts of each kind (40)")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M")
    rows = measure(args.samples)
    print(f"Refusal timing, {args.samples} samples of each kind, {started}")
    print(table(rows))
    found = targets(rows)
    for row in found:
        print(f"{row['name']}: {row['measured']} (goal {row['goal']})")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "targets": found}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
