"""The load generator: threads that each drive their own connection, in bounded windows."""

from __future__ import annotations

import gzip
import http.client
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyotp

from bench.client import Client, expect
from bench.common import CONCURRENCY
from bench.data import Pool
from bench.servers import Server


@dataclass
class Load:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    batch_p50: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    def row(self) -> dict:
        return {
            "batch_p50_ms": self.batch_p50,
            "median_batch_p50_ms": round(statistics.median(self.batch_p50), 2)
            if self.batch_p50
            else None,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.pct(0.50), 2),
            "p99_ms": round(self.pct(0.99), 2),
            "count": self.count,
            "seconds": round(self.seconds, 2),
        }


def run_load(
    name: str,
    op: Callable[[int], float | None],
    seconds: float,
    concurrency: int = CONCURRENCY,
    max_ops: int = 1_000_000,
) -> Load:
    """concurrency threads call op(thread) until the window closes or max_ops are done.

    op returns the latency of the measured request (or None when it has nothing left to do);
    the rate is measured operations over the wall time of the window: from the start to the
    end of the last operation counted (not to when the loop below next looks, up to 10 ms
    later, which in a short window of a few requests is a large share of it).
    """
    latencies: list[float] = []
    last_end = [0.0]
    lock = threading.Lock()
    done = threading.Event()
    errors: list[BaseException] = []
    barrier = threading.Barrier(concurrency + 1)

    def worker(index: int) -> None:
        barrier.wait()
        while not done.is_set():
            try:
                latency = op(index)
            except BaseException as error:  # noqa: BLE001 - reported after the join
                errors.append(error)
                latency = None
            if latency is None:
                return
            with lock:
                latencies.append(latency)
                last_end[0] = time.perf_counter()
                if len(latencies) >= max_ops:
                    done.set()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.01)
    done.set()
    for t in threads:
        t.join(timeout=120)
    elapsed = (last_end[0] if latencies else time.perf_counter()) - started
    if errors:
        raise RuntimeError(f"{name}: {errors[0]}") from errors[0]
    return Load(name, len(latencies), elapsed, latencies)


def get_load(
    name: str,
    clients: list[Client],
    path: str,
    seconds: float,
    concurrency: int = CONCURRENCY,
    **headers: str,
) -> Load:
    def op(i: int) -> float:
        reply = clients[i % len(clients)].get(path, **headers)
        if reply.status != 200:
            raise RuntimeError(f"{name}: GET {path} answered {reply.status}")
        return reply.seconds

    run_load(f"{name} (warm-up)", op, min(1.0, seconds / 3), concurrency)
    return run_load(name, op, seconds, concurrency)


def serial_latency(client: Client, path: str, count: int, batches: int = 5) -> Load:
    """One request at a time on an otherwise idle server: latency without queueing.

    A single batch's p50 moves by a third from one batch to the next on this kind of machine
    (the disk's fsync time varies), so `batches` batches of `count` are taken and the median of
    their p50s is the figure compared (Load.batch_p50)."""
    for _ in range(count):
        client.get(path)  # warm-up
    latencies: list[float] = []
    medians = []
    started = time.perf_counter()
    for _ in range(batches):
        batch = []
        for _ in range(count):
            reply = client.get(path)
            if reply.status != 200:
                raise RuntimeError(f"GET {path} answered {reply.status}")
            batch.append(reply.seconds)
        medians.append(statistics.median(batch) * 1000)
        latencies += batch
    load = Load(f"serial {path}", len(latencies), time.perf_counter() - started, latencies)
    load.batch_p50 = [round(m, 2) for m in medians]
    return load


def code_posts(clients: list[Client], pool: Pool, seconds: float) -> tuple[Load, int]:
    """The code-verify POST with the right code, each credential's code used once.

    Rounds: first (untimed) every session posts a new credential at step 2; then all sessions
    post that credential's current code at step 3 at once, and only that phase is timed. The
    rate is the timed posts over the summed timed phases.
    """
    rounds = 0
    latencies: list[float] = []
    timed = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        assigned: list[tuple[Client, str]] = []

        def prepare(i: int, batch=assigned) -> float | None:
            for client in clients[i::CONCURRENCY]:
                credential_id, secret = pool.take()
                reply = client.post("/enroll/credential-id", {"credential_id": credential_id})
                expect(reply, 303, "POST /enroll/credential-id", "/enroll/security-code")
                batch.append((client, secret))
            return None

        run_load("prepare", prepare, 60)
        queue = list(assigned)
        qlock = threading.Lock()

        def post(_i: int, queue=queue, qlock=qlock) -> float | None:
            with qlock:
                if not queue:
                    return None
                client, secret = queue.pop()
            reply = client.post("/enroll/security-code", {"code": pyotp.TOTP(secret).now()})
            expect(reply, 303, "POST /enroll/security-code (right code)", "/enroll/name")
            return reply.seconds

        phase = run_load("code posts", post, 60)
        latencies += phase.latencies
        timed += phase.seconds
        rounds += 1
    return Load("code-verify POST", len(latencies), timed, latencies), rounds


