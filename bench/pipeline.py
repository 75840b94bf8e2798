"""Submit-to-decision latency and the sustained rate of web + worker on the same 2 cores.

    .venv/bin/python bench/pipeline.py [--workers 2] [--runs 3] [--light 10] [--saturate 10] [--step 15]
                                       [--rates R1,R2,...] [--json FILE] [--no-write]

Starts gunicorn (sync workers) and the Procfile's Celery worker (``-c 2``) on bench.settings
(PostgreSQL ``lrp_bench``, Redis DB 14), then drives ``POST /api/v1/requests/`` (the test
suite's EPOC, three targets) with an open-loop client in this process: each request is sent
at its scheduled time whatever happened to the earlier ones.

Each of ``--runs`` runs (same servers), every figure with its floor from the same run:

1. Light load: one request every 50 ms for ``--light`` s. Latency is from the moment the client
   sends the POST to the stored decision: ``status_changed_at`` of the final transition (written
   in the deciding transaction, just before its commit), read from the database afterwards, so
   polling does not disturb the measurement. Same clock: everything runs on this machine.
   Floor: floor 2 (``POST /bench/create/``, DRF create + audit) at the same rate.
2. Saturation: ``--saturate-threads`` closed-loop clients for ``--saturate`` s; accepted/s,
   decided/s and submit → decision p50/p99 (backlog included). Floor: floor 2 the same way.
3. Sustained: open-loop steps of ``--step`` s at 0.9, 0.65, 0.4 × the rate decided under
   saturation (or ``--rates``) until one passes, then, while the budget lasts, steps of +15 %
   until one fails (when 0.9 passed) and halving the gap between the highest pass and the lowest
   fail (to within 5 %): a step passes when every POST succeeds, the client keeps to its
   schedule (send lag p99 under 250 ms), and the backlog (this run's requests still
   ``received``/``validating``, sampled every second) does not grow: its mean over the last
   5 s exceeds the mean over seconds 5-10 by at most max(10, 10% of one second's arrivals),
   and it drains within 10 s after the step. The passing rate is the run's sustained rate.

CPU per request per process (gunicorn, celery, postgres, redis, the client) from /proc.
Writes the "pipeline" section of bench/RESULTS.md. Every process it starts is killed on exit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

AIM_LIGHT_P99_MS = 100.0
AIM_SUSTAINED = 150.0
LIGHT_INTERVAL = 0.05
LIGHT_RATE = 1 / LIGHT_INTERVAL
PENDING = ("received", "validating")


@dataclass
class Sent:
    index: int
    sent_at: float  # epoch seconds, when the POST started
    done_at: float
    lag: float  # seconds behind schedule at send time
    status: int
    reference: str


@dataclass
class Step:
    rate: float
    seconds: float
    sent: list[Sent] = field(default_factory=list)
    backlog: list[tuple[float, int, int]] = field(default_factory=list)  # (t, pending rows, queue length)
    drain_seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    decisions: dict[str, Any] = field(default_factory=dict)
    passed: bool = False
    why: str = ""


class Client:
    """One keep-alive-capable HTTP connection (sync gunicorn closes it; http.client reopens)."""

    def __init__(self, token: str, body: bytes, path: str = "/api/v1/requests/") -> None:
        self.conn = http.client.HTTPConnection(common.HOST, common.PORT, timeout=15)
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        self.body, self.path = body, path

    def post(self) -> tuple[int, str]:
        try:
            self.conn.request("POST", self.path, body=self.body, headers=self.headers)
            response = self.conn.getresponse()
            response.read()
            location = response.getheader("Location") or ""
            return response.status, location.rstrip("/").rsplit("/", 1)[-1]
        except (OSError, http.client.HTTPException):
            self.conn.close()
            return -1, ""


def open_loop(rate: float, seconds: float, token: str, body: bytes, threads: int = 32,
              path: str = "/api/v1/requests/") -> list[Sent]:
    """Send ``rate * seconds`` POSTs at their scheduled times from ``threads`` threads; sending
    stops 5 s after the schedule ends, so an overloaded server cannot stretch a step."""
    total = int(rate * seconds)
    counter = itertools.count()
    start = time.monotonic() + 0.1
    out: list[Sent] = []

    def run() -> None:
        client = Client(token, body, path)
        while (i := next(counter)) < total and time.monotonic() < start + seconds + 5:
            scheduled = start + i / rate
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            lag = time.monotonic() - scheduled
            sent_at = time.time()
            status, reference = client.post()
            out.append(Sent(i, sent_at, time.time(), lag, status, reference))
        client.conn.close()

    pool = [threading.Thread(target=run, daemon=True) for _ in range(min(threads, max(1, total)))]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sorted(out, key=lambda s: s.index)


def closed_loop(seconds: float, token: str, body: bytes, threads: int = 8,
                path: str = "/api/v1/requests/") -> list[Sent]:
    """``threads`` clients each sending the next POST as soon as the last one is answered, for
    ``seconds``: the web tier's saturation (what wrk -c``threads`` does in bench/intake.py)."""
    counter = itertools.count()
    start = time.monotonic() + 0.1
    out: list[Sent] = []

    def run() -> None:
        client = Client(token, body, path)
        while time.monotonic() < start:
            time.sleep(0.001)
        while time.monotonic() < start + seconds:
            i = next(counter)
            sent_at = time.time()
            status, reference = client.post()
            out.append(Sent(i, sent_at, time.time(), 0.0, status, reference))
        client.conn.close()

    pool = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sorted(out, key=lambda s: s.index)


