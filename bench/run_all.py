"""Every benchmark, then the figures of `make bench` that no single script measures.

    .venv/bin/python bench/run_all.py [--runs 3] [--skip intake,pipeline,rules,admin_queue] [--rows 1000000]

1. Runs bench/intake.py, pipeline.py, rules.py and admin_queue.py in turn (each rewrites its
   own section of bench/RESULTS.md; their own options keep each under a few minutes).
2. Then, ``--runs`` times each, with the floor each is compared to measured in the same run:
   - emergency submit (HTTP 201) → the on-call alert accepted by a real SMTP server (aiosmtpd
     in this process; web = gunicorn sync 2, worker = celery prefork 2) — floor: the same
     server accepting a message sent directly with smtplib;
   - RSS of each gunicorn worker and Celery process after warm-up and after 10,000 requests —
     floor: a bare Python process after ``django.setup()``;
   - the admin changelist and the transparency report at ``--rows`` requests (the admin
     queue's database, seeded in SQL by bench/admin_queue.py) — floor: the admin index page.
   Each figure: median, min and max over the runs (each run's own value is its median over
   its samples). Writes the "run_all" section, with the machine (cores, RAM, Python, PostgreSQL).

The databases are ``$BENCH_DB`` (default lrp_bench) and ``$BENCH_ADMIN_DB`` (default
lrp_bench_admin), Redis ``$BENCH_REDIS_URL`` (default DB 14). Every process is killed on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.setdefault("BENCH_DB", "lrp_bench")
BENCH_REDIS = os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# bench/settings.py only fills what is unset: a developer's own DATABASE_URL must not leak in.
os.environ.update(DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}", CACHE_URL=BENCH_REDIS,
                  CELERY_BROKER_URL=BENCH_REDIS, REDIS_URL=BENCH_REDIS)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != str(Path(__file__).resolve().parent)]
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

PY = str(common.BIN / "python")
SCRIPTS = {
    "intake": ["bench/intake.py", "--workers", "2", "--conc", "8,32", "--warmup", "3", "--duration", "8"],
    "pipeline": ["bench/pipeline.py"],
    "rules": ["bench/rules.py"],
    "admin_queue": ["bench/admin_queue.py", "--runs", "5"],
}
ON_CALL = "oncall@bench.invalid"


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    return (f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"
            if values else "–")


# --- the machine --------------------------------------------------------------------------------

def machine() -> str:
    return f"{common.machine_summary()}; {common.versions()}"


# --- SMTP ---------------------------------------------------------------------------------------

class Sink:
    """aiosmtpd on a free port; records when each message for each recipient was accepted."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.accepted: list[tuple[float, str, str]] = []  # (time, recipient, subject)
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
                import email

                subject = str(email.message_from_bytes(envelope.original_content or envelope.content)["Subject"])
                now = time.time()
                for rcpt in envelope.rcpt_tos:
                    sink.accepted.append((now, rcpt.lower(), subject))
                return "250 accepted"

        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, ready_timeout=5)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, recipient: str, needle: str, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, rcpt, subject in self.accepted:
                if rcpt == recipient and needle in subject:
                    return at
            time.sleep(0.005)
        return None


def smtp_floor(sink: Sink, n: int = 20) -> float:
    """ms for smtplib to hand one alert-sized message to the sink (connect, EHLO, MAIL, RCPT, DATA, QUIT)."""
    times = []
    for i in range(n):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "noreply@bench.invalid", ON_CALL, f"floor {i}"
        message.set_content("x" * 1500)
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=5) as client:
            client.send_message(message)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# --- RSS ----------------------------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def group_rss(group: common.ProcGroup) -> dict[str, float]:
    """{role: RSS MB} of a process group: the master/main process and each child."""
    pids = sorted(common.pids_of_group(group.pgid))
    out = {}
    for pid in pids:
        role = "main" if pid == group.pgid else f"child {pids.index(pid)}"
        out[role] = rss_mb(pid)
    return out


def bare_django_rss() -> float:
    code = ("import django, os; django.setup(); "
            "print([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])")
    out = subprocess.run([PY, "-c", code], cwd=ROOT, env=common.child_env(), capture_output=True, text=True,
                         check=True).stdout.split()[-1]
    return int(out) / 1024


def hammer(requests_total: int, token: str, body: bytes, threads: int = 8, posts_every: int = 50) -> int:
    """``requests_total`` HTTP requests: GET /healthz, with one intake POST in every ``posts_every``."""
    counter = iter(range(requests_total))
    lock = threading.Lock()
    errors = [0]

    def work() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            if i % posts_every == 0:
                req = urllib.request.Request(f"{common.BASE_URL}/api/v1/requests/", data=body, method="POST",
                                             headers={"Authorization": f"Bearer {token}",
                                                      "Content-Type": "application/json"})
            else:
                req = urllib.request.Request(f"{common.BASE_URL}/healthz")
            try:
                with urllib.request.urlopen(req, timeout=30) as response:
                    response.read()
            except (urllib.error.URLError, OSError):
                with lock:
                    errors[0] += 1

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return errors[0]


