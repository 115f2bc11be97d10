"""Speed of the EPCS token enrollment wizard, measured against a bare Flask app and a peer.

    .venv/bin/python -m bench            # the full run (make bench)
    .venv/bin/python -m bench --quick    # shorter windows, for trying the bench

Serves the wizard with gunicorn (2 sync workers) on 127.0.0.1 and a free port, over a fresh
SQLite file in sandbox mode, and bench/bare_app.py and the peer (Flask-Security-Too's
two-factor setup) under the same gunicorn settings, side by side. A load generator in this
process (threads, each with its own http.client connection) measures requests per second
and p50/p99 latency. See bench/README.md for what each figure means and docs/PERFORMANCE.md
for the latest results.

Traffic goes to 127.0.0.1 only; every loop is bounded by a time window and a count; the
gunicorn masters (and their workers), redis-server and Chromium are stopped at the end, also
on failure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import browser, hooks, peer
from bench.client import SIGN_IN_LATENCIES, Client, at_step_two, expect, sign_in, sign_in_all
from bench.common import BENCH, CODE_SESSIONS, CONCURRENCY, ROOT, log
from bench.data import add_tokens, count_tokens, prepare_database, side_database
from bench.load import (
    Load,
    alternate,
    code_posts,
    enrollments,
    get_load,
    median_load,
    page_sizes,
    retarget,
    serial_latency,
)
from bench.profiling import bare_in_process, memory_probe, profile_requests
from bench.report import print_report, targets
from bench.servers import (
    Server,
    build_app,
    fsync_probe,
    machine,
    quiesce,
    start_gunicorn,
    start_redis,
    wizard_environ,
)

STEP = "/enroll/credential-id"


@dataclass
class Plan:
    seconds: float
    rounds: int
    serial: int
    clicks: int
    slow_loads: int
    step_sessions: int = CONCURRENCY
    code_sessions: int = CODE_SESSIONS
    enrol_sessions: int = 25
    spare: int = 2
    refusal_samples: int = 40  # posts of each kind of refused sign-in (bench/refusal_timing.py)

    @property
    def accounts(self) -> int:
        return self.step_sessions + self.code_sessions + self.enrol_sessions + self.spare


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short windows (a try-out run)")
    parser.add_argument("--seconds", type=float, help="seconds per load window (default 5)")
    parser.add_argument("--tokens", type=int, default=100_000, help="tokens for the big table")
    parser.add_argument("--clicks", type=int, help="browser clicks per transition (default 20)")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument(
        "--sessions",
        choices=["database", "redis"],
        default="database",
        help="where the wizard keeps its sessions (redis: a redis-server of the bench's own)",
    )
    parser.add_argument("--no-peer", action="store_true", help="leave out Flask-Security-Too")
    parser.add_argument(
        "--credentials",
        type=int,
        default=30_000,  # 5 rounds of code POSTs, the what-if's and the cluster's
        help="practice credentials for the code-verify POSTs (each is used once)",
    )
    return parser.parse_args()


def plan_of(args: argparse.Namespace) -> Plan:
    if args.quick:
        return Plan(
            seconds=args.seconds or 1.5,
            rounds=1,
            serial=50,
            clicks=args.clicks or 5,
            slow_loads=2,
            enrol_sessions=8,
            refusal_samples=10,
        )
    # 5 rounds: on this 2-CPU machine one bare window can run at half another's rate in the
    # same run, and a ratio's median of 3 moved by up to 0.1 from run to run.
    return Plan(
        seconds=args.seconds or 5.0, rounds=5, serial=200, clicks=args.clicks or 20, slow_loads=5
    )


def main() -> int:
    args = arguments()
    plan = plan_of(args)
    workdir = Path(tempfile.mkdtemp(prefix="wizard-bench-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("WIZARD_")}
    r: dict = {"machine": machine(), "workdir": str(workdir), "plan": plan.__dict__}
    r["fsync"] = fsync_probe(workdir)
    r["sessions"] = args.sessions
    servers: list[Server] = []
    started = time.perf_counter()
    try:
        extra = {}
        if args.sessions == "redis":
            redis_server, url = start_redis(workdir)
            servers.append(redis_server)
            extra["WIZARD_SESSION_REDIS_URL"] = url
        run(args, plan, workdir, base_env, extra, servers, r)
        r["targets"] = targets(r)
        r["total_seconds"] = round(time.perf_counter() - started, 1)
        r["loadavg_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
        print_report(r)
        if args.json:
            args.json.write_text(json.dumps(r, indent=2, default=str))
        return 0
    finally:
        for server in servers:
            server.stop()


def run(args, plan: Plan, workdir: Path, base_env: dict, extra: dict, servers: list, r: dict):
    log(f"preparing two databases, of 100 and of {args.tokens:,} tokens")
    small = side_database(workdir, "tokens-small", 100)
    big = side_database(workdir, "tokens-big", args.tokens)
    r["bulk_insert_seconds"] = big[3]
    r["tokens_small"], r["tokens_big"] = count_tokens(small[1]), count_tokens(big[1])

    database = workdir / "wizard.sqlite3"
    environ = {**wizard_environ(database), **extra}
    log(f"preparing {database}: {plan.accounts} prescribers, {args.credentials} credentials")
    app = build_app(environ)
    logging.getLogger().setLevel(logging.WARNING)  # the app's INFO lines, in this process
    accounts, pool = prepare_database(app, plan.accounts, credentials=args.credentials)
    r["tokens_main"] = add_tokens(app, 100)

    log("starting the wizard under gunicorn (2 sync workers)")
    env = {**base_env, **environ}
    wizard = start_gunicorn("wizard", "wizard:create_app()", env, workdir, ROOT, "/healthz")
    servers.append(wizard)
    r["wizard_startup_memory"] = wizard.memory()

    log(f"signing in {len(accounts)} prescribers (argon2 verify)")
    clients = sign_in_all(wizard.port, accounts)
    r["sign_in_post_p50_ms"] = Load("sign-in", 0, 1, SIGN_IN_LATENCIES).pct(0.5)
    n = plan.step_sessions
    step_clients = [at_step_two(c) for c in clients[:n]]
    code_clients = [at_step_two(c) for c in clients[n : n + plan.code_sessions]]
    n += plan.code_sessions
    enrol_clients = clients[n : n + plan.enrol_sessions]
    spare = clients[-plan.spare :]

    full_size = len(expect(step_clients[0].get(STEP), 200, f"GET {STEP}").body)
    log(f"starting the bare Flask app ({full_size}-byte page) under the same settings")
    bare = start_gunicorn(
        "bare", "bare_app:app", {**base_env, "BARE_BYTES": str(full_size)}, workdir, BENCH
    )
    servers.append(bare)
    bare_clients = [Client(bare.port) for _ in range(CONCURRENCY)]
    get_load("warm-up", bare_clients, "/", 1.0)
    get_load("warm-up", step_clients, STEP, 1.0)

    log(
        f"throughput: {plan.rounds} rounds of bare / full page / partial ({plan.seconds} s each)"
        f" / code-verify POST ({plan.seconds * 2} s)"
    )
    code_rounds = []

    def window(kind: str) -> Load:
        if kind == "bare":
            return get_load(kind, bare_clients, "/", plan.seconds)
        if kind == "code":  # the right code, each credential once
            load, rounds = code_posts(code_clients, pool, plan.seconds * 2)
            code_rounds.append(rounds)
            return load
        hx = {"HX-Request": "true"} if kind == "partial" else {}
        return get_load(kind, step_clients, STEP, plan.seconds, **hx)

    # The code POST takes its turn among the others: its rate swings between spells of a
    # shared machine as much as theirs, and one window of its own would decide its target.
    windows = alternate(window, ["bare", "full", "partial", "code"], plan.rounds)
    r["windows_rps"] = {k: [round(w.rps, 1) for w in v] for k, v in windows.items()}
    r["code_rounds"] = sum(code_rounds)
    loads = [
        median_load("bare Flask GET / (same-size page)", windows["bare"]),
        median_load("wizard step GET, full page", windows["full"]),
        median_load("wizard step GET, htmx partial", windows["partial"]),
        median_load("code-verify POST (right code, 303)", windows["code"]),
    ]

    log("whole enrollments")
    enrol_load = enrollments(enrol_clients, pool, plan.seconds * 4, per_session=4)
    enrol_load.name = "whole enrollment (11 requests), per second"
    loads.append(enrol_load)

    log("bytes of each step, full page and partial, plain and gzip")
    r["sizes"] = page_sizes(spare[0], pool)
    log(f"click to focused heading in Chromium, {plan.clicks} x 2 transitions")
    r["browser"] = browser.click_to_focus(wizard.port, spare[1].cookie, plan.clicks, pool.take()[0])
    log(f"Chromium on Fast 3G with the CPU 4 times slower, {plan.slow_loads} first loads")
    r["throttled"] = browser.throttled(wizard.port, spare[1].cookie, plan.slow_loads)

    if args.no_peer:
        r["peer"] = {"skipped": "--no-peer"}
    else:
        log("the peer: Flask-Security-Too's two-factor setup, in turn with the wizard")
        r["peer"] = peer.measure(workdir, base_env, plan, step_clients, code_clients, pool)

    loads += what_if(plan, workdir, base_env, env, wizard, step_clients, code_clients, pool, r)
    r["wizard_memory"] = wizard.memory()
    r["bare_memory"] = bare.memory()
    for server in servers:
        if server.name != "redis":
            server.stop()

    loads += token_counts(plan, workdir, base_env, small, big, servers, r)

    log("where the memory goes (a fresh interpreter importing the wizard's pieces)")
    r["memory_probe"] = memory_probe(env)
    log("where the time goes (in-process, Flask test client, cProfile)")
    r["profiles"] = profile_requests(app, spare[0].cookie, pool, 300, workdir)
    r["bare_in_process_ms"] = bare_in_process(2000)
    r["loads"] = {load.name: load.row() for load in loads}
    hooks.run_all(r, workdir)


def what_if(plan, workdir, base_env, env, wizard, step_clients, code_clients, pool, r):
    """The same wizard with PRAGMA synchronous=NORMAL, in turn with it as shipped."""
    if "WIZARD_SESSION_REDIS_URL" in env:
        return []
    log("what-if: the same wizard with PRAGMA synchronous=NORMAL, in turn with it")
    variant = start_gunicorn(
        "sync-normal", "sync_normal_app:create_app()", env, workdir, BENCH, "/healthz"
    )

    def measure(kind: str) -> Load:
        server = wizard if kind.startswith("as shipped") else variant
        if kind.endswith("step GET"):
            return get_load(kind, retarget(server, step_clients), STEP, plan.seconds)
        return code_posts(retarget(server, code_clients), pool, plan.seconds)[0]

    kinds = [
        "as shipped: step GET",
        "synchronous=NORMAL: step GET",
        "as shipped: code POST",
        "synchronous=NORMAL: code POST",
    ]
    try:
        found = alternate(measure, kinds, 2)
    finally:
        retarget(wizard, step_clients + code_clients)
        variant.stop()
    r["what_if_rps"] = {k: [round(w.rps, 1) for w in v] for k, v in found.items()}
    return [median_load(f"what-if, {k}", found[k]) for k in kinds]


def token_counts(plan, workdir, base_env, small, big, servers, r) -> list[Load]:
    """The step GET one at a time over 100 and over 100,000 tokens, in turn."""
    log(f"{r['tokens_small']} against {r['tokens_big']:,} tokens: two servers, in turn")
    side = {}
    for name, (environ, database, account, _) in (("small", small), ("big", big)):
        server = start_gunicorn(
            f"tokens-{name}",
            "wizard:create_app()",
            {**base_env, **environ},
            workdir,
            ROOT,
            "/healthz",
        )
        servers.append(server)
        side[name] = at_step_two(sign_in(server.port, account))
        quiesce(database)
        get_load("warm-up", [side[name]], STEP, 1.0, concurrency=1)
    serial = alternate(
        lambda name: serial_latency(side[name], STEP, plan.serial, batches=1), ["small", "big"], 5
    )
    r["latency"] = {}
    for name in ("small", "big"):
        load = Load(name, 0, 1, [x for b in serial[name] for x in b.latencies])
        load.batch_p50 = [b.batch_p50[0] for b in serial[name]]
        r["latency"][f"tokens_{name}"] = load.row()
    ratios = [
        b / a
        for a, b in zip(
            r["latency"]["tokens_small"]["batch_p50_ms"],
            r["latency"]["tokens_big"]["batch_p50_ms"],
            strict=True,
        )
    ]
    r["tokens_pair_ratios"] = [round(x, 2) for x in ratios]
    found = alternate(
        lambda name: get_load(name, [side[name]], STEP, plan.seconds, concurrency=1),
        ["small", "big"],
        2,
    )
    r["tokens_windows_rps"] = {k: [round(w.rps, 1) for w in v] for k, v in found.items()}
    for server in servers[-2:]:
        server.stop()
    return [
        median_load(f"step GET one at a time, {r['tokens_small']} tokens", found["small"]),
        median_load(f"step GET one at a time, {r['tokens_big']:,} tokens", found["big"]),
    ]
