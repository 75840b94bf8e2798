"""Submit-to-decision latency and the sustained rate of web + worker on the same 2 cores.

    .venv/bin/python bench/pipeline.py [--workers 2] [--rates 150,200,250,300,350] [--step 30] [--no-write]

Starts gunicorn (sync workers) and the Procfile's Celery worker (``-c 2``) on bench.settings
(PostgreSQL ``lrp_bench``, Redis DB 14), then drives ``POST /api/v1/requests/`` (the test
suite's EPOC, three targets) with an open-loop client in this process: each request is sent
at its scheduled time whatever happened to the earlier ones.

1. Light load: one request every 50 ms for 20 s. Latency is from the moment the client sends
   the POST to the stored decision: ``status_changed_at`` of the final transition (written in
   the deciding transaction, just before its commit), read from the database afterwards, so
   polling does not disturb the measurement. Same clock: everything runs on this machine.
2. Sustained: offered rates in increasing steps of 30 s each. A step passes when every POST
   succeeds, the client keeps to its schedule (send lag p99 under 250 ms), and the backlog
   (this run's requests still ``received``/``validating``, sampled every second) does not
   grow: its mean over the last 5 s exceeds the mean over seconds 5-10 by at most
   max(10, 10% of one second's arrivals), and it drains within 10 s after the step. The
   highest passing rate is the sustained rate.

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

    def __init__(self, token: str, body: bytes) -> None:
        self.conn = http.client.HTTPConnection(common.HOST, common.PORT, timeout=15)
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        self.body = body

    def post(self) -> tuple[int, str]:
        try:
            self.conn.request("POST", "/api/v1/requests/", body=self.body, headers=self.headers)
            response = self.conn.getresponse()
            response.read()
            location = response.getheader("Location") or ""
            return response.status, location.rstrip("/").rsplit("/", 1)[-1]
        except (OSError, http.client.HTTPException):
            self.conn.close()
            return -1, ""


def open_loop(rate: float, seconds: float, token: str, body: bytes, threads: int = 32) -> list[Sent]:
    """Send ``rate * seconds`` POSTs at their scheduled times from ``threads`` threads; sending
    stops 5 s after the schedule ends, so an overloaded server cannot stretch a step."""
    total = int(rate * seconds)
    counter = itertools.count()
    start = time.monotonic() + 0.1
    out: list[Sent] = []

    def run() -> None:
        client = Client(token, body)
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
    total, to_received, to_claim, claim_to_decided, http_ms = [], [], [], [], []
    statuses: dict[str, int] = {}
    for pk, reference, status, received_at, changed_at in rows:
        statuses[status] = statuses.get(status, 0) + 1
        s = ok[reference]
        http_ms.append((s.done_at - s.sent_at) * 1000)
        if status in PENDING:
            continue
        decided = changed_at.timestamp()
        total.append((decided - s.sent_at) * 1000)
        to_received.append((received_at.timestamp() - s.sent_at) * 1000)
        if pk in claims:
            claimed = claims[pk].timestamp()
            to_claim.append((claimed - received_at.timestamp()) * 1000)
            claim_to_decided.append((decided - claimed) * 1000)
    return {"n": len(rows), "decided": len(total), "statuses": statuses, "total": total, "http": http_ms,
            "to_received": to_received, "to_claim": to_claim, "claim_to_decided": claim_to_decided}


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



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2, as the Procfile)")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery prefork children (default 2)")
    parser.add_argument("--light", type=float, default=20.0, help="seconds of light load (default 20)")
    parser.add_argument("--rates", default="150,200,250,300,350", help="offered rates for the sustained steps")
    parser.add_argument("--step", type=float, default=30.0, help="seconds per sustained step (default 30)")
    parser.add_argument("--budget", type=float, default=270.0, help="stop stepping after this many seconds")
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    args = parser.parse_args()
    rates = [float(x) for x in args.rates.split(",")]

    started = time.monotonic()
    common.setup()
    common.ensure_database()
    token = common.seed_token()
    body = common.epoc_body_json().encode()
    common.close_db()

    light: Step | None = None
    steps: list[Step] = []
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
        wait_drained(since, 30.0)

        run_since = since
        common.wait_quiet(groups)
        light = run_step(LIGHT_RATE, args.light, token, body, groups)
        report_step("light", light)

        for rate in rates:
            if time.monotonic() - started > args.budget - args.step - 15:
                print(f"time budget reached: not trying {rate:g}/s")
                break
            wait_drained(run_since, 30.0)  # each step starts with an empty backlog
            common.wait_quiet(groups)
            step = run_step(rate, args.step, token, body, groups)
            steps.append(step)
            report_step(f"{rate:g}/s", step)
            if not step.passed:
                break
        if steps and not any(s.passed for s in steps):
            for rate in (100.0, 50.0):
                if time.monotonic() - started > args.budget - args.step - 15:
                    break
                wait_drained(run_since, 30.0)
                step = run_step(rate, args.step, token, body, groups)
                steps.append(step)
                report_step(f"{rate:g}/s", step)
                if step.passed:
                    break
        worker_log = worker.tail(5)
    finally:
        common.stop_all()
        try:
            import redis

            redis.Redis.from_url(common.REDIS_URL).flushdb()
        except Exception as exc:  # cleanup only
            print(f"(could not empty Redis DB 14: {exc})")

    report = build_report(light, steps, args, time.monotonic() - started)
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


def cpu_split(step: Step) -> str:
    n = max(1, len(step.sent))
    keys = ("gunicorn", "celery", "postgres", "redis", "bench client")
    return " / ".join(f"{step.cpu.get(k, 0.0) * 1000 / n:.1f}" for k in keys)


def build_report(light: Step | None, steps: list[Step], args: argparse.Namespace, elapsed: float) -> str:
    busiest = max([common.other_share(s.cpu) for s in ([light] if light else []) + steps], default=0.0)
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
        f"--light {args.light:g} --rates {args.rates} --step {args.step:g}",
        "```",
        "",
        f"Setup: gunicorn `-k sync -w {args.workers}` + `celery -A portal worker --concurrency {args.concurrency} "
        "--loglevel INFO --without-gossip --without-mingle` (the Procfile's lines) on `bench.settings` "
        "(PostgreSQL `lrp_bench`, Redis DB 14, `CELERY_DB_REUSE_MAX=1000`, acks_late, prefetch 1); no beat. "
        "Load: an open-loop Python client in the benchmark process (32 threads, each request sent at its "
        "scheduled time) POSTing the test suite's `epoc_body()` (three targets). Latency = client send time → "
        "`status_changed_at` of the deciding transition, read from the database afterwards (no polling during "
        "the measurement); breakdown from `received_at` and the audit event of the move to `validating`. "
        "Everything, load generator included, shares the 2 cores. \"others' CPU\" = share of the machine used "
        "by processes outside the benchmark (other engineers' test runs) during the window.",
        "",
    ]
    if light is not None:
        d = light.decisions
        lines += [
            f"### Light load: one request every {LIGHT_INTERVAL * 1000:.0f} ms for {args.light:g} s",
            "",
            common.table(
                ["measure", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"],
                [[name, len(values), fmt(values, 50), fmt(values, 90), fmt(values, 99),
                  f"{max(values):.1f}" if values else "-"]
                 for name, values in (
                     ("**submit → stored decision**", d["total"]),
                     ("HTTP response time of the POST", d["http"]),
                     ("send → `received_at` (HTTP, auth, parsing)", d["to_received"]),
                     ("`received_at` → claimed by the worker (commit, publish, dispatch)", d["to_claim"]),
                     ("claimed → decision stored (the validation task)", d["claim_to_decided"]),
                 )]),
            "",
            f"Requests: {d['n']} stored, {d['decided']} decided, final states {d['statuses']}; "
            f"others' CPU {common.other_share(light.cpu) * 100:.0f}%. CPU ms per request "
            f"(gunicorn / celery / postgres / redis / client): {cpu_split(light)}; all own processes "
            f"{common.own_cpu_ms(light.cpu, len(light.sent)):.1f} ms per request, i.e. a capacity of "
            f"{common.capacity(common.own_cpu_ms(light.cpu, len(light.sent))):.0f} requests/s if the 2 cores "
            "were ours alone.",
            "",
        ]
    if steps:
        rows = []
        for s in steps:
            d = s.decisions
            elapsed_s = max(1e-9, max((x.done_at for x in s.sent), default=0) - min((x.sent_at for x in s.sent),
                                                                                      default=0))
            backlog = [n for _, n, _ in s.backlog]
            rows.append([f"{s.rate:g}", f"{sum(x.status == 201 for x in s.sent) / elapsed_s:.0f}",
                         fmt(d["http"], 50), fmt(d["http"], 99), fmt(d["total"], 50), fmt(d["total"], 99),
                         f"{backlog[-1] if backlog else 0} / {max(backlog, default=0)}", f"{d['growth']:+.0f}",
                         f"{s.drain_seconds:.1f}", f"{d['lag99_ms']:.0f}", cpu_split(s),
                         f"{common.own_cpu_ms(s.cpu, len(s.sent)):.1f} → "
                         f"{common.capacity(common.own_cpu_ms(s.cpu, len(s.sent))):.0f}/s",
                         f"{common.other_share(s.cpu) * 100:.0f}%", "PASS" if s.passed else f"FAIL: {s.why}"])
        lines += [
            f"### Sustained: open-loop steps of {args.step:g} s",
            "",
            common.table(["offered /s", "accepted /s", "HTTP p50 ms", "HTTP p99 ms", "decision p50 ms",
                          "decision p99 ms", "backlog end / max", "growth", "drain s", "send lag p99 ms",
                          "CPU ms/req gunicorn / celery / postgres / redis / client",
                          "own CPU ms/req → capacity if alone", "others' CPU", "verdict"],
                         rows),
            "",
        ]
    sustained = max((s.rate for s in steps if s.passed), default=0.0)
    failed_at = next((s.rate for s in steps if not s.passed and s.rate > sustained), None)
    lines.append("Against the aims:")
    lines.append("")
    if light is not None:
        p99 = common.percentile(light.decisions["total"], 99)
        lines.append(f"- submit → decision p99 at light load: **{p99:.1f} ms** (aim < {AIM_LIGHT_P99_MS:.0f} ms): "
                     f"{'met' if p99 < AIM_LIGHT_P99_MS else 'MISSED'}")
    bound = f" (the next step, {failed_at:g}/s, failed)" if failed_at else " (the highest step tried)"
    lines.append(f"- sustained rate with no growing backlog: **{sustained:g} requests/s**{bound if sustained else ''} "
                 f"(aim ≥ {AIM_SUSTAINED:g}/s): {'met' if sustained >= AIM_SUSTAINED else 'MISSED'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
