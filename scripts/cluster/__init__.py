"""The wizard as a health system would run it, on this machine: two app nodes (gunicorn, two
workers each) on one PostgreSQL and one Redis (sessions and rate-limit counts), behind nginx
as the load balancer. Every server is started here on 127.0.0.1 and stopped with the cluster.

    from cluster import Cluster

    with Cluster(port=0) as cluster:        # port 0: a free port
        cluster.url                          # the load balancer, e.g. http://127.0.0.1:41234
        cluster.nodes[0].url                 # one app node, directly
        cluster.kill_node(0)                 # as a crash would; cluster.start_node(0) again
        cluster.database_url, cluster.settings   # what the nodes were started with

`make cluster` runs `python -m cluster` (scripts/cluster/__main__.py) on port 8080.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
import urllib.request
from pathlib import Path

from .balancer import Balancer
from .nodes import AppNode, flask
from .postgres import PostgresServer
from .processes import ServiceError, free_port
from .redis_server import RedisServer

__all__ = ["Cluster", "PostgresServer", "RedisServer", "ServiceError"]


class Cluster:
    """start() brings everything up (migrations and sandbox data included); stop() ends
    every process it started and removes its files.

    sandbox: the demo prescriber and practice tokens (WIZARD_SANDBOX=1).
    durable: PostgreSQL with fsync on (off is quicker, and enough for tests).
    settings: more WIZARD_* variables for every node.
    """

    def __init__(
        self,
        port: int = 8080,
        nodes: int = 2,
        workers: int = 2,
        sandbox: bool = True,
        durable: bool = True,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.node_count = nodes
        self.workers = workers
        self.sandbox = sandbox
        self.durable = durable
        self.extra = dict(settings or {})
        self.folder: Path | None = None
        self.postgres: PostgresServer | None = None
        self.redis: RedisServer | None = None
        self.nodes: list[AppNode] = []
        self.balancer: Balancer | None = None
        self.settings: dict[str, str] = {}
        self.demo: dict | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return self.settings["WIZARD_DATABASE_URL"]

    @property
    def local_settings(self) -> dict[str, str]:
        """The nodes' settings without Redis: for an app in another process that reads and
        writes the cluster's database (Flask-Limiter keeps one storage for every app of a
        process, so an app on the cluster's Redis would move its neighbors' counts there)."""
        return {
            k: v for k, v in self.settings.items() if not k.endswith(("REDIS_URL", "STORAGE_URL"))
        }

    def start(self) -> Cluster:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="wizard-cluster-"))
        self.folder.chmod(0o711)  # nginx's workers (nobody) reach their folder inside
        self.postgres = PostgresServer(durable=self.durable).start()
        self.postgres.create_database("wizard")
        self.redis = RedisServer().start()
        self.settings = {
            "WIZARD_DATABASE_URL": self.postgres.url("wizard"),
            "WIZARD_SESSION_REDIS_URL": self.redis.url(0),
            "WIZARD_RATELIMIT_STORAGE_URL": self.redis.url(1),
            "WIZARD_SECRET_KEY": secrets.token_hex(32),
            "WIZARD_SEED_KEY": _new_seed_key(),
            "WIZARD_TRUSTED_PROXIES": "1",  # nginx, one hop in front of the nodes
            "WIZARD_BASE_URL": self.url,
            **({"WIZARD_SANDBOX": "1"} if self.sandbox else {}),
            **self.extra,
        }
        # Once for the cluster, before any node starts: as a release step would.
        flask(["db", "upgrade"], self.settings)
        if self.sandbox:
            self.demo = json.loads(flask(["sandbox", "seed"], self.settings))
        self.nodes = [
            AppNode(f"node{n}", self.settings, self.folder, self.workers)
            for n in range(1, self.node_count + 1)
        ]
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            node.wait()
        self.balancer = Balancer(self.port, [n.port for n in self.nodes], self.folder).start()

    def kill_node(self, index: int) -> None:
        self.nodes[index].kill()

    def start_node(self, index: int) -> None:
        """Start a node again (after kill_node), on the same port, and wait until the
        balancer sends it requests again (it leaves a failed node out for a few seconds)."""
        node = self.nodes[index]
        if node.running:
            return
        node.launch().wait()
        served = self.served(index)
        deadline = time.monotonic() + 30
        while self.served(index) == served:
            if time.monotonic() > deadline:
                raise ServiceError(f"the balancer sent nothing to {node.name} after its restart")
            urllib.request.urlopen(self.url + "/healthz", timeout=10).close()  # noqa: S310
            time.sleep(0.2)

    def served(self, index: int) -> int:
        """How many requests node `index` answered through the balancer."""
        return self.balancer.served_by(self.nodes[index].port)

    def stop(self) -> None:
        """Stop everything started, last started first; safe to call more than once."""
        for server in [self.balancer, *reversed(self.nodes), self.redis, self.postgres]:
            if server is not None:
                server.stop()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _new_seed_key() -> str:
    import base64
    import os

    return base64.urlsafe_b64encode(os.urandom(32)).decode()
