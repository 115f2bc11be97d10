"""The wizard on the local cluster (scripts/cluster: two gunicorn nodes of 2 workers on one
PostgreSQL and one Redis, behind nginx): the step GET and the code POST through the load
balancer against one node reached directly, and one node against the bare Flask app."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bench.client import Client, at_step_two, sign_in_all
from bench.common import BENCH, CODE_SESSIONS, CONCURRENCY, ROOT, log
from bench.data import prepare_database
from bench.load import Load, alternate, code_posts, get_load, median_load, retarget
from bench.report import GOALS, target
from bench.servers import build_app, start_gunicorn

STEP = "/enroll/credential-id"


class _Port:
    """What retarget() needs of a server: its port."""

    def __init__(self, port: int) -> None:
        self.port = port


def measure(r: dict, workdir: Path) -> dict:
    sys.path.insert(0, str(ROOT / "scripts"))
    from cluster import Cluster

    seconds = r["plan"]["seconds"]
    rounds = r["plan"]["rounds"]
    settings = {
        name: "100000 per minute"
        for name in (
            "WIZARD_SIGN_IN_RATE_LIMIT",
            "WIZARD_CODE_RATE_LIMIT",
            "WIZARD_CREDENTIAL_ID_RATE_LIMIT",
            "WIZARD_CREDENTIAL_ID_ACCOUNT_RATE_LIMIT",
        )
    }
    log("the cluster: PostgreSQL, Redis, two nodes and nginx (scripts/cluster)")
    with Cluster(port=0, sandbox=True, settings=settings) as cluster:
        app = build_app(cluster.settings)
        accounts, pool = prepare_database(app, 2 * CONCURRENCY + CODE_SESSIONS, credentials=30_000)
        node = cluster.nodes[0]
        clients = sign_in_all(cluster.port, accounts)
        getters = [at_step_two(c) for c in clients[: 2 * CONCURRENCY]]
        posters = [at_step_two(c) for c in clients[2 * CONCURRENCY :]]
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIZARD_")}
        bare = start_gunicorn("bare-cluster", "bare_app:app", env, workdir, BENCH)
        try:
            bare_clients = [Client(bare.port) for _ in range(CONCURRENCY)]

            def gets(kind: str) -> Load:
                if kind == "bare":
                    return get_load(kind, bare_clients, "/", seconds)
                if kind == "one node":
                    return get_load(kind, retarget(_Port(node.port), getters), STEP, seconds)
                group = retarget(_Port(cluster.port), getters)
                return get_load(kind, group, STEP, seconds, concurrency=2 * CONCURRENCY)

            def posts(kind: str) -> Load:
                port = node.port if kind == "one node" else cluster.port
                return code_posts(retarget(_Port(port), posters), pool, seconds * 2)[0]

            got = alternate(gets, ["bare", "one node", "cluster"], rounds)
            sent = alternate(posts, ["one node", "cluster"], max(1, rounds - 1))
        finally:
            bare.stop()
    loads = {
        "bare": median_load("bare Flask GET /", got["bare"]),
        "node GET": median_load("step GET, one node", got["one node"]),
        "cluster GET": median_load("step GET, through the balancer", got["cluster"]),
        "node POST": median_load("code POST, one node", sent["one node"]),
        "cluster POST": median_load("code POST, through the balancer", sent["cluster"]),
    }
    rps = {k: v.rps for k, v in loads.items()}
    return {
        "targets": [
            target(
                "PostgreSQL + Redis, one node: step GET rps / bare Flask rps",
                rps["node GET"] / rps["bare"],
                GOALS["step_get_ratio"],
                True,
            ),
            target(
                "PostgreSQL + Redis, one node: code POST rps / bare Flask rps",
                rps["node POST"] / rps["bare"],
                GOALS["code_post_ratio"],
                True,
            ),
        ],
        "figures": {
            "loads": {load.name: load.row() for load in loads.values()},
            "cluster / one node, step GET": round(rps["cluster GET"] / rps["node GET"], 3),
            "cluster / one node, code POST": round(rps["cluster POST"] / rps["node POST"], 3),
        },
    }
