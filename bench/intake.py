"""Intake throughput against its two floors, in one run and under the same load.

    .venv/bin/python bench/intake.py [--workers 2,4] [--conc 8,32] [--warmup 4] [--duration 12] [--runs 3]
                                     [--json FILE] [--no-write]

gunicorn (sync workers, production-like bench.settings on PostgreSQL ``lrp_bench`` and Redis
DB 14) serves three endpoints; wrk on the same 2 cores drives each, closed loop:

* floor 1 ``GET /bench/ping/``: a trivial JSON view through the full middleware stack;
* floor 2 ``POST /bench/create/``: DRF + bearer token + throttle, one INSERT and one audit
  event in one transaction (bench/floor_views.py);
* intake ``POST /api/v1/requests/``: the real endpoint with the test suite's EPOC (three
  targets); it writes the request, targets, outbox row and audit event and publishes the
  validation task to Redis after commit (no worker runs here: bench/pipeline.py does that).

Each run measures the three endpoints one after the other at every concurrency, so each figure
has its floors from the same run; ``--runs`` repeats it and every figure is reported as median
(min–max) over the runs. Prints requests/s, p50/p99, errors and CPU per request for each, the
ratios, and checks the aims (intake >= 45% of floor 2, p99 < 50 ms at concurrency 8, no errors). Writes the
"intake" section of bench/RESULTS.md. Every process it starts is killed on exit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

AIM_RATIO = 0.45
AIM_P99_MS = 50.0
ENDPOINTS = ("floor1", "floor2", "intake")
LABELS = {
    "floor1": "floor 1: GET /bench/ping/ (trivial JSON view)",
    "floor2": "floor 2: POST /bench/create/ (DRF, 1 row + audit)",
    "intake": "intake: POST /api/v1/requests/ (3 targets)",
}


def count_rows() -> dict[str, int]:
    import psycopg

    with psycopg.connect(common.PG_BENCH_DSN) as conn:
        out = {}
        for name, table in (("floor2", "requests_app_outboxmessage"), ("intake", "requests_app_legalrequest")):
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            out[name] = int(row[0]) if row else 0
        return out


def check_once(url: str, method: str, body: str | None, token: str | None, expected: int) -> None:
    """One request before loading, so a broken endpoint fails loudly instead of timing 4xx."""
    request = urllib.request.Request(url, method=method, data=body.encode() if body else None)
    if body:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{method} {url} answered {exc.code}: {exc.read()[:500]!r}") from exc
    if status != expected:
        raise SystemExit(f"{method} {url} answered {status}, expected {expected}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="2,4", help="gunicorn sync worker counts to try (default 2,4)")
    parser.add_argument("--conc", default="8,32", help="wrk connections (default 8,32)")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds of discarded load before each run")
    parser.add_argument("--duration", type=float, default=12.0, help="measured seconds per endpoint and concurrency")
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    common.add_run_args(parser)
    args = parser.parse_args()
    worker_counts = [int(x) for x in args.workers.split(",")]
    concurrencies = [int(x) for x in args.conc.split(",")]

    started = time.monotonic()
    common.setup()
    common.ensure_wrk()
    common.ensure_database()
    token = common.seed_token()
    body = common.epoc_body_json()
    common.close_db()

    scripts = {
        "floor1": None,
        "floor2": common.lua_script(method="POST", body='{"topic": "bench.floor", "payload": {"n": 1}}',
                                    token=token),
        "intake": common.lua_script(method="POST", body=body, token=token),
    }
    paths = {"floor1": "/bench/ping/", "floor2": "/bench/create/", "intake": "/api/v1/requests/"}
    results: dict[tuple[int, str, int], list[common.WrkResult]] = {}
    stored: dict[tuple[int, str, int], list[int]] = {}
    try:
        for workers in worker_counts:
            web = common.start_gunicorn(workers)
            try:
                check_once(common.BASE_URL + paths["floor1"], "GET", None, None, 200)
                check_once(common.BASE_URL + paths["floor2"], "POST", '{"topic": "bench.check"}', token, 201)
                check_once(common.BASE_URL + paths["intake"], "POST", body, token, 201)
                groups = {"gunicorn": web.pgid}
                for run in range(args.runs):
                    for endpoint in ENDPOINTS:
                        url = common.BASE_URL + paths[endpoint]
                        for conc in concurrencies:
                            common.wait_quiet(groups)
                            common.run_wrk(url, connections=conc, seconds=args.warmup, script=scripts[endpoint])
                            before = count_rows()
                            result = common.run_wrk(url, connections=conc, seconds=args.duration,
                                                    script=scripts[endpoint], groups=groups)
                            after = count_rows()
                            results.setdefault((workers, endpoint, conc), []).append(result)
                            if endpoint in after:
                                stored.setdefault((workers, endpoint, conc), []).append(
                                    after[endpoint] - before[endpoint])
                            print(f"run {run + 1} sync{workers} {endpoint:7s} c{conc:<3d} {result.rps:9.1f} req/s  "
                                  f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  "
                                  f"errors {result.errors}  "
                                  f"other users' CPU {common.other_share(result.cpu) * 100:.0f}%", flush=True)
            finally:
                web.stop()
    finally:
        for script in scripts.values():
            if script is not None:
                script.unlink(missing_ok=True)
        try:
            import redis

            redis.Redis.from_url(common.REDIS_URL).flushdb()  # the validation tasks nobody consumed
        except Exception as exc:  # cleanup only
            print(f"(could not empty Redis DB 14: {exc})")

    report = build_report(results, stored, worker_counts, concurrencies, args, time.monotonic() - started)
    common.dump_figures(args.json, "intake", figures(results, worker_counts, concurrencies))
    print()
    print(report)
    if not args.no_write:
        common.write_section("intake", report)
        print(f"\nwrote the intake section of {common.RESULTS.relative_to(common.ROOT)}")
    return 0


def cpu_ms(runs: list[common.WrkResult], key: str) -> str:
    return common.spread([r.cpu.get(key, 0.0) * 1000 / r.requests if r.requests else float("nan") for r in runs],
                         "{:.2f}")


def own(r: common.WrkResult) -> float:
    return common.own_cpu_ms(r.cpu, r.requests)


def best_server(results: dict[tuple[int, str, int], list[common.WrkResult]], worker_counts: list[int],
                concurrencies: list[int]) -> int:
    return max(worker_counts, key=lambda w: sum(common.median(r.rps for r in results[(w, "intake", c)])
                                                for c in concurrencies))


def figures(results: dict[tuple[int, str, int], list[common.WrkResult]], worker_counts: list[int],
            concurrencies: list[int]) -> list[common.Figure]:
    """The intake figures of `make bench`, each against its floor in the same runs (best server)."""
    w = best_server(results, worker_counts, concurrencies)
    out = []
    for conc in concurrencies:
        f1, f2, it = (results[(w, e, conc)] for e in ENDPOINTS)
        out.append(common.Figure(f"intake rate, sync{w} c{conc}, req/s", [r.rps for r in it],
                                 "floor 2 (DRF create + audit), req/s", [r.rps for r in f2],
                                 aim=f"≥ {AIM_RATIO:.2f} × floor 2",
                                 met=common.median(a.rps / b.rps for a, b in zip(it, f2, strict=True) if b.rps)
                                 >= AIM_RATIO, fmt="{:.0f}"))
        out.append(common.Figure(f"intake p99, sync{w} c{conc}, ms", [r.p99_ms for r in it],
                                 "floor 2 p99, ms", [r.p99_ms for r in f2],
                                 aim=f"< {AIM_P99_MS:.0f} ms" if conc == 8 else "",
                                 met=(common.median(r.p99_ms for r in it) < AIM_P99_MS) if conc == 8 else None))
        out.append(common.Figure(f"floor 2 rate, sync{w} c{conc}, req/s", [r.rps for r in f2],
                                 "floor 1 (trivial JSON view), req/s", [r.rps for r in f1], fmt="{:.0f}"))
        out.append(common.Figure(f"intake own CPU per request, sync{w} c{conc}, ms", [own(r) for r in it],
                                 "floor 2 own CPU per request, ms", [own(r) for r in f2], fmt="{:.2f}"))
    errors = [sum(runs[i].errors for runs in results.values()) for i in range(len(next(iter(results.values()))))]
    out.append(common.Figure("intake + floors: errors (non-2xx, socket)", [float(e) for e in errors], aim="0",
                             met=max(errors) == 0, fmt="{:.0f}"))
    return out


def build_report(results: dict[tuple[int, str, int], list[common.WrkResult]],
                 stored: dict[tuple[int, str, int], list[int]],
                 worker_counts: list[int], concurrencies: list[int], args: argparse.Namespace,
                 elapsed: float) -> str:
    rows = []
    for workers in worker_counts:
        for endpoint in ENDPOINTS:
            for conc in concurrencies:
                runs = results[(workers, endpoint, conc)]
                util = common.median(r.cpu["machine"] / (r.cpu["machine total"] or 1) * 100 for r in runs)
                cost = [own(r) for r in runs]
                rows.append([f"sync{workers}", LABELS[endpoint], conc, common.spread([r.rps for r in runs], "{:,.0f}"),
                             common.spread([r.p50_ms for r in runs], "{:.2f}"),
                             common.spread([r.p99_ms for r in runs], "{:.2f}"),
                             common.spread([r.max_ms for r in runs]), sum(r.errors for r in runs),
                             common.spread(stored[(workers, endpoint, conc)], "{:.0f}")
                             if (workers, endpoint, conc) in stored else "-",
                             common.spread(cost, "{:.2f}"),
                             common.spread([common.capacity(c) for c in cost], "{:,.0f}"),
                             cpu_ms(runs, "gunicorn"), cpu_ms(runs, "postgres"), f"{util:.0f}%",
                             common.spread([common.other_share(r.cpu) * 100 for r in runs], "{:.0f}%")])
    main_table = common.table(
        ["server", "endpoint", "conc", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "rows stored",
         "own CPU ms/req", "capacity if alone /s", "gunicorn ms/req", "postgres ms/req", "CPU busy", "others' CPU"],
        rows)

    def per_run(a: list[common.WrkResult], b: list[common.WrkResult], value: Any, fmt: str) -> str:
        return common.spread([value(x, y) for x, y in zip(a, b, strict=True)], fmt)

    ratio_rows = []
    verdicts: list[str] = []
    best_workers = best_server(results, worker_counts, concurrencies)
    for workers in worker_counts:
        for conc in concurrencies:
            f1, f2, it = (results[(workers, e, conc)] for e in ENDPOINTS)
            ratio_rows.append([
                f"sync{workers}", conc,
                per_run(f2, f1, lambda x, y: x.rps / y.rps if y.rps else float("nan"), "{:.3f}"),
                per_run(it, f1, lambda x, y: x.rps / y.rps if y.rps else float("nan"), "{:.3f}"),
                per_run(it, f2, lambda x, y: x.rps / y.rps if y.rps else float("nan"), "{:.2f}"),
                per_run(f2, it, lambda x, y: own(x) / own(y), "{:.2f}"),
                per_run(f1, it, lambda x, y: own(x) / own(y), "{:.3f}")])
    ratio_table = common.table(["server", "conc", "floor 2 / floor 1", "intake / floor 1", "intake / floor 2",
                                "intake / floor 2 by own CPU", "intake / floor 1 by own CPU"], ratio_rows)
    for conc in concurrencies:
        f2, it = results[(best_workers, "floor2", conc)], results[(best_workers, "intake", conc)]
        ratio = common.median(a.rps / b.rps for a, b in zip(it, f2, strict=True) if b.rps)
        by_cpu = common.median(own(b) / own(a) for a, b in zip(it, f2, strict=True))
        verdicts.append(f"- intake / floor 2 at c{conc} (sync{best_workers}): **{ratio:.2f}** by throughput, "
                        f"**{by_cpu:.2f}** by own CPU per request (aim ≥ {AIM_RATIO:.2f}; medians over "
                        f"{len(it)} runs): {'met' if min(ratio, by_cpu) >= AIM_RATIO else 'MISSED'}")
    c8 = 8 if 8 in concurrencies else concurrencies[0]
    p99 = common.median(r.p99_ms for r in results[(best_workers, "intake", c8)])
    f2_p99 = common.median(r.p99_ms for r in results[(best_workers, "floor2", c8)])
    verdicts.append(f"- intake p99 at c{c8} (sync{best_workers}): **{p99:.1f} ms** (aim < {AIM_P99_MS:.0f} ms; "
                    f"floor 2's p99 in the same runs {f2_p99:.1f} ms): {'met' if p99 < AIM_P99_MS else 'MISSED'}")
    errors = sum(r.errors for runs in results.values() for r in runs)
    verdicts.append(f"- errors over all runs: **{errors}** (aim 0): {'met' if errors == 0 else 'MISSED'}")

    command = (f".venv/bin/python bench/intake.py --workers {args.workers} --conc {args.conc} "
               f"--warmup {args.warmup:g} --duration {args.duration:g} --runs {args.runs}")
    busiest = max(common.other_share(r.cpu) for runs in results.values() for r in runs)
    warning = (f"**Warning: other users' processes took up to {busiest * 100:.0f}% of the cores during this run; "
               "the throughput and latency figures are far below what the machine does alone and are not "
               "comparable with the reference. Rerun on a quiet machine.**" if busiest > 0.2 else "")
    return "\n".join([
        "## Intake: real intake against its floors (`bench/intake.py`)",
        "",
        *([warning, ""] if warning else []),
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {common.machine_summary()}; {common.versions()}. "
        f"Script wall time {elapsed:.0f} s. Code measured: {common.tree_state()}.",
        "",
        "```",
        command,
        "```",
        "",
        f"Setup: `bench.settings` (production mode, DEBUG off, PostgreSQL `{common.DB_NAME}`, Redis "
        f"`{common.REDIS_URL}` for cache and broker, throttles in the path but set to 1,000,000/s). "
        f"Processes: {common.process_lines(2).replace('--workers 2', '--workers N')}. Load: "
        f"`wrk -t2 -cC -d{args.duration:g}s --latency --timeout 5s` on the same 2 cores, closed loop, after "
        f"{args.warmup:g} s of discarded warm-up per endpoint and concurrency. Floor 2 is bench/floor_views.py. "
        "Intake POSTs the test suite's `epoc_body()` (three targets); no Celery worker runs, so the validation "
        "tasks are published to Redis and left there. \"rows stored\" counts rows written during the measured "
        "window, a check that the responses were real. CPU per request comes from /proc over the measured "
        "window (machine = all processes, wrk included). The machine is shared with other engineers' test runs: "
        "\"others' CPU\" is the share of the 2 cores used by processes outside the benchmark during the window "
        "(the script waits up to 15 s for it to fall under 10% before each run); rows with a high share understate "
        "throughput. \"own CPU\" is the machine's CPU time per request minus other users' share (so it includes "
        "wrk, PostgreSQL and Redis); \"capacity if alone\" = 2 cores / own CPU, what the endpoint would reach "
        "with the machine to itself. Contention still inflates CPU times somewhat (shared caches), so compare "
        "ratios, not absolute figures, with the reference.",
        "",
        f"Each cell: median (min–max) over {args.runs} runs; a run measures floor 1, floor 2 and intake one "
        "after the other, so the ratios are taken within each run and then summarised.",
        "",
        main_table,
        "",
        "Ratios (same server and concurrency, same run; median (min–max) of the per-run ratios):",
        "",
        ratio_table,
        "",
        f"Against the aims (best server = sync{best_workers}, the highest intake rate):",
        "",
        *verdicts,
    ])


if __name__ == "__main__":
    sys.exit(main())