# --- one run of the live measurements ----------------------------------------------------------

def live_run(run: int, emergencies: int, requests_total: int) -> dict:
    from django.core.serializers.json import DjangoJSONEncoder

    from tests.conftest import epoc_body

    sink = Sink()
    os.environ["BENCH_SMTP_PORT"] = str(sink.port)
    os.environ["ON_CALL_EMAILS"] = ON_CALL
    token = common.seed_token()
    common.close_db()
    web = common.start_gunicorn(2, name=f"run_all-web-{run}")
    worker = common.start_celery(2)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in worker.log_path.read_text(errors="replace"):
            if time.monotonic() > deadline or not worker.alive():
                raise SystemExit(f"celery did not start:\n{worker.tail()}")
            time.sleep(0.2)
        floor_ms = smtp_floor(sink)
        latencies, to_201 = [], []
        for i in range(emergencies + 2):  # the first two warm the processes up and are not counted
            body = json.dumps(epoc_body(emergency=True, emergency_reason="Imminent threat to the life of a person.",
                                        case_reference=f"PN-BENCH-EMERG-{run}-{i}-{time.time_ns()}"),
                              cls=DjangoJSONEncoder).encode()
            req = urllib.request.Request(f"{common.BASE_URL}/api/v1/requests/", data=body, method="POST",
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
            sent = time.time()
            with urllib.request.urlopen(req, timeout=30) as response:
                reference = json.loads(response.read())["reference"]
            answered = time.time()
            accepted = sink.wait_for(ON_CALL, reference, 60)
            if accepted is None:
                raise SystemExit(f"the on-call alert of {reference} never reached the SMTP server:\n{worker.tail(40)}")
            if i >= 2:
                latencies.append((accepted - sent) * 1000)
                to_201.append((answered - sent) * 1000)
        time.sleep(1.0)
        warm = {"web": group_rss(web), "worker": group_rss(worker)}
        intake = json.dumps(epoc_body(), cls=DjangoJSONEncoder).encode()
        started = time.perf_counter()
        errors = hammer(requests_total, token, intake)
        took = time.perf_counter() - started
        time.sleep(2.0)  # the worker validates the intake POSTs
        after = {"web": group_rss(web), "worker": group_rss(worker)}
        return {"alert_ms": statistics.median(latencies), "alert_p_max": max(latencies),
                "answer_ms": statistics.median(to_201), "smtp_floor_ms": floor_ms,
                "warm": warm, "after": after, "hammer_s": took, "hammer_errors": errors,
                "bare_rss": bare_django_rss()}
    finally:
        worker.stop()
        web.stop()
        sink.stop()
        os.environ.pop("BENCH_SMTP_PORT", None)


BIG_TABLE = r"""
import json, os, statistics, sys, time
sys.path.insert(0, os.getcwd())
from bench.admin_queue import setup_django
setup_django()
from datetime import timedelta
from django.test import Client
from django.utils import timezone
from accounts.models import User
from requests_app.models import LegalRequest
from requests_app.reports import transparency_rows

client = Client()
client.force_login(User.objects.get(email="admin@bench.example"))
def timed(fn, n):
    fn()
    out = []
    for _ in range(n):
        t = time.perf_counter(); fn(); out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)
def page(url):
    def get():
        assert client.get(url).status_code == 200, url
    return get
end = timezone.now(); start = end - timedelta(days=365)
rows = LegalRequest.objects.filter(received_at__gte=start, received_at__lt=end).count()
print(json.dumps({
    "rows_total": LegalRequest.objects.count(), "rows_in_report": rows,
    "admin_index_ms": timed(page("/admin/"), 5),
    "changelist_ms": timed(page("/admin/requests_app/legalrequest/"), 5),
    "changelist_filtered_ms": timed(page("/admin/requests_app/legalrequest/?status__exact=in_review&country=DE"), 5),
    "report_ms": timed(lambda: transparency_rows(start, end), 1 if rows > 200000 else 3),
}))
"""


def big_table_run() -> dict:
    out = subprocess.run([PY, "-c", BIG_TABLE], cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": ""},
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"big-table run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- report -------------------------------------------------------------------------------------

def report(live: list[dict], big: list[dict], args: argparse.Namespace, ran: dict[str, str], took: float) -> str:
    lines = ["## All benchmarks (`make bench` = `bench/run_all.py`)", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}. "
             f"{common.tree_state()}. Wall time {took:.0f} s.", "",
             f"```\n.venv/bin/python bench/run_all.py --runs {args.runs} --rows {args.rows}\n```", "",
             "Scripts run (each wrote its own section of this file; their figures are from that script's run):", ""]
    lines += [f"- `{name}`: {state}" for name, state in ran.items()]
    lines += ["", f"Figures below: median (min–max) over {len(live)} runs; each run's value is its median over its "
              "samples. The floor is measured in the same run.", ""]
    if live:
        rows = [
            ("emergency submit → on-call alert accepted by aiosmtpd, ms",
             spread([r["alert_ms"] for r in live]), "SMTP hand-off by smtplib, ms",
             spread([r["smtp_floor_ms"] for r in live]),
             spread([r["alert_ms"] / r["smtp_floor_ms"] for r in live], "{:.0f}×")),
            ("emergency submit → 201, ms", spread([r["answer_ms"] for r in live]), "", "", ""),
        ]
        for role_key, label in (("web", "gunicorn"), ("worker", "celery")):
            for when in ("warm", "after"):
                roles = sorted(live[0][when][role_key])
                for role in roles:
                    values = [r[when][role_key].get(role, 0.0) for r in live]
                    moment = "after warm-up" if when == "warm" else f"after {args.requests:,} requests"
                    rows.append((f"RSS {label} {role}, {moment}, MB", spread(values),
                                 "bare Python + django.setup(), MB", spread([r["bare_rss"] for r in live]),
                                 spread([v / r["bare_rss"] for v, r in zip(values, live, strict=True)], "{:.2f}×")))
        lines += [common.table(["figure", "value", "floor", "floor value", "ratio"], rows), ""]
        lines.append(f"{args.requests:,} requests per run = GET /healthz with one intake POST in 50 (validated by the "
                     f"worker), 8 client threads: {spread([r['hammer_s'] for r in live])} s, errors "
                     f"{sum(r['hammer_errors'] for r in live)}. {args.emergencies} emergencies per run after 2 warm-up "
                     "ones, one at a time; the alert is `alert.emergency` to ON_CALL_EMAILS through the outbox, "
                     "`send_notifications` and Django's SMTP backend.")
        lines.append("")
    if big:
        big_rows = [(name, spread([r[key] for r in big]), spread([r["admin_index_ms"] for r in big]),
                 spread([r[key] / r["admin_index_ms"] for r in big], "{:.1f}×"))
                for name, key in (("admin changelist, unfiltered", "changelist_ms"),
                                  ("admin changelist, status=in_review & country=DE", "changelist_filtered_ms"),
                                  ("transparency report rows, last 365 days", "report_ms"))]
        database = os.environ.get("BENCH_ADMIN_DB", "lrp_bench_admin")
        lines += [f"Big table: {big[0]['rows_total']:,} requests in `{database}` "
                  f"({big[0]['rows_in_report']:,} in the report's year); in-process Django test Client as a "
                  "legal admin, "
                  "5 timed requests per page per run (report: 1–3 calls of `transparency_rows`).", "",
                  common.table(["figure", "ms", "floor: admin index page, ms", "ratio"], big_rows), ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip", default="",
                        help="comma-separated scripts not to run (intake,pipeline,rules,admin_queue)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the admin queue's database")
    parser.add_argument("--emergencies", type=int, default=10)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    skip = {s for s in args.skip.split(",") if s}
    ran: dict[str, str] = {}
    for name, argv in SCRIPTS.items():
        extra = ["--rows", str(args.rows)] if name == "admin_queue" else []
        if name in skip:
            ran[name] = "skipped (--skip)"
            continue
        t = time.perf_counter()
        code = subprocess.run([PY, *argv, *extra], cwd=ROOT).returncode
        ran[name] = f"exit {code}, {time.perf_counter() - t:.0f} s"
    common.setup()
    common.ensure_database()
    live = []
    for run in range(args.runs):
        live.append(live_run(run, args.emergencies, args.requests))
        print(f"run {run + 1}: alert {live[-1]['alert_ms']:.1f} ms, floor {live[-1]['smtp_floor_ms']:.2f} ms",
              flush=True)
    big = []
    if "admin_queue" not in skip or os.environ.get("BENCH_BIG_TABLE") == "1":
        for run in range(args.runs):
            big.append(big_table_run())
            print(f"big table run {run + 1}: {big[-1]}", flush=True)
    body = report(live, big, args, ran, time.perf_counter() - started)
    print(body)
    if not args.no_write:
        common.write_section("run_all", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
