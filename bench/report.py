"""The figures as Markdown tables, and every target as {name, measured, goal, met}."""

from __future__ import annotations

import statistics

# The goals of issue 13; the throttled-Chromium goals are the bench's own (see
# docs/PERFORMANCE.md): a first page within 3 s and a step within 1 s on Fast 3G.
GOALS = {
    "step_get_ratio": 0.35,
    "code_post_ratio": 0.1,
    "peak_rss_mb": 80.0,
    "click_to_focus_ms": 100.0,
    "tokens_latency_ratio": 1.2,
    "throttled_first_load_ms": 3000.0,
    "throttled_swap_ms": 1000.0,
}


def target(name: str, value: float | None, goal: float, higher_is_better: bool) -> dict:
    met = value is not None and (value >= goal if higher_is_better else value <= goal)
    return {
        "name": name,
        "measured": None if value is None else round(value, 3),
        "goal": f"{'>=' if higher_is_better else '<='} {goal:g}",
        "met": met,
    }


def targets(r: dict) -> list[dict]:
    """Every target of the run, from its figures (a measure that was skipped is not met)."""
    loads = r["loads"]
    bare = loads["bare Flask GET / (same-size page)"]["rps"]
    pairs = r["tokens_pair_ratios"]
    browser, slow = r.get("browser", {}), r.get("throttled", {})
    peak = max(w["peak_mb"] for w in r["wizard_memory"])
    rows = [
        target(
            "step GET rps / bare Flask rps, full page",
            loads["wizard step GET, full page"]["rps"] / bare,
            GOALS["step_get_ratio"],
            True,
        ),
        target(
            "step GET rps / bare Flask rps, htmx partial",
            loads["wizard step GET, htmx partial"]["rps"] / bare,
            GOALS["step_get_ratio"],
            True,
        ),
        target(
            "code-verify POST rps / bare Flask rps",
            loads["code-verify POST (right code, 303)"]["rps"] / bare,
            GOALS["code_post_ratio"],
            True,
        ),
        target("peak RSS per wizard worker, MB", peak, GOALS["peak_rss_mb"], False),
        target(
            "click to next heading focused, median ms",
            browser.get("median_ms"),
            GOALS["click_to_focus_ms"],
            False,
        ),
        target(
            f"p50 latency, {r['tokens_big']:,} / {r['tokens_small']} tokens (median pair)",
            statistics.median(pairs) if pairs else None,
            GOALS["tokens_latency_ratio"],
            False,
        ),
        target(
            "Fast 3G + 4x CPU: first load of step 1, median ms",
            slow.get("first_load_median_ms"),
            GOALS["throttled_first_load_ms"],
            False,
        ),
        target(
            "Fast 3G + 4x CPU: step 1 -> 2 swap, click to focus, median ms",
            slow.get("swap_median_ms"),
            GOALS["throttled_swap_ms"],
            False,
        ),
    ]
    return rows + r.get("extra_targets", [])


def print_profiles(profiles: dict) -> None:
    for label, profile in profiles.items():
        plain = f"{profile['plain_ms']} ms per request in-process, unprofiled"
        print(f"| {label}: {plain} | ms per request under cProfile |")
        print("|---|---:|")
        for part, ms in profile["parts"]:
            print(f"| {part} | {ms} |")
        print()


def print_peer(r: dict) -> None:
    peer = r.get("peer")
    if not peer:
        return
    if "skipped" in peer:
        print(f"Peer (Flask-Security-Too): skipped, {peer['skipped']}")
        return
    print(f"Peer: Flask-Security-Too {peer['version']}, its defaults, SQLite, same gunicorn")
    print("| in turn, same windows | requests/s | p50 ms | p99 ms | n |")
    print("|---|---:|---:|---:|---:|")
    for name, row in peer["loads"].items():
        print(f"| {name} | {row['rps']} | {row['p50_ms']} | {row['p99_ms']} | {row['count']} |")
    print(f"Wizard / peer: {peer['ratios']}")
    print()


def print_hooks(r: dict) -> None:
    for name, figures in r.get("hooks", {}).items():
        print(f"\n{name}:")
        for label, row in figures.get("loads", {}).items():
            print(
                f"| {label} | {row['rps']} rps | p50 {row['p50_ms']} ms | p99 {row['p99_ms']} ms |"
            )
        for label, value in figures.items():
            if label not in ("loads", "rows") and not isinstance(value, (dict, list)):
                print(f"{label}: {value}")
        breakdown = figures.get("breakdown", {})
        for label, value in breakdown.items():
            if not isinstance(value, dict):
                print(f"| {label} | {value} ms |")
        if "profile" in breakdown:
            print_profiles({"vip-code-post": breakdown["profile"]})
        if "rows" in figures:
            from bench.refusal_timing import table

            print(table(figures["rows"]))


