"""Measures that arrive with other work, each a function of the run's results and work folder
that returns its targets ({name, measured, goal, met}) and figures, or raises NotMeasured.

- the cluster (issue 13, bench/cluster.py): the step GET and the code POST through the load
  balancer against one node, and one node on PostgreSQL and Redis against the bare app;
- the VIP authority (issue 10): code verification through it against its stand-in, beside
  the local OATH authority;
- refusal timing (issue 11): bench/refusal_timing.py, run as
  `python bench/refusal_timing.py --json PATH`, which writes its rows and its targets.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bench.common import BENCH, ROOT, log


class NotMeasured(Exception):
    """Why a hook measured nothing in this run."""


def cluster(r: dict, workdir: Path) -> dict:
    if not (ROOT / "scripts" / "cluster").is_dir():
        raise NotMeasured("no cluster to start in this tree (scripts/cluster)")
    from bench import cluster as on_cluster

    return on_cluster.measure(r, workdir)


def vip_authority(r: dict, workdir: Path) -> dict:
    from bench import vip

    return vip.measure(r, workdir)


def refusal_timing(r: dict, workdir: Path) -> dict:
    script = BENCH / "refusal_timing.py"
    if not script.exists():
        raise NotMeasured("bench/refusal_timing.py is not in this tree yet (issue 11)")
    out = workdir / "refusal-timing.json"
    samples = r["plan"].get("refusal_samples", 40)
    subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(script), "--json", str(out), "--samples", str(samples)],
        check=True,
        timeout=1800,
    )
    found = json.loads(out.read_text())
    return {"targets": found["targets"], "figures": {"rows": found["rows"]}}


HOOKS: dict[str, Callable[[dict, Path], dict]] = {
    "cluster through the load balancer": cluster,
    "code verification through the VIP authority": vip_authority,
    "refusal timing": refusal_timing,
}


def run_all(r: dict, workdir: Path) -> None:
    r.setdefault("extra_targets", [])
    r.setdefault("not_measured", {})
    r.setdefault("hooks", {})
    for name, hook in HOOKS.items():
        try:
            log(f"hook: {name}")
            found = hook(r, workdir)
        except NotMeasured as why:
            r["not_measured"][name] = str(why)
            continue
        except Exception as error:  # noqa: BLE001 - one hook failing leaves the run's figures
            r["not_measured"][name] = f"failed: {error!r}"
            continue
        r["extra_targets"] += found.get("targets", [])
        r["hooks"][name] = found.get("figures", {})
