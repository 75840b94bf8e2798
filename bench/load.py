"""`make load`: locust, headless, on loopback, against gunicorn + a Celery worker.

    .venv/bin/python bench/load.py [--users 8] [--seconds 45] [--submits-per-user 40]

Authorities (3 in 4 users) submit an EPOC, upload a PDF to it and poll it; the legal team
(1 in 4) pages and filters the admin queue. Bounded in time (``--seconds``) and count (each
authority user stops after ``--submits-per-user``). After locust stops: waits for the queue to
drain, then checks submitted = validated = audited (each once) and writes the "load" section
of bench/RESULTS.md (rates and latencies per request type). Database ``$BENCH_DB``.
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
BENCH_DB = os.environ.setdefault("BENCH_DB", "lrp_bench")
BENCH_REDIS = os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.update(DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}", CACHE_URL=BENCH_REDIS,
                  CELERY_BROKER_URL=BENCH_REDIS, REDIS_URL=BENCH_REDIS)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != str(Path(__file__).resolve().parent)]
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402


def admin_session() -> str:
    from django.contrib.auth.models import Group
    from django.test import Client

    from bench.admin_queue import personas
    from requests_app.permissions import ADMIN, REVIEWER

    for name in (ADMIN, REVIEWER):
        Group.objects.get_or_create(name=name)
    from accounts.models import User

    personas()
    client = Client()
    client.force_login(User.objects.get(email="admin@bench.example"))
    from django.conf import settings

    return client.cookies[settings.SESSION_COOKIE_NAME].value


def books(since) -> dict[str, int]:
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
        "audited": events.filter(action="request.submitted").count(),
        "validated": events.filter(action="request.validated").count(),
        "validated_requests": events.filter(action="request.validated").values("request_id").distinct().count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=45)
    parser.add_argument("--submits-per-user", type=int, default=40)
    parser.add_argument("--drain-timeout", type=float, default=120)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    common.setup()
    common.ensure_database()
    from django.core.serializers.json import DjangoJSONEncoder
    from django.utils import timezone

    from tests.conftest import epoc_body
    from tests.requests_app.api.helpers import pdf_bytes

    # Production settings serve the admin's static files from the manifest: collect them first.
    subprocess.run([str(common.BIN / "python"), "manage.py", "collectstatic", "--no-input", "-v", "0",
                    f"--settings={common.SETTINGS}"], cwd=ROOT, env=common.child_env(), check=True)
    token = common.seed_token()
    session = admin_session()
    work = Path(tempfile.mkdtemp(prefix="lrp_load_"))
    (work / "order.pdf").write_bytes(pdf_bytes())
    common.close_db()
    since = timezone.now()
    web = common.start_gunicorn(2, name="load-web")
    worker = common.start_celery(2)
    env = {**common.child_env(), "LOAD_TOKEN": token, "LOAD_ADMIN_SESSION": session,
           "LOAD_BODY": json.dumps(epoc_body(), cls=DjangoJSONEncoder), "LOAD_PDF": str(work / "order.pdf"),
           "LOAD_SUBMITS_PER_USER": str(args.submits_per_user)}
    started = time.perf_counter()
    try:
        locust = subprocess.run(
            [str(common.BIN / "locust"), "-f", "bench/locustfile.py", "--headless", "-u", str(args.users),
             "-r", str(args.users), "-t", f"{args.seconds}s", "--stop-timeout", "5", "--host", common.BASE_URL,
             "--csv", str(work / "load"), "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.seconds + 120)
        ran = time.perf_counter() - started
        drain_started = time.perf_counter()
        while books(since)["pending"] and time.perf_counter() - drain_started < args.drain_timeout:
            time.sleep(1)
        drained = time.perf_counter() - drain_started
    finally:
        worker.stop()
        web.stop()
    counts = books(since)
    with open(work / "load_stats.csv") as handle:
        stats = list(csv.DictReader(handle))
    rows = [(s["Type"], s["Name"], s["Request Count"], s["Failure Count"], f"{float(s['Requests/s']):.1f}",
             s["50%"], s["95%"], s["99%"], s["Max Response Time"].split(".")[0]) for s in stats]
    ok = (counts["pending"] == 0 and counts["submitted"] == counts["audited"] == counts["validated"]
          == counts["validated_requests"] and counts["submitted"] > 0)
    body = "\n".join([
        "## Load: authorities and the legal team at once (`make load` = `bench/load.py`, locust)", "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {common.machine_summary()}; {common.versions()}. "
        f"{common.tree_state()}.", "",
        f"```\n.venv/bin/python bench/load.py --users {args.users} --seconds {args.seconds} "
        f"--submits-per-user {args.submits_per_user}\n```", "",
        "gunicorn sync 2 + Celery prefork 2 (bench.settings), locust headless on the same 2 cores, loopback. "
        "Users: authorities (weight 3) submit an EPOC (three targets), upload a one-page PDF to it (the upload "
        "sandbox runs) and poll their requests; the legal team (weight 1) pages and filters the admin queue. "
        f"Bounded by {args.seconds} s and {args.submits_per_user} submissions per authority user. Latencies in ms.", "",
        common.table(["type", "name", "requests", "failures", "req/s", "p50", "p95", "p99", "max"], rows), "",
        f"Load ran {ran:.0f} s; the queue drained {drained:.1f} s after locust stopped. Books: submitted "
        f"{counts['submitted']}, validated {counts['validated']} (distinct requests {counts['validated_requests']}), "
        f"audited (request.submitted) {counts['audited']}, still pending {counts['pending']}: "
        + ("**balanced**." if ok else "**NOT balanced**."),
    ])
    print(body)
    if locust.returncode not in (0, 1):
        print(locust.stdout[-2000:], locust.stderr[-3000:])
    if not args.no_write:
        common.write_section("load", body)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