def enrollments(clients: list[Client], pool: Pool, seconds: float, per_session: int) -> Load:
    """Whole enrollments as a browser without JavaScript makes them, each 11 requests:
    start over, step 1 (the app shown), steps 1-4 posted (each a 303 and the next GET),
    ending on step 5. Each session holds at most MAX_TOKENS (5) tokens, so does per_session."""
    work = [(c, n) for n in range(per_session) for c in clients]  # sessions take turns
    lock = threading.Lock()
    busy = {id(c): threading.Lock() for c in clients}

    def one(_i: int) -> float | None:
        with lock:
            if not work:
                return None
            client, n = work.pop(0)
        with busy[id(client)]:  # a session's steps are sequential
            return enrol_once(client, n)

    def enrol_once(client: Client, n: int) -> float:
        credential_id, secret = pool.take()
        started = time.perf_counter()
        expect(client.post("/enroll/start-over", {}), 303, "start over", "/enroll/get-app")
        expect(client.get("/enroll/get-app"), 200, "GET step 1")
        expect(client.get("/enroll/get-app?device=iphone&show=1"), 200, "GET step 1 shown")
        steps = [
            ("/enroll/get-app", {"platform": "iphone", "different_device": "y"}),
            ("/enroll/credential-id", {"credential_id": credential_id}),
            ("/enroll/security-code", None),
            ("/enroll/name", {"nickname": f"Bench token {n + 2}"}),
        ]
        for path, form in steps:
            form = form if form is not None else {"code": pyotp.TOTP(secret).now()}
            reply = expect(client.post(path, form), 303, f"POST {path}")
            expect(client.get(reply.location), 200, f"GET {reply.location}")
        if reply.location != "/enroll/done":
            raise RuntimeError(f"the enrollment ended at {reply.location}")
        return time.perf_counter() - started

    return run_load("whole enrollment", one, seconds, max_ops=len(work))


def median_load(name: str, loads: list[Load]) -> Load:
    """The window with the median rate, and every window's latencies pooled."""
    ordered = sorted(loads, key=lambda load: load.rps)
    middle = ordered[len(ordered) // 2]
    pooled = [x for load in loads for x in load.latencies]
    return Load(name, middle.count, middle.seconds, pooled)


def alternate(measure: Callable[[str], Load], names: list[str], times: int) -> dict[str, list]:
    """measure(name) for each name in turn, `times` times over, so that the slow and fast
    spells of a shared machine fall on every side alike."""
    out: dict[str, list] = {name: [] for name in names}
    for _ in range(times):
        for name in names:
            out[name].append(measure(name))
    return out


def retarget(server: Server, group: list[Client]) -> list[Client]:
    """Point signed-in clients at another server over the same database (same session ids)."""
    for client in group:
        if client.port != server.port:
            client.port = server.port
            client.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    return group


def page_sizes(client: Client, pool: Pool) -> list[dict]:
    """Bytes of each step as a full page and as its htmx partial (plain and gzip -6)."""
    credential_id, secret = pool.take()
    expect(client.post("/enroll/start-over", {}), 303, "start over")
    plan = [
        ("1 Get the app (app shown)", "/enroll/get-app?device=iphone&show=1", None),
        (
            "2 Credential ID",
            "/enroll/credential-id",
            ("/enroll/get-app", {"platform": "iphone", "different_device": "y"}),
        ),
        (
            "3 Security code",
            "/enroll/security-code",
            ("/enroll/credential-id", {"credential_id": credential_id}),
        ),
        ("4 Name and save", "/enroll/name", ("/enroll/security-code", "code")),
        ("5 Done", "/enroll/done", ("/enroll/name", {"nickname": "Size probe"})),
    ]
    rows = []
    for label, path, before in plan:
        if before is not None:
            target, form = before
            form = {"code": pyotp.TOTP(secret).now()} if form == "code" else form
            expect(client.post(target, form), 303, f"POST {target}")
        full = expect(client.get(path), 200, f"GET {path}").body
        partial = expect(client.get(path, **{"HX-Request": "true"}), 200, f"GET {path} hx").body
        rows.append(
            {
                "step": label,
                "full": len(full),
                "partial": len(partial),
                "share": round(len(partial) / len(full), 3),
                "full_gzip": len(gzip.compress(full, 6)),
                "partial_gzip": len(gzip.compress(partial, 6)),
                "chrome": len(full) - len(partial),
            }
        )
    return rows
