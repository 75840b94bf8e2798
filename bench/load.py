"""`make load`: locust, headless, on loopback, against gunicorn + a Celery worker, over a 1M-row queue.

    .venv/bin/python bench/load.py [--users 16] [--seconds 120] [--submits-per-user 150] [--rows 1000000]

Database ``$BENCH_LOAD_DB`` (default ``lrp_bench_load``): created if missing (as a copy of
``$BENCH_LOAD_TEMPLATE`` when that is set and the template holds the rows, else empty), migrated,
and seeded with ``--rows`` requests by the same SQL seeder as the admin-queue benchmark
(``bench.admin_queue.seed``) if it holds fewer. Redis ``$BENCH_REDIS_URL``, port ``$BENCH_PORT``.

Authorities (3 in 4 users) submit an EPOC, upload a PDF to it and poll their requests (detail and
list); the legal team (1 in 4) pages (up to page 50) and filters (status, country, emergency,
overdue, assigned, lifecycle, a combination) and searches the admin queue over those rows. Bounded
in time (``--seconds``) and count (each authority user stops after ``--submits-per-user``);
loopback only. After locust stops: waits for the queue to drain (no request of the run still
``received``/``validating``, the Celery queue empty), then checks submitted = validated = audited
(each request once) and that locust saw no failure; writes the "load" section of bench/RESULTS.md
(rates and latencies per request type). Exit status 0 only if the books balance with no failure.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD_DB = os.environ.get("BENCH_LOAD_DB", "lrp_bench_load")
os.environ["BENCH_DB"] = LOAD_DB  # bench.common and bench.settings take the database from here
BENCH_REDIS = os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != str(Path(__file__).resolve().parent)]
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402


def copy_template(template: str, rows: int) -> None:
    """Create the load database as a copy of ``template`` (CREATE DATABASE … TEMPLATE), if the load
    database does not exist yet and the template holds the rows. PostgreSQL refuses while anyone
    is connected to the template: retried for a minute."""
    import psycopg

    with psycopg.connect(common.PG_ADMIN_DSN, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [LOAD_DB]).fetchone():
            return
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone():
            print(f"template {template} does not exist: seeding {LOAD_DB} instead")
            return
    try:
        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={template}") as conn:
            row = conn.execute("SELECT count(*) FROM requests_app_legalrequest").fetchone()
            held = int(row[0]) if row else 0
    except psycopg.Error:
        held = 0
    if held < rows:
        print(f"template {template} holds {held:,} requests (< {rows:,}): seeding {LOAD_DB} instead")
        return
    deadline = time.monotonic() + 60
    while True:
        try:
            with psycopg.connect(common.PG_ADMIN_DSN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{LOAD_DB}" TEMPLATE "{template}"')
            print(f"created {LOAD_DB} as a copy of {template}")
            return
        except psycopg.errors.ObjectInUse:
            if time.monotonic() > deadline:
                raise SystemExit(f"{template} stayed in use by other sessions: cannot copy it") from None
            time.sleep(2)


def admin_session() -> str:
    from django.conf import settings
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email="admin@bench.example"))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def books(since) -> dict[str, int]:
    import redis

    from audit.models import AuditEvent
    from requests_app.models import LegalRequest
    from requests_app.states import Status

    common.close_db()
    ids = list(LegalRequest.objects.filter(received_at__gte=since, case_reference__startswith="PN-LOAD-")
               .values_list("pk", flat=True))
    events = AuditEvent.objects.filter(request_id__in=ids)
    return {
        "submitted": len(ids),
        "pending": LegalRequest.objects.filter(pk__in=ids, status__in=[Status.RECEIVED, Status.VALIDATING]).count(),
        "queued": int(redis.Redis.from_url(common.REDIS_URL).llen("celery")),
        "audited": events.filter(action="request.submitted").count(),
        "audited_requests": events.filter(action="request.submitted").values("request_id").distinct().count(),
        "validated": events.filter(action="request.validated").count(),
        "validated_requests": events.filter(action="request.validated").values("request_id").distinct().count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--spawn-rate", type=float, default=4.0, help="users started per second")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--submits-per-user", type=int, default=150)
    parser.add_argument("--rows", type=int, default=1_000_000, help="requests in the queue before the load")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--drain-timeout", type=float, default=180)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    template = os.environ.get("BENCH_LOAD_TEMPLATE", "")
    if template:
        copy_template(template, args.rows)
    common.setup()
    common.ensure_database()  # creates if still missing, migrates, empties the bench's Redis DB
    from django.core.serializers.json import DjangoJSONEncoder
    from django.utils import timezone

    from bench.admin_queue import personas, seed
    from requests_app.models import LegalRequest
    from tests.conftest import epoc_body
    from tests.requests_app.api.helpers import pdf_bytes

    seeded = seed(args.rows)  # personas too; skipped when the rows are there
    personas()
    queue_rows = LegalRequest.objects.count()
    # Production settings serve the admin's static files from the manifest: collect them first.
    subprocess.run([str(common.BIN / "python"), "manage.py", "collectstatic", "--no-input", "-v", "0",
                    f"--settings={common.SETTINGS}"], cwd=ROOT, env=common.child_env(), check=True)
    token = common.seed_token()
    session = admin_session()
    work = Path(tempfile.mkdtemp(prefix="lrp_load_"))
    (work / "order.pdf").write_bytes(pdf_bytes())
    common.close_db()
    since = timezone.now()
    web = common.start_gunicorn(args.web_workers, name="load-web")
    worker = common.start_celery(args.worker_concurrency)
    env = {**common.child_env(), "LOAD_TOKEN": token, "LOAD_ADMIN_SESSION": session,
           "LOAD_BODY": json.dumps(epoc_body(), cls=DjangoJSONEncoder), "LOAD_PDF": str(work / "order.pdf"),
           "LOAD_SUBMITS_PER_USER": str(args.submits_per_user)}
    started = time.perf_counter()
    cpu_before = common.cpu_snapshot({"gunicorn": web.pgid, "celery": worker.pgid})
    try:
        locust = subprocess.run(
            [str(common.BIN / "locust"), "-f", "bench/locustfile.py", "--headless", "-u", str(args.users),
             "-r", f"{args.spawn_rate:g}", "-t", f"{args.seconds}s", "--stop-timeout", "10",
             "--host", common.BASE_URL, "--csv", str(work / "load"), "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.seconds + 120)
        ran = time.perf_counter() - started
        cpu = common.cpu_delta(cpu_before, common.cpu_snapshot({"gunicorn": web.pgid, "celery": worker.pgid}))
        drain_started = time.perf_counter()
        while time.perf_counter() - drain_started < args.drain_timeout:
            state = books(since)
            if not state["pending"] and not state["queued"]:
                break
            time.sleep(1)
        drained = time.perf_counter() - drain_started
        worker_tail = worker.tail(10)
    finally:
        worker.stop()
        web.stop()
    counts = books(since)
    with open(work / "load_stats.csv") as handle:
        stats = list(csv.DictReader(handle))
    failures_csv = work / "load_failures.csv"
    failure_lines = []
    if failures_csv.exists():
        with open(failures_csv) as handle:
            failure_lines = [f"{r['Method']} {r['Name']}: {r['Error'][:160]} ×{r['Occurrences']}"
                             for r in csv.DictReader(handle)]
    rows = [(s["Type"], s["Name"], s["Request Count"], s["Failure Count"], f"{float(s['Requests/s']):.1f}",
             s["50%"], s["95%"], s["99%"], s["Max Response Time"].split(".")[0]) for s in stats]
    failures = sum(int(s["Failure Count"]) for s in stats if s["Name"] == "Aggregated")
    total = sum(int(s["Request Count"]) for s in stats if s["Name"] == "Aggregated")
    balanced = (counts["pending"] == 0 and counts["queued"] == 0 and counts["submitted"] > 0
                and counts["submitted"] == counts["audited"] == counts["audited_requests"] == counts["validated"]
                == counts["validated_requests"])
    ok = balanced and failures == 0
    own_ms = common.own_cpu_ms(cpu, total)
    body = "\n".join([
        "## Load: authorities and the legal team at once (`make load` = `bench/load.py`, locust)", "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {common.machine_summary()}; {common.versions()}. "
        f"{common.tree_state()}.", "",
        f"```\nBENCH_LOAD_DB={LOAD_DB} .venv/bin/python bench/load.py --users {args.users} --spawn-rate "
        f"{args.spawn_rate:g} --seconds {args.seconds} --submits-per-user {args.submits_per_user} "
        f"--rows {args.rows}\n```",
        "",
        f"Queue: **{queue_rows:,} requests** in `{LOAD_DB}` before the load ("
        + (f"seeded in {seeded:.0f} s" if seeded else "already seeded") + " by `bench.admin_queue.seed`). "
        f"{common.process_lines(args.web_workers, args.worker_concurrency)} on bench.settings, "
        "locust headless on the same 2 cores, loopback only. Users: authorities (weight 3) "
        "submit an EPOC (three targets), upload a one-page PDF to it (the upload sandbox runs) and poll their "
        "requests (detail and list); the legal team (weight 1, a logged-in admin with a second factor) pages "
        "(pages 1–50) and filters (status, country, emergency, overdue, assigned to me, lifecycle, status & "
        "country) and searches the admin queue. "
        f"{args.users} users started at {args.spawn_rate:g}/s; bounded by {args.seconds} s and "
        f"{args.submits_per_user} submissions per authority user. Latencies in ms.", "",
        common.table(["type", "name", "requests", "failures", "req/s", "p50", "p95", "p99", "max"], rows), "",
        f"Load ran {ran:.0f} s; the queue drained {drained:.1f} s after locust stopped. Books: submitted "
        f"{counts['submitted']}, validated {counts['validated']} (distinct requests {counts['validated_requests']}), "
        f"audited (request.submitted) {counts['audited']} (distinct {counts['audited_requests']}), still pending "
        f"{counts['pending']}, Celery queue {counts['queued']}: "
        + ("**balanced**" if balanced else "**NOT balanced**")
        + f"; locust failures {failures} of {total:,} requests"
        + (" (" + "; ".join(failure_lines[:5]) + ")" if failure_lines else "") + ".",
        "",
        f"CPU during the load, per locust request: gunicorn {cpu.get('gunicorn', 0) * 1000 / max(1, total):.1f} ms, "
        f"celery {cpu.get('celery', 0) * 1000 / max(1, total):.1f} ms, postgres "
        f"{cpu.get('postgres', 0) * 1000 / max(1, total):.1f} ms, all own processes (locust included) "
        f"{own_ms:.1f} ms; others' share of the machine {common.other_share(cpu) * 100:.0f}%.",
    ])
    print(body)
    if locust.returncode not in (0, 1):
        print(locust.stdout[-2000:], locust.stderr[-3000:])
    if "Traceback" in worker_tail:
        print(f"worker log tail:\n{worker_tail}")
    if not args.no_write:
        common.write_section("load", body)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