def print_throttled(r: dict) -> None:
    slow = r.get("throttled")
    if slow:
        print(f"Chromium on Fast 3G with the CPU 4 times slower: {slow}")


def print_report(r: dict) -> None:
    m = r["machine"]
    out = print
    out()
    out(f"Machine: {m['nproc']} CPUs ({m['cpu']}), Linux {m['kernel']}; Python {m['python']},")
    versions = f"Flask {m['flask']}, SQLAlchemy {m['sqlalchemy']}, SQLite {m['sqlite']}"
    out(f"gunicorn {m['gunicorn']}, {versions}")
    out(f"Work folder (database, server logs, profiles): {r['workdir']}")
    fsync = r["fsync"]
    out(f"fsync of a 4 KiB write there: p50 {fsync['p50_ms']} ms, p90 {fsync['p90_ms']} ms")
    out()
    out("| measurement | requests/s | p50 ms | p99 ms | n |")
    out("|---|---:|---:|---:|---:|")
    for name, row in r["loads"].items():
        out(f"| {name} | {row['rps']} | {row['p50_ms']} | {row['p99_ms']} | {row['count']} |")
    out(f"\nEvery window's rate: {r['windows_rps']}; code-verify rounds: {r['code_rounds']}")
    out()
    out("| step | full page bytes | partial bytes | partial/full | full gzip | partial gzip |")
    out("|---|---:|---:|---:|---:|---:|")
    for s in r["sizes"]:
        out(
            f"| {s['step']} | {s['full']} | {s['partial']} | {s['share']} | "
            f"{s['full_gzip']} | {s['partial_gzip']} |"
        )
    out()
    out("| GET /enroll/credential-id, one at a time | tokens | p50 ms | p99 ms | batch p50s |")
    out("|---|---:|---:|---:|---|")
    for key, label in (("tokens_small", "small database"), ("tokens_big", "big database")):
        row = r["latency"][key]
        batches = ", ".join(map(str, row["batch_p50_ms"]))
        p50 = row["median_batch_p50_ms"]
        out(f"| {label} | {r[key]:,} | {p50} | {row['p99_ms']} | {batches} |")
    out(f"Batch p50 ratios, big / small, pair by pair: {r['tokens_pair_ratios']}")
    out(f"Throughput windows, in turn: {r['tokens_windows_rps']}")
    out(f"What-if windows, in turn: {r['what_if_rps']}")
    out()
    out(
        "| gunicorn worker | peak RSS MB after start | peak RSS MB (VmHWM) at end | RSS MB at end |"
    )
    out("|---|---:|---:|---:|")
    startup = {w["pid"]: w["peak_mb"] for w in r["wizard_startup_memory"]}
    for w in r["wizard_memory"]:
        first = startup.get(w["pid"], 0)
        out(f"| wizard {w['pid']} | {first:.1f} | {w['peak_mb']:.1f} | {w['rss_mb']:.1f} |")
    for w in r["bare_memory"]:
        out(f"| bare Flask {w['pid']} | | {w['peak_mb']:.1f} | {w['rss_mb']:.1f} |")
    out()
    out("| fresh interpreter | RSS MB | peak RSS MB |")
    out("|---|---:|---:|")
    for label, rss, peak in r["memory_probe"]:
        out(f"| {label} | {rss} | {peak} |")
    out()
    bare_ms = r["bare_in_process_ms"]
    out(f"In-process, Flask test client: the bare app's GET / takes {bare_ms} ms per request.")
    out()
    print_profiles(r["profiles"])
    print_peer(r)
    out(f"Chromium: {r['browser']}")
    print_throttled(r)
    print_hooks(r)
    for name, reason in r.get("not_measured", {}).items():
        out(f"Not measured in this run: {name} ({reason})")
    out(
        f"POST /sign-in (argon2 verify), 4 at once on 2 workers: "
        f"p50 {r['sign_in_post_p50_ms']:.0f} ms"
    )
    out()
    out("| target | measured | goal | |")
    out("|---|---:|---|---|")
    for t in r["targets"]:
        out(f"| {t['name']} | {t['measured']} | {t['goal']} | {'met' if t['met'] else 'MISSED'} |")
    bulk = r["bulk_insert_seconds"]
    out(f"\nWhole run: {r['total_seconds']} s (bulk insert of the big table {bulk:.1f} s).")
    start, end = " ".join(m["loadavg_at_start"]), " ".join(r["loadavg_at_end"])
    load = f"{start} at the start, {end} at the end"
    out(f"Load average (1, 5, 15 min): {load}; other work on the machine shares the 2 CPUs.")