def pending_count(conn: Any, since: dt.datetime) -> int:
    row = conn.execute(
        "SELECT count(*) FROM requests_app_legalrequest WHERE status = ANY(%s) AND status_changed_at >= %s",
        [list(PENDING), since],
    ).fetchone()
    return int(row[0]) if row else 0


class BacklogSampler(threading.Thread):
    def __init__(self, since: dt.datetime, interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.since, self.interval = since, interval
        self.samples: list[tuple[float, int, int]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        import psycopg
        import redis

        queue = redis.Redis.from_url(common.REDIS_URL)
        with psycopg.connect(common.PG_BENCH_DSN, autocommit=True) as conn:
            t0 = time.monotonic()
            while not self.stop_event.wait(self.interval):
                self.samples.append((time.monotonic() - t0, pending_count(conn, self.since), int(queue.llen("celery"))))


def wait_drained(since: dt.datetime, timeout: float) -> float:
    """Seconds until no request of this run is pending (``timeout`` if it never drains)."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(common.PG_BENCH_DSN, autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            if pending_count(conn, since) == 0:
                return time.monotonic() - started
            time.sleep(0.2)
    return timeout


def decisions(sent: list[Sent]) -> dict[str, Any]:
    """Latency figures from the database for the given POSTs."""
    import psycopg

    ok = {s.reference: s for s in sent if s.status == 201 and s.reference}
    with psycopg.connect(common.PG_BENCH_DSN) as conn:
        rows = conn.execute(
            "SELECT id, reference, status, received_at, status_changed_at FROM requests_app_legalrequest "
            "WHERE reference = ANY(%s)", [list(ok)]).fetchall()
        ids = [r[0] for r in rows]
        claims: dict[int, dt.datetime] = dict(conn.execute(
            "SELECT request_id, min(occurred_at) FROM requests_app_auditevent WHERE request_id = ANY(%s) "
            "AND action = 'request.status_changed' AND data->>'to' = 'validating' GROUP BY request_id",
            [ids]).fetchall())
    total, to_received, to_decided, to_claim, claim_to_decided, http_ms, decided_at = [], [], [], [], [], [], []
    statuses: dict[str, int] = {}
    for pk, reference, status, received_at, changed_at in rows:
        statuses[status] = statuses.get(status, 0) + 1
        s = ok[reference]
        http_ms.append((s.done_at - s.sent_at) * 1000)
        if status in PENDING:
            continue
        decided = changed_at.timestamp()
        decided_at.append(decided)
        total.append((decided - s.sent_at) * 1000)
        to_received.append((received_at.timestamp() - s.sent_at) * 1000)
        to_decided.append((decided - received_at.timestamp()) * 1000)
        # A first delivery claims and decides in one transaction (services/validation.py), and an
        # audit event's time is when it was stored (audit/trail.py: under the chain head's lock), so
        # its claim carries no time of its own: split only where the claim was its own transaction.
        if pk in claims and claims[pk].timestamp() <= decided:
            claimed = claims[pk].timestamp()
            to_claim.append((claimed - received_at.timestamp()) * 1000)
            claim_to_decided.append((decided - claimed) * 1000)
    return {"n": len(rows), "decided": len(total), "statuses": statuses, "total": total, "http": http_ms,
            "decided_at": decided_at,
            "to_received": to_received, "to_decided": to_decided, "to_claim": to_claim,
            "claim_to_decided": claim_to_decided}


def fmt(values: list[float], pct: float) -> str:
    return f"{common.percentile(values, pct):.1f}" if values else "-"


def run_step(rate: float, seconds: float, token: str, body: bytes, groups: dict[str, int]) -> Step:
    step = Step(rate=rate, seconds=seconds)
    since = dt.datetime.now(dt.UTC)
    sampler = BacklogSampler(since)
    before = common.cpu_snapshot(groups)
    sampler.start()
    step.sent = open_loop(rate, seconds, token, body)
    after = common.cpu_snapshot(groups)
    sampler.stop_event.set()
    sampler.join()
    step.cpu = common.cpu_delta(before, after)
    step.backlog = sampler.samples
    step.drain_seconds = wait_drained(since, 10.0 if rate > LIGHT_RATE else 30.0)
    step.decisions = decisions(step.sent)
    errors = sum(s.status != 201 for s in step.sent)
    unsent = int(rate * seconds) - len(step.sent)
    lag99 = common.percentile([s.lag for s in step.sent], 99)
    early = [n for t, n, _ in step.backlog if 5 <= t < 10]
    late = [n for t, n, _ in step.backlog if t >= max(10.0, seconds - 5)]
    growth = (sum(late) / len(late) if late else 0) - (sum(early) / len(early) if early else 0)
    limit = max(10.0, 0.1 * rate)
    reasons = []
    if errors:
        reasons.append(f"{errors} failed POSTs")
    if unsent:
        reasons.append(f"{unsent} POSTs never sent (server too slow)")
    if lag99 > 0.25:
        reasons.append(f"client fell behind schedule (lag p99 {lag99 * 1000:.0f} ms)")
    if growth > limit:
        reasons.append(f"backlog grew by {growth:.0f} (limit {limit:.0f})")
    if step.drain_seconds >= 10.0:
        reasons.append("backlog did not drain within 10 s")
    step.passed = not reasons
    step.why = "; ".join(reasons) or "steady"
    step.decisions["lag99_ms"] = lag99 * 1000
    step.decisions["growth"] = growth
    return step



def decided_rate(step: Step) -> float:
    """Requests of the step decided per second, from the first POST sent to the last decision stored."""
    ends = step.decisions.get("decided_at") or []
    if not ends or not step.sent:
        return 0.0
    return len(ends) / max(1e-9, max(ends) - min(s.sent_at for s in step.sent))


def http_step(sent: list[Sent], cpu: dict[str, float] | None = None) -> Step:
    """A Step holding only HTTP figures (the floor endpoint has no decision)."""
    step = Step(rate=0.0, seconds=0.0, sent=sent, cpu=cpu or {})
    step.decisions = {"http": [(s.done_at - s.sent_at) * 1000 for s in sent if s.status == 201],
                      "errors": sum(s.status != 201 for s in sent)}
    return step


def accepted_rate(sent: list[Sent]) -> float:
    ok = [s for s in sent if s.status == 201]
    if not ok:
        return 0.0
    return len(ok) / max(1e-9, max(s.done_at for s in ok) - min(s.sent_at for s in ok))


@dataclass
class Run:
    light: Step
    light_floor: Step
    saturated: Step
    saturated_floor: Step
    steps: list[Step] = field(default_factory=list)

    @property
    def sustained(self) -> float:
        if not self.steps:
            return float("nan")  # not measured in this run
        return max((s.rate for s in self.steps if s.passed), default=0.0)


def one_run(n: int, args: argparse.Namespace, token: str, body: bytes, floor_body: bytes,
            groups: dict[str, int], run_since: dt.datetime, deadline: float) -> Run:
    common.wait_quiet(groups)
    light = run_step(LIGHT_RATE, args.light, token, body, groups)
    report_step(f"run {n} light", light)
    light_floor = http_step(open_loop(LIGHT_RATE, args.light, token, floor_body, path=FLOOR_PATH))
    print(f"run {n} light floor: HTTP p50 {fmt(light_floor.decisions['http'], 50)} ms p99 "
          f"{fmt(light_floor.decisions['http'], 99)} ms", flush=True)

    # Saturation: the web tier as fast as it goes (closed loop), the worker behind it.
    wait_drained(run_since, 60.0)
    common.wait_quiet(groups)
    since = dt.datetime.now(dt.UTC)
    before = common.cpu_snapshot(groups)
    sent = closed_loop(args.saturate, token, body, threads=args.saturate_threads)
    after = common.cpu_snapshot(groups)
    saturated = Step(rate=0.0, seconds=args.saturate, sent=sent, cpu=common.cpu_delta(before, after))
    saturated.drain_seconds = wait_drained(since, 120.0)
    saturated.decisions = decisions(sent)
    saturated.rate = accepted_rate(sent)
    print(f"run {n} saturated: accepted {saturated.rate:.0f}/s, decided {decided_rate(saturated):.0f}/s, "
          f"submit→decision p50 {fmt(saturated.decisions['total'], 50)} ms p99 "
          f"{fmt(saturated.decisions['total'], 99)} ms, drained in {saturated.drain_seconds:.1f} s", flush=True)
    before = common.cpu_snapshot(groups)
    floor_sent = closed_loop(args.saturate, token, floor_body, threads=args.saturate_threads, path=FLOOR_PATH)
    saturated_floor = http_step(floor_sent, common.cpu_delta(before, common.cpu_snapshot(groups)))
    saturated_floor.rate = accepted_rate(floor_sent)
    print(f"run {n} saturated floor: {saturated_floor.rate:.0f}/s, HTTP p99 "
          f"{fmt(saturated_floor.decisions['http'], 99)} ms", flush=True)

    # Sustained: open-loop steps around the rate the pipeline decided at under saturation.
    run = Run(light, light_floor, saturated, saturated_floor)
    estimate = max(5.0, decided_rate(saturated))
    if args.rates:
        candidates = [float(x) for x in args.rates.split(",")]
    else:
        candidates = [float(round(estimate * f)) for f in (0.9, 0.65, 0.4)]

    def try_rate(rate: float) -> bool | None:
        """One sustained step at ``rate``: passed or not; None when the budget leaves no room."""
        if run.steps and time.monotonic() > deadline - args.step - 15:  # the first step is always tried
            print(f"run {n}: time budget reached, not trying {rate:g}/s")
            return None
        wait_drained(run_since, 30.0)  # each step starts with an empty backlog
        common.wait_quiet(groups)
        step = run_step(rate, args.step, token, body, groups)
        run.steps.append(step)
        report_step(f"run {n} {rate:g}/s", step)
        return step.passed

    passed_at, failed_at = 0.0, float("inf")
    for candidate in candidates:
        verdict = try_rate(candidate)
        if verdict is None:
            return run
        if verdict:
            passed_at = candidate
            break
        failed_at = candidate
    if args.rates or not passed_at:
        return run
    while (rate := next_sustained_rate(passed_at, failed_at)) is not None:
        verdict = try_rate(rate)
        if verdict is None:
            break
        passed_at, failed_at = (rate, failed_at) if verdict else (passed_at, rate)
    return run


def next_sustained_rate(passed_at: float, failed_at: float) -> float | None:
    """The next sustained step after a pass at ``passed_at`` (and a fail at ``failed_at``, inf if
    none yet), or None when the two are within 5 % (2/s at least).

    The fixed fractions of the saturated rate leave the sustained rate anywhere between a pass and
    the fail above it (45 or 63/s, say). With no fail yet (0.9× passed) the step goes 15 % up: the
    web tier takes the cores under saturation, so the rate decided there understates what the
    pipeline keeps up with; then the gap is halved."""
    if failed_at == float("inf"):
        return float(round(passed_at * 1.15))
    if failed_at - passed_at <= max(2.0, 0.05 * passed_at):
        return None
    return float(round((passed_at + failed_at) / 2))


FLOOR_PATH = "/bench/create/"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2, as the Procfile)")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery prefork children (default 2)")
    parser.add_argument("--light", type=float, default=10.0, help="seconds of light load per run (default 10)")
    parser.add_argument("--saturate", type=float, default=10.0, help="seconds of closed-loop saturation per run")
    parser.add_argument("--saturate-threads", type=int, default=8, help="closed-loop clients (default 8)")
    parser.add_argument("--rates", default="",
                        help="offered rates for the sustained steps (default: 0.9, 0.65, 0.4 × the rate decided "
                             "under saturation in the same run, until one passes)")
    parser.add_argument("--step", type=float, default=15.0, help="seconds per sustained step (default 15)")
    parser.add_argument("--budget", type=float, default=420.0, help="stop stepping after this many seconds")
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    common.add_run_args(parser)
    args = parser.parse_args()

    started = time.monotonic()
    common.setup()
    common.ensure_database()
    token = common.seed_token()
    body = common.epoc_body_json().encode()
    floor_body = b'{"topic": "bench.floor", "payload": {"n": 1}}'
    common.close_db()

    runs: list[Run] = []
    worker_log = ""
    try:
        web = common.start_gunicorn(args.workers)
        worker = common.start_celery(args.concurrency)
        groups = {"gunicorn": web.pgid, "celery": worker.pgid}
        # Warm-up: the first requests pay for imports and connections in every process.
        since = dt.datetime.now(dt.UTC)
        probe = open_loop(5, 1, token, body, threads=1)
        if any(s.status != 201 for s in probe):
            raise SystemExit(f"probe POST failed: {[s.status for s in probe]}\n{web.tail()}")
        if wait_drained(since, 60.0) >= 60.0:
            raise SystemExit(f"the worker did not decide the probe requests within 60 s:\n{worker.tail()}")
        since = dt.datetime.now(dt.UTC)
        open_loop(50, 3, token, body)
        open_loop(50, 1, token, floor_body, path=FLOOR_PATH)
        wait_drained(since, 30.0)
        for n in range(1, args.runs + 1):
            # Each run gets an equal share of what is left of the budget for its sustained steps.
            left = args.budget - (time.monotonic() - started)
            deadline = time.monotonic() + left / (args.runs - n + 1)
            runs.append(one_run(n, args, token, body, floor_body, groups, since, deadline))
        worker_log = worker.tail(5)
    finally:
        common.stop_all()
        try:
            import redis

            redis.Redis.from_url(common.REDIS_URL).flushdb()
        except Exception as exc:  # cleanup only
            print(f"(could not empty the bench's Redis DB: {exc})")

    report = build_report(runs, args, time.monotonic() - started)
    common.dump_figures(args.json, "pipeline", figures(runs))
    print()
    print(report)
    if "Traceback" in worker_log or "ERROR" in worker_log:
        print(f"\nworker log tail:\n{worker_log}")
    if not args.no_write:
        common.write_section("pipeline", report)
        print(f"\nwrote the pipeline section of {common.RESULTS.relative_to(common.ROOT)}")
    return 0


def report_step(label: str, step: Step) -> None:
    d = step.decisions
    print(f"{label:>8s}: sent {len(step.sent)}, decided {d['decided']}, submit→decision p50 {fmt(d['total'], 50)} ms "
          f"p99 {fmt(d['total'], 99)} ms, HTTP p99 {fmt(d['http'], 99)} ms, backlog max "
          f"{max((n for _, n, _ in step.backlog), default=0)}, {'PASS' if step.passed else 'FAIL'} ({step.why}), "
          f"other users' CPU {common.other_share(step.cpu) * 100:.0f}%", flush=True)


CPU_KEYS = ("gunicorn", "celery", "postgres", "redis", "bench client")


def cpu_per_request(step: Step, key: str) -> float:
    return step.cpu.get(key, 0.0) * 1000 / max(1, len(step.sent))


def cpu_split(step: Step) -> str:
    return " / ".join(f"{cpu_per_request(step, k):.1f}" for k in CPU_KEYS)


def pct(step: Step, key: str, q: float) -> float:
    return common.percentile(step.decisions.get(key) or [], q)


def figures(runs: list[Run]) -> list[common.Figure]:
    """The pipeline's figures of `make bench`, each with its floor from the same runs."""
    if not runs:
        return []
    light_p99 = [pct(r.light, "total", 99) for r in runs]
    sustained = [r.sustained for r in runs]
    out = [
        common.Figure("submit → decision p50, light load (20/s), ms", [pct(r.light, "total", 50) for r in runs],
                      "floor 2 HTTP p50 at the same rate, ms", [pct(r.light_floor, "http", 50) for r in runs]),
        common.Figure("submit → decision p99, light load (20/s), ms", light_p99,
                      "floor 2 HTTP p99 at the same rate, ms", [pct(r.light_floor, "http", 99) for r in runs],
                      aim=f"< {AIM_LIGHT_P99_MS:.0f} ms", met=common.median(light_p99) < AIM_LIGHT_P99_MS),
        common.Figure("submit → decision p50, saturated (closed loop), ms",
                      [pct(r.saturated, "total", 50) for r in runs],
                      "floor 2 HTTP p50, closed loop, ms", [pct(r.saturated_floor, "http", 50) for r in runs]),
        common.Figure("submit → decision p99, saturated (closed loop), ms",
                      [pct(r.saturated, "total", 99) for r in runs],
                      "floor 2 HTTP p99, closed loop, ms", [pct(r.saturated_floor, "http", 99) for r in runs]),
        common.Figure("POSTs accepted/s, saturated", [r.saturated.rate for r in runs],
                      "floor 2 req/s, closed loop", [r.saturated_floor.rate for r in runs], fmt="{:.0f}"),
        common.Figure("requests decided/s, saturated", [decided_rate(r.saturated) for r in runs],
                      "floor 2 req/s, closed loop", [r.saturated_floor.rate for r in runs], fmt="{:.0f}"),
        common.Figure("sustained rate, no growing backlog, req/s", sustained,
                      "floor 2 req/s, closed loop", [r.saturated_floor.rate for r in runs],
                      aim=f"≥ {AIM_SUSTAINED:.0f}/s", met=bool(common.median(sustained) >= AIM_SUSTAINED),
                      fmt="{:.0f}"),
    ]
    for key in CPU_KEYS:
        out.append(common.Figure(f"CPU per request, {key}, light load, ms",
                                 [cpu_per_request(r.light, key) for r in runs], fmt="{:.2f}"))
    for key in CPU_KEYS:
        out.append(common.Figure(f"CPU per request, {key}, saturated, ms",
                                 [cpu_per_request(r.saturated, key) for r in runs], fmt="{:.2f}"))
    own = [common.own_cpu_ms(r.saturated.cpu, len(r.saturated.sent)) for r in runs]
    floor_own = [common.own_cpu_ms(r.saturated_floor.cpu, len(r.saturated_floor.sent)) for r in runs]
    out.append(common.Figure("own CPU per request, all processes, saturated, ms", own,
                             "floor 2 own CPU per request, ms", floor_own, aim="≤ 15 ms",
                             met=common.median(own) <= 15.0, fmt="{:.2f}"))
    errors = [float(sum(s.status != 201 for step in (r.light, r.saturated, *r.steps) for s in step.sent))
              for r in runs]
    out.append(common.Figure("pipeline: failed POSTs per run", errors, aim="0", met=max(errors) == 0, fmt="{:.0f}"))
    return out


def build_report(runs: list[Run], args: argparse.Namespace, elapsed: float) -> str:
    all_steps = [s for r in runs for s in (r.light, r.saturated, *r.steps)]
    busiest = max([common.other_share(s.cpu) for s in all_steps], default=0.0)
    warning = (f"**Warning: other users' processes took up to {busiest * 100:.0f}% of the cores during this run; "
               "the latency and rate figures are far below what the machine does alone and are not comparable "
               "with the reference. Rerun on a quiet machine.**" if busiest > 0.2 else "")
    lines = [
        "## Pipeline: submit to decision, web + worker on the same cores (`bench/pipeline.py`)",
        "",
        *([warning, ""] if warning else []),
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {common.machine_summary()}; {common.versions()}. "
        f"Script wall time {elapsed:.0f} s. Code measured: {common.tree_state()}.",
        "",
        "```",
        f".venv/bin/python bench/pipeline.py --workers {args.workers} --concurrency {args.concurrency} "
        f"--light {args.light:g} --saturate {args.saturate:g} --saturate-threads {args.saturate_threads} "
        f"--step {args.step:g} --runs {args.runs}" + (f" --rates {args.rates}" if args.rates else ""),
        "```",
        "",
        f"Setup: {common.process_lines(args.workers, args.concurrency)} on `bench.settings` "
        f"(PostgreSQL `{common.DB_NAME}`, Redis `{common.REDIS_URL}`, `CELERY_DB_REUSE_MAX=1000`, acks_late, "
        "prefetch 1); no beat. Load: Python clients in the benchmark process POSTing the test suite's "
        "`epoc_body()` (three targets). Latency = client send time → `status_changed_at` of the deciding "
        "transition, read from the database afterwards (no polling during the measurement). Everything, load "
        "generator included, shares the 2 cores. \"others' CPU\" = share of the machine used by processes "
        "outside the benchmark (other engineers' test runs) during the window.",
        "",
        f"Each of the {len(runs)} runs, on the same servers: (1) **light load**, open loop, one request every "
        f"{LIGHT_INTERVAL * 1000:.0f} ms for {args.light:g} s, then floor 2 (`POST {FLOOR_PATH}`, DRF create + "
        f"audit, bench/floor_views.py) at the same rate; (2) **saturation**: {args.saturate_threads} closed-loop "
        f"clients for {args.saturate:g} s (the web tier as fast as it goes, the worker behind it, so the "
        "decision latency includes the backlog built during the window), then floor 2 the same way; "
        f"(3) **sustained**: open-loop steps of {args.step:g} s at 0.9, 0.65, 0.4 × the rate decided under "
        "saturation in that run, until one passes, then, while the time budget lasts, +15 % steps until one "
        "fails (when 0.9× passed) and the gap between the highest pass and the lowest fail halved to within 5 % "
        "(a step passes when every POST is answered 201, send lag p99 < 250 ms, the backlog does not grow by "
        "more than max(10, 10% of a second's arrivals) between seconds 5–10 and the last 5 s, and it drains "
        "within 10 s); the run's sustained rate is its highest passing step.",
        "",
        f"Figures: median (min–max) over the {len(runs)} runs; ratios are taken within each run.",
        "",
        common.figures_table(figures(runs)),
        "",
    ]
    if runs:
        d = runs[-1].light.decisions
        lines += [
            f"Where the light-load latency goes (last run, {d['decided']} of {d['n']} decided):",
            "",
            common.table(
                ["measure", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"],
                [[name, len(values), fmt(values, 50), fmt(values, 90), fmt(values, 99),
                  f"{max(values):.1f}" if values else "-"]
                 for name, values in (
                     ("**submit → stored decision**", d["total"]),
                     ("HTTP response time of the POST", d["http"]),
                     ("send → `received_at` (HTTP, auth, parsing)", d["to_received"]),
                     ("`received_at` → decision stored (commit, publish, dispatch, the validation task)",
                      d["to_decided"]),
                     ("of which, a claim in its own transaction: `received_at` → claimed", d["to_claim"]),
                     ("of which, a claim in its own transaction: claimed → decision stored", d["claim_to_decided"]),
                 )]),
            "",
            "A first delivery claims and decides in one transaction, and an audit event's time is when it was "
            "stored, so its claim has no time of its own: the last two rows count only the requests whose claim "
            "was a transaction of its own (a redelivery or retry).",
            "",
        ]
        rows = []
        for n, r in enumerate(runs, 1):
            for s in r.steps:
                dd = s.decisions
                backlog = [b for _, b, _ in s.backlog]
                rows.append([n, f"{s.rate:g}", f"{accepted_rate(s.sent):.0f}", fmt(dd["http"], 99),
                             fmt(dd["total"], 50), fmt(dd["total"], 99),
                             f"{backlog[-1] if backlog else 0} / {max(backlog, default=0)}", f"{dd['growth']:+.0f}",
                             f"{s.drain_seconds:.1f}", f"{dd['lag99_ms']:.0f}", cpu_split(s),
                             f"{common.other_share(s.cpu) * 100:.0f}%", "PASS" if s.passed else f"FAIL: {s.why}"])
        lines += [
            "Sustained steps of every run:",
            "",
            common.table(["run", "offered /s", "accepted /s", "HTTP p99 ms", "decision p50 ms", "decision p99 ms",
                          "backlog end / max", "growth", "drain s", "send lag p99 ms",
                          "CPU ms/req gunicorn / celery / postgres / redis / client", "others' CPU", "verdict"],
                         rows),
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
