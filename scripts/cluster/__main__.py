"""`make cluster`: the local cluster on 127.0.0.1 until Ctrl-C, then everything stopped.

PYTHONPATH=scripts .venv/bin/python -m cluster [--port 8080] [--nodes 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

from . import Cluster
from .processes import ServiceError


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8080, help="the load balancer's port")
    parser.add_argument("--nodes", type=int, default=2, help="app nodes")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    options = parser.parse_args()

    # Ctrl-C reaches only this process (each server runs in a session of its own); a
    # SIGTERM is treated the same, so every server is stopped either way.
    signal.signal(signal.SIGTERM, _interrupt)
    cluster = Cluster(port=options.port, nodes=options.nodes, workers=options.workers)
    try:
        print("==> Starting PostgreSQL, Redis, the schema, sandbox data, app nodes and nginx")
        cluster.start()
        print(banner(cluster), flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\n==> Stopping nginx, the app nodes, Redis and PostgreSQL")
        return 0
    except (ServiceError, RuntimeError) as error:
        print(f"The cluster could not start: {error}", file=sys.stderr)
        return 1
    finally:
        cluster.stop()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def banner(cluster: Cluster) -> str:
    nodes = "\n".join(
        f"    {n.name}: {n.url} (gunicorn, {n.workers} workers)" for n in cluster.nodes
    )
    demo = cluster.demo or {}
    return f"""
  The wizard on a local cluster, in sandbox mode:  {cluster.url}/
  Sign in as the demo prescriber: NPI {demo.get("npi")}, passphrase "{demo.get("passphrase")}"
  Practice VIP Access app:        {cluster.url}/sandbox/vip-access

  nginx on {cluster.url} balances (round robin) over
{nodes}
  PostgreSQL on 127.0.0.1:{cluster.postgres.port}, Redis on 127.0.0.1:{cluster.redis.port}
  (sessions and rate-limit counts); logs in {cluster.folder}

  Stop everything with Ctrl+C.
"""


if __name__ == "__main__":
    sys.exit(main())
