"""CPU of one submission end to end, in process: the API POST (web side) and the validation task
body (worker side), under cProfile, with the SQL queries of each counted.

    .venv/bin/python bench/profile_submission.py [--n 200] [--top 25] [--no-profile]

bench.settings on ``$BENCH_DB`` (default lrp_bench; Redis ``$BENCH_REDIS_URL``, plus ``CACHE_URL`` and
``CELERY_BROKER_URL`` to keep off DB 14); the POSTs go through Django's test Client (middleware,
DRF, the service, the validation drain's ring and publish to Redis); then the validation task
body runs for each stored request as a drain takes it (``validate_next_pending``), then the
separate receipt task (``send_notifications``) for any receipt the validation task left to one.
First pass without a profiler: CPU of this process per operation (``time.process_time``) and of
its PostgreSQL backend (``/proc``), and the SQL queries of each; second pass under cProfile: own
time by area and the top functions, for bench/RESULTS.md. Celery's own per-task overhead in a
worker (receive, ack) is not included.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != str(Path(__file__).resolve().parent)]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BENCH_DB", "lrp_bench")
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{os.environ['BENCH_DB']}"

from bench import common  # noqa: E402


def top(profile: cProfile.Profile, key: str, n: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats(key).print_stats(n)
    return out.getvalue()


def buckets(profile: cProfile.Profile, n_ops: int) -> list[tuple[str, float]]:
    """Own time per area of code, ms per operation, largest first."""
    stats = pstats.Stats(profile)
    areas: dict[str, float] = {}
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        path = filename.replace(os.sep, "/")
        if "/psycopg/" in path or "_socket" in name or name == "select":
            area = "psycopg + socket (waiting on PostgreSQL round trips)"
        elif "site-packages/django/db/models/sql" in path:
            area = "Django ORM: SQL compilation"
        elif "site-packages/django/db" in path:
            area = "Django ORM: models, querysets, backend"
        elif "site-packages/django/" in path:
            area = "Django: request handling, middleware, other"
        elif "site-packages/rest_framework" in path:
            area = "DRF: parsing, serializers, rendering"
        elif "site-packages/kombu" in path or "site-packages/celery" in path or "site-packages/redis" in path:
            area = "Celery/kombu/redis: publishing the task"
        elif "/requests_app/rules/" in path:
            area = "project: rules engine"
        elif "/requests_app/" in path or "/accounts/" in path or "/portal/" in path:
            area = "project code (requests_app, accounts, portal)"
        elif path.startswith("~") or "<" in path:
            area = "builtins (json, hashlib, copy, ...)"
        else:
            area = "other libraries (" + path.rsplit("site-packages/", 1)[-1].split("/", 1)[0] + ")" \
                if "site-packages/" in path else "Python standard library"
        areas[area] = areas.get(area, 0.0) + tottime * 1000 / n_ops
    return sorted(areas.items(), key=lambda kv: -kv[1])


def _backend_cpu(pid: int) -> float:
    """utime + stime of one PostgreSQL backend, in ms (the server is on this machine)."""
    stat = common._proc_stat(pid)
    return stat[2] * 1000 if stat else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true", help="only the un-profiled CPU and query figures")
    parser.add_argument("--callgrind", action="store_true",
                        help="under `valgrind --tool=callgrind --instr-atstart=no`: count the instructions of "
                             "each phase (repeatable on a shared machine, unlike CPU times); implies --no-profile")
    parser.add_argument("--receipt-apart", action="store_true",
                        help="leave the receipt to a separate send_notifications task (counted as 'notify'), as "
                             "the sweeper or a broker delivery runs it: the cost of the notification stage alone")
    parser.add_argument("--wal", action="store_true",
                        help="also what PostgreSQL wrote per submission, read back from the WAL (bench/wal_writes.py: "
                             "bytes, row versions per table, index entries per index, commits; pg_walinspect is "
                             "created in the bench database) and the backend's CPU from /proc/PID/schedstat; "
                             "implies --no-profile")
    parser.add_argument("--dump", metavar="DIR", help="also save the cProfile stats (web.prof, worker.prof) in DIR, "
                                                      "to read with pstats (print_callees)")
    parser.add_argument("--write", action="store_true", help="write the 'profile' section of bench/RESULTS.md")
    args = parser.parse_args()
    args.no_profile = args.no_profile or args.wal
    common.setup()
    common.ensure_database()
    import contextlib

    from django.conf import settings
    from django.core import mail
    from django.db import connection
    from django.test import Client

    # The receipt e-mails are rendered and handed to a backend that keeps them in memory.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []

    @contextlib.contextmanager
    def capture():
        seen: list[str] = []

        def wrapper(execute, sql, params, many, context):
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(wrapper):
            yield seen

    from outbox.models import OutboxMessage
    from requests_app import tasks
    from requests_app.models import LegalRequest

    # Every submission rings a bell of its own, so each publishes its drain: the light-load shape,
    # where no drain is on its way (under load most submissions find the bell rung and publish
    # nothing; bench/pipeline.py measures that).
    settings.VALIDATION_DRAINERS = 10**9
    token = common.seed_token()
    body = common.epoc_body_json()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")

    def post() -> str:
        response = client.post("/api/v1/requests/", data=body, content_type="application/json")
        assert response.status_code == 201, response.content[:300]
        return response.json()["reference"]

    def validate(pk: int) -> None:
        # The Celery task's body, as the worker runs it (its after-commit publishes included).
        if args.receipt_apart:
            from requests_app.services.validation import request_validate

            with no_broker():
                request_validate(request_id=pk)
        else:
            # As a drain takes it (requests_app/validation_queue.py): the queue's next, which is
            # this request (they are taken in order of arrival), its receipt sent by this task.
            from requests_app.services.validation import validate_next_pending

            with tasks.notifications_sent_here():
                assert validate_next_pending() == pk

    @contextlib.contextmanager
    def no_broker():  # type: ignore[no-untyped-def]
        """The receipt's task is not sent (``--receipt-apart`` runs it here, as 'notify')."""
        original = tasks.send_notifications.apply_async
        tasks.send_notifications.apply_async = lambda *a, **k: None  # type: ignore[method-assign]
        try:
            yield
        finally:
            tasks.send_notifications.apply_async = original  # type: ignore[method-assign]

    def notify_ids(pks: list[int]) -> list[int]:
        """Receipts still to send by a separate notification task (none when the validation
        task sent them itself)."""
        return list(OutboxMessage.objects.filter(request_id__in=pks, topic="notify.new_request",
                                                 notifications__isnull=True).values_list("pk", flat=True))

    def notify(outbox_id: int) -> None:
        tasks.send_notifications.run(outbox_id)

    from requests_app.services.validation import validate_next_pending

    with no_broker():  # requests an earlier run left waiting would be taken first
        while validate_next_pending() is not None:
            pass
    for _ in range(5):  # warm-up
        pk = LegalRequest.objects.get(reference=post()).pk
        validate(pk)
        for oid in notify_ids([pk]):
            notify(oid)
    with capture() as web_q:
        reference = post()
    pk = LegalRequest.objects.get(reference=reference).pk
    with capture() as task_q:
        validate(pk)
    pending = notify_ids([pk])
    with capture() as notify_q:
        for oid in pending:
            notify(oid)

    backend = connection.cursor().connection.info.backend_pid

    instructions: dict[str, int] = {}

    from bench import wal_writes

    wal: dict[str, wal_writes.WalWrites] = {}
    wal_marks: dict[str, tuple[str, int]] = {}

    def backend_ns() -> int:
        """Time the backend ran on a CPU (ns), finer than the 10 ms ticks of /proc/PID/stat."""
        return int(Path(f"/proc/{backend}/schedstat").read_text().split()[0])

    def wal_mark(phase: str, start: bool = False) -> None:
        """Start the phase ``phase``, or read what it wrote."""
        if not args.wal:
            return
        with connection.cursor() as cursor:
            if start:
                wal_marks[phase] = (wal_writes.current_lsn(cursor), backend_ns())
                return
            cursor.execute("SELECT pg_current_wal_flush_lsn()")
            end, ns = str(cursor.fetchone()[0]), backend_ns()
            first, ns0 = wal_marks[phase]
            wal[phase] = wal_writes.read(cursor, first, end)
            wal_marks[phase] = (first, ns - ns0)

    # --wal: the backend's CPU per statement (and per commit), summed per phase and label.
    statement_ns: dict[str, dict[str, list[int]]] = {}
    current_phase: list[str] = [""]

    def timed(label: str, call):  # type: ignore[no-untyped-def]
        before = backend_ns()
        try:
            return call()
        finally:
            bucket = statement_ns.setdefault(current_phase[0], {}).setdefault(label, [0, 0])
            bucket[0] += backend_ns() - before
            bucket[1] += 1

    def statement_timer(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if not current_phase[0]:
            return execute(sql, params, many, context)
        return timed(" ".join(sql.split())[:90], lambda: execute(sql, params, many, context))

    if args.wal:
        with connection.cursor() as cursor:
            wal_writes.ensure_extension(cursor)
        connection.execute_wrappers.append(statement_timer)
        plain_commit = connection._commit  # type: ignore[attr-defined]

        def timed_commit():  # type: ignore[no-untyped-def]
            if not current_phase[0]:
                return plain_commit()
            return timed("COMMIT", plain_commit)

        connection._commit = timed_commit  # type: ignore[attr-defined]

    def callgrind(phase: str | None) -> None:
        """Start counting (None), or dump what was counted since, as ``phase``."""
        import subprocess

        if not args.callgrind:
            return
        command = ["callgrind_control", "-i", "on"] if phase is None else ["callgrind_control", "-d", phase]
        subprocess.run([*command, str(os.getpid())], check=True, capture_output=True)
        if phase is not None:
            # valgrind --callgrind-out-file=$CALLGRIND_DIR/callgrind.out.%p (default: the directory it started in)
            where = Path(os.environ.get("CALLGRIND_DIR", "."))
            for _ in range(100):  # the dump is written when valgrind next looks at its commands
                dumps = sorted(where.glob(f"callgrind.out.{os.getpid()}.*"), key=lambda f: f.stat().st_mtime)
                if dumps:
                    break
                time.sleep(0.1)
            text = dumps[-1].read_text(errors="replace")
            instructions[phase] = int(next(line.split()[1] for line in text.splitlines()
                                           if line.startswith(("summary:", "totals:"))))
            dumps[-1].unlink()
            # Zeroed after reading the dump, so that reading it is not counted in the next phase.
            subprocess.run(["callgrind_control", "-z", str(os.getpid())], check=True, capture_output=True)

    def run_all(n: int, web_prof=None, task_prof=None, notify_prof=None):  # type: ignore[no-untyped-def]
        """n submissions, then their validations, then their separate receipt tasks; CPU ms of
        this process per operation and of the PostgreSQL backend per phase."""
        cpu: dict[str, list[float]] = {"web": [], "worker": [], "notify": []}
        pg: dict[str, float] = {}
        references = []
        callgrind(None)
        wal_mark("web", start=True)
        current_phase[0] = "web"
        b = _backend_cpu(backend)
        for _ in range(n):
            t = time.process_time()
            if web_prof:
                web_prof.enable()
            references.append(post())
            if web_prof:
                web_prof.disable()
            cpu["web"].append((time.process_time() - t) * 1000)
        pg["web"] = (_backend_cpu(backend) - b) / n
        current_phase[0] = ""
        callgrind("web")
        wal_mark("web")
        ids = dict(LegalRequest.objects.filter(reference__in=references).values_list("reference", "pk"))
        wal_mark("worker", start=True)
        current_phase[0] = "worker"
        b = _backend_cpu(backend)
        for reference in references:
            t = time.process_time()
            if task_prof:
                task_prof.enable()
            validate(ids[reference])
            if task_prof:
                task_prof.disable()
            cpu["worker"].append((time.process_time() - t) * 1000)
        pg["worker"] = (_backend_cpu(backend) - b) / n
        current_phase[0] = ""
        callgrind("worker")
        wal_mark("worker")
        pending = notify_ids(list(ids.values()))
        callgrind("between")
        b = _backend_cpu(backend)
        for oid in pending:
            t = time.process_time()
            if notify_prof:
                notify_prof.enable()
            notify(oid)
            if notify_prof:
                notify_prof.disable()
            cpu["notify"].append((time.process_time() - t) * 1000)
        pg["notify"] = (_backend_cpu(backend) - b) / n
        callgrind("notify")
        mail.outbox = []
        return cpu, pg

    def med(values: list[float]) -> float:
        return statistics.median(values) if values else 0.0

    def mean(values: list[float]) -> float:
        return statistics.fmean(values) if values else 0.0

    # 1. CPU without a profiler (the figures to compare), 2. the same under cProfile (the areas).
    cpu, pg = run_all(args.n)
    counts = {"web": len(web_q), "worker": len(task_q), "notify": len(notify_q)}
    print(f"CPU per submission, no profiler, n={args.n} (process: median / mean ms; PostgreSQL backend: mean ms)")
    for phase, label in (("web", "web: POST /api/v1/requests/"),
                         ("worker", "worker: validation task (a drain taking it)"),
                         ("notify", "worker: separate receipt task (send_notifications)")):
        print(f"  {label:52s} {med(cpu[phase]):6.2f} / {mean(cpu[phase]):6.2f}  pg {pg[phase]:5.2f}  "
              f"{counts[phase]:3d} queries  ({len(cpu[phase])} runs)")
    total_py = mean(cpu["web"]) + mean(cpu["worker"]) + sum(cpu["notify"]) / args.n
    total_pg = pg["web"] + pg["worker"] + pg["notify"]
    total_med = med(cpu["web"]) + med(cpu["worker"]) + med(cpu["notify"]) * len(cpu["notify"]) / args.n
    print(f"  total per submission: Python {total_py:.2f} ms + PostgreSQL {total_pg:.2f} ms = "
          f"{total_py + total_pg:.2f} ms (Python by medians {total_med:.2f} ms); {sum(counts.values())} queries")
    if instructions:
        per = {phase: instructions.get(phase, 0) / args.n for phase in ("web", "worker", "notify")}
        print("  instructions per submission (callgrind, this process only): " +
              ", ".join(f"{phase} {count / 1e6:.2f} M" for phase, count in per.items()) +
              f"; total {sum(per.values()) / 1e6:.2f} M")
    for phase in wal:
        print("\n".join(wal_writes.report(f"{phase} (backend on CPU {wal_marks[phase][1] / 1e6 / args.n:.3f} ms "
                                          "per submission, schedstat)", wal[phase], args.n)))
        print(f"    backend CPU per statement, µs per submission (schedstat, {args.n} runs):")
        for label, (ns, count) in sorted(statement_ns.get(phase, {}).items(), key=lambda kv: -kv[1][0]):
            print(f"      {ns / 1e3 / args.n:7.1f}  x{count / args.n:.2f}  {label}")
    if wal:
        total = {key: sum(w.per(args.n)[key] for w in wal.values()) for key in next(iter(wal.values())).per(1)}
        print("  total per submission: " + ", ".join(f"{k} {v:.2f}" for k, v in total.items()))
    print("web queries:")
    for q in web_q:
        print("  ", q[:160])
    print("worker queries:")
    for q in task_q:
        print("  ", q[:160])
    print("separate receipt task queries:")
    for q in notify_q:
        print("  ", q[:160])
    if args.no_profile or args.callgrind:
        return 0

    # Timed by this process's CPU clock, not the wall clock: waiting on PostgreSQL (and on a machine
    # loaded by others) is left out, so own and cumulative times are the CPU the code spends.
    web_prof, task_prof, notify_prof = (cProfile.Profile(time.process_time), cProfile.Profile(time.process_time),
                                        cProfile.Profile(time.process_time))
    pcpu, _ = run_all(args.n, web_prof, task_prof, notify_prof)
    if args.dump:
        web_prof.dump_stats(os.path.join(args.dump, "web.prof"))
        task_prof.dump_stats(os.path.join(args.dump, "worker.prof"))
    web_areas, task_areas = buckets(web_prof, args.n), buckets(task_prof, args.n)
    notify_areas = buckets(notify_prof, args.n) if pcpu["notify"] else []
    for label, areas in (("web", web_areas), ("worker", task_areas), ("separate receipt task", notify_areas)):
        print(f"{label}: own time by area under cProfile, ms per submission")
        for area, ms in areas[:10]:
            print(f"   {ms:7.2f}  {area}")
    if args.write:
        rows = []
        for label, areas, phase in (("web: POST /api/v1/requests/", web_areas, "web"),
                                    ("worker: validation task (a drain taking it)", task_areas, "worker")):
            rows.append(f"**{label}**: CPU median {med(cpu[phase]):.2f} ms (min {min(cpu[phase]):.2f}) over "
                        f"{args.n} without a profiler, PostgreSQL backend {pg[phase]:.2f} ms, {counts[phase]} SQL "
                        "queries. Own time under cProfile (profiling inflates Python time ~1.5-2×; compare areas, "
                        "not totals):")
            rows.append("")
            rows.append(common.table(["ms/op", "area"], [(f"{ms:.2f}", area) for area, ms in areas[:8]]))
            rows.append("")
        common.write_section("profile", "\n".join([
            "## CPU per submission, web + worker (`bench/profile_submission.py`)", "",
            f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {common.machine_summary()}. "
            f"{common.tree_state()}. In process (Django test Client for the POST, then the validation drain's "
            "task body as the worker runs it), bench.settings on PostgreSQL, the machine shared with other runs.", "",
            f"```\n.venv/bin/python bench/profile_submission.py --n {args.n} --write\n```", "", *rows]))
    print("=== web, by own time ===\n" + top(web_prof, "tottime", args.top))
    print("=== web, cumulative ===\n" + top(web_prof, "cumulative", args.top))
    print("=== worker, by own time ===\n" + top(task_prof, "tottime", args.top))
    print("=== worker, cumulative ===\n" + top(task_prof, "cumulative", args.top))
    if pcpu["notify"]:
        print("=== separate receipt task, cumulative ===\n" + top(notify_prof, "cumulative", args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
