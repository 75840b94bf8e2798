"""`make bench`: every benchmark in bench/, each repeated, then the figures no single script measures.

    .venv/bin/python bench/run_all.py [--runs 3] [--skip intake,pipeline,...] [--rows 1000000]

1. Runs, each with ``--runs N --json FILE`` (it repeats itself N times, each run with its floor,
   writes its own section of bench/RESULTS.md as median (min–max), and hands its figures back):
   intake.py, pipeline.py, rules.py, admin_queue.py (the 1M-row changelist), audit_contention.py;
   then profile_submission.py (owned by the CPU work; run with ``--write``) and bench/report.py (the
   transparency report at 1M, when that file exists: run as a subprocess, ``--json``/``--runs``
   passed only if its ``--help`` names them, otherwise timed from outside, N times).
2. Then, ``--runs`` times each, with the floor each is compared to measured in the same run:
   - emergency submit (HTTP 201) → the on-call alert accepted by a real SMTP server (aiosmtpd
     in this process; web = gunicorn sync 2, worker = celery prefork 2) — floor: the same
     server accepting a message sent directly with smtplib;
   - RSS of each gunicorn worker and Celery process after warm-up and after 10,000 requests —
     floor: a bare Python process after ``django.setup()``; aim: no growth;
   - the transparency report (``requests_app.reports.transparency_rows``) over the last 365 days of
     the ``--rows`` database — floor: one ``COUNT(*)`` of the same rows.
3. Writes the "run_all" section: the machine, what ran and how long, and ONE table of every figure
   (median (min–max) over the runs, its floor from the same runs, the per-run ratio, the aim).

Databases ``$BENCH_DB`` (default lrp_bench) and ``$BENCH_ADMIN_DB`` (default lrp_bench_admin; the
1M rows, seeded in SQL by bench/admin_queue.py if missing), Redis ``$BENCH_REDIS_URL`` (default
DB 14), port ``$BENCH_PORT``. Every process is killed on exit. About 20 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
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
    "intake": ["bench/intake.py", "--workers", "2", "--conc", "8,32", "--warmup", "2", "--duration", "4"],
    "pipeline": ["bench/pipeline.py", "--light", "10", "--saturate", "10", "--step", "15", "--budget", "480"],
    "rules": ["bench/rules.py", "--seconds", "3"],
    "admin_queue": ["bench/admin_queue.py", "--samples", "5"],
    "audit_contention": ["bench/audit_contention.py", "--duration", "5"],
}
# --quick: the same figures on reduced windows (shorter load steps, fewer samples), ~10 minutes.
QUICK = {
    "intake": ["bench/intake.py", "--workers", "2", "--conc", "8,32", "--warmup", "1", "--duration", "3"],
    "pipeline": ["bench/pipeline.py", "--light", "6", "--saturate", "6", "--step", "10", "--budget", "200"],
    "rules": ["bench/rules.py", "--seconds", "1"],
    "admin_queue": ["bench/admin_queue.py", "--samples", "3"],
    "audit_contention": ["bench/audit_contention.py", "--duration", "3"],
}
# Scripts owned elsewhere: run if present, their own way (see run_guest).
GUESTS = {
    "profile_submission": ["bench/profile_submission.py", "--n", "100", "--write"],
    "report": ["bench/report.py"],
}
ON_CALL = "oncall@bench.invalid"


spread = common.spread


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
import json, os, sys, time
sys.path.insert(0, os.getcwd())
from bench.admin_queue import setup_django
setup_django()
from datetime import timedelta
from django.utils import timezone
from requests_app.models import LegalRequest
from requests_app.reports import transparency_rows

end = timezone.now(); start = end - timedelta(days=365)
period = LegalRequest.objects.filter(received_at__gte=start, received_at__lt=end)
period.count()  # warm the cache once, as for the report below
t = time.perf_counter(); rows = period.count(); floor_ms = (time.perf_counter() - t) * 1000
t = time.perf_counter(); out = transparency_rows(start, end); report_ms = (time.perf_counter() - t) * 1000
print(json.dumps({"rows_total": LegalRequest.objects.count(), "rows_in_report": rows, "report_rows": len(out),
                  "count_ms": floor_ms, "report_ms": report_ms}))
"""


def big_table_run() -> dict:
    out = subprocess.run([PY, "-c", BIG_TABLE], cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": ""},
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"big-table run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the scripts --------------------------------------------------------------------------------

def run_script(name: str, argv: list[str], runs: int, work: Path, no_write: bool = False
               ) -> tuple[str, list[common.Figure]]:
    """One benchmark with ``--runs`` and ``--json``; (state for the report, its figures)."""
    out = work / f"{name}.json"
    started = time.perf_counter()
    code = subprocess.run([PY, *argv, "--runs", str(runs), "--json", str(out), *(["--no-write"] if no_write else [])],
                          cwd=ROOT).returncode
    took = time.perf_counter() - started
    figures = common.load_figures(out) if out.exists() else []
    return f"exit {code}, {took:.0f} s, {len(figures)} figures", figures


def run_guest(name: str, argv: list[str], runs: int, work: Path, no_write: bool = False
              ) -> tuple[str, list[common.Figure]]:
    """A script another part of the project owns: run only if the file exists, never fatal.

    Options are passed only if its ``--help`` names them: ``--json FILE`` (figures in the format of
    ``common.dump_figures``), ``--runs N`` (it repeats itself; otherwise it is run N times and timed
    from outside), ``--no-write``. bench/report.py's "full report" table row (median, min, max, n)
    is read from its output when it gives no JSON."""
    path = ROOT / argv[0]
    if not path.exists():
        return f"not run: {argv[0]} does not exist (yet)", []
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": ""}
    try:
        helptext = subprocess.run([PY, *argv[:1], "--help"], cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=120).stdout
    except subprocess.TimeoutExpired:
        helptext = ""
    out = work / f"{name}.json"
    extra = ["--json", str(out)] if "--json" in helptext else []
    repeat_inside = "--runs" in helptext
    if repeat_inside:
        extra += ["--runs", str(runs)]
    if no_write:
        argv = [a for a in argv if a != "--write"]
        extra += ["--no-write"] if "--no-write" in helptext else []
    walls, codes, stdout = [], [], ""
    for _ in range(1 if repeat_inside else runs):
        started = time.perf_counter()
        try:
            proc = subprocess.run([PY, *argv, *extra], cwd=ROOT, env=env, timeout=900, capture_output=True,
                                  text=True)
            codes.append(proc.returncode)
            stdout = proc.stdout
            sys.stdout.write(proc.stdout[-6000:])
            sys.stdout.write(proc.stderr[-3000:] if proc.returncode else "")
        except subprocess.TimeoutExpired:
            codes.append(-1)
        walls.append(time.perf_counter() - started)
        if codes[-1] != 0 or name == "profile_submission":  # a profile is one run by design
            break
    figures = common.load_figures(out) if "--json" in extra and out.exists() else []
    if not figures and name == "report":
        import re

        match = re.search(r"^\| full report [^|]*\| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| (\d+) \|", stdout, re.M)
        if match:
            med, low, high, n = (float(g) for g in match.groups())
            figures = [common.Figure(f"transparency report at 1M (bench/report.py, its own {n:.0f} runs; median, "
                                     "min, max), s", [low, med, high], aim="< 2 s", met=med < 2.0, fmt="{:.2f}")]
        elif codes and codes[-1] == 0 and not repeat_inside:
            figures = [common.Figure("bench/report.py wall time (process start included), s", walls, fmt="{:.2f}")]
    state = f"exit {'/'.join(map(str, codes))}, {sum(walls):.0f} s" + (f", {len(figures)} figures" if figures else "")
    return state, figures


# --- figures of this script -------------------------------------------------------------------

def live_figures(live: list[dict], requests_total: int) -> list[common.Figure]:
    out = [
        common.Figure("emergency submit → on-call alert accepted by aiosmtpd, ms", [r["alert_ms"] for r in live],
                      "SMTP hand-off by smtplib, ms", [r["smtp_floor_ms"] for r in live]),
        common.Figure("emergency submit → 201, ms", [r["answer_ms"] for r in live]),
    ]
    bare = [r["bare_rss"] for r in live]
    for role_key, label in (("web", "gunicorn"), ("worker", "celery")):
        for role in sorted(live[0]["warm"][role_key]):
            warm = [r["warm"][role_key].get(role, float("nan")) for r in live]
            after = [r["after"][role_key].get(role, float("nan")) for r in live]
            out.append(common.Figure(f"RSS {label} {role}, after warm-up, MB", warm,
                                     "bare Python + django.setup(), MB", bare))
            out.append(common.Figure(f"RSS {label} {role}, after {requests_total:,} requests, MB", after,
                                     "bare Python + django.setup(), MB", bare))
            growth = [a - w for a, w in zip(after, warm, strict=True)]
            out.append(common.Figure(f"RSS growth {label} {role}, MB", growth, aim="no growth (< 5 MB)",
                                     met=common.median(growth) < 5.0, fmt="{:.2f}"))
    out.append(common.Figure(f"{requests_total:,} requests (healthz + 1 POST in 50), errors",
                             [float(r["hammer_errors"]) for r in live], aim="0",
                             met=max(r["hammer_errors"] for r in live) == 0, fmt="{:.0f}"))
    return out


def big_figures(big: list[dict]) -> list[common.Figure]:
    return [common.Figure(f"transparency report (transparency_rows, {big[0]['rows_in_report']:,} rows in the year), ms",
                          [r["report_ms"] for r in big], "COUNT(*) of the same rows, ms", [r["count_ms"] for r in big],
                          aim="< 2,000 ms", met=common.median(r["report_ms"] for r in big) < 2000, fmt="{:.0f}")]


# --- report -------------------------------------------------------------------------------------

ORDER = ("intake", "pipeline", "rules", "admin_queue", "audit_contention", "profile_submission", "report",
         "run_all: SMTP and RSS", "run_all: transparency report")


def report(figures: dict[str, list[common.Figure]], live: list[dict], big: list[dict], args: argparse.Namespace,
           ran: dict[str, str], took: float) -> str:
    title = ("## All benchmarks (`make bench` = `bench/run_all.py`)" if args.section == "run_all"
             else f"## `bench/run_all.py`, partial run ({args.section})")
    lines = [title, "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}. "
             f"{common.tree_state()}. Wall time {took:.0f} s (load average at the end "
             f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: other users' work shares the machine).", "",
             f"```\n.venv/bin/python bench/run_all.py --runs {args.runs} --rows {args.rows} --requests "
             f"{args.requests} --big-budget {args.big_budget:g}" + (" --quick" if args.quick else "")
             + (f" --skip {args.skip}" if args.skip else "") + "\n```", "",
             *(["**Reduced sizes (`--quick`)**: shorter load windows and fewer samples than `make bench`; the "
                "same figures, floors and runs.", ""] if args.quick else []),
             "What ran (each script repeated itself and wrote its own section of this file, with details):", ""]
    lines += [f"- `{name}`: {state}" for name, state in ran.items()]
    lines += ["", "Every figure: median (min–max) over the runs (each run's value is its own median over its "
              "samples); the floor is measured in the same run, and the ratio is taken within each run. "
              "\"aim\" is the issue's target, judged on the median.", ""]
    rows = []
    for source in ORDER:
        for figure in figures.get(source, []):
            rows.append([source, *figure.row()])
    lines += [common.table(["from", *common.FIGURE_HEADERS], rows), ""]
    if live:
        lines.append(f"SMTP and RSS: {args.requests:,} requests per run = GET /healthz with one intake POST in 50 "
                     f"(validated by the worker), 8 client threads, {spread([r['hammer_s'] for r in live])} s per "
                     f"run. {args.emergencies} emergencies per run after 2 warm-up ones, one at a time; the alert "
                     "is `alert.emergency` to ON_CALL_EMAILS through the outbox, `send_notifications` and Django's "
                     "SMTP backend to aiosmtpd on loopback.")
        lines.append("")
    if big:
        database = os.environ.get("BENCH_ADMIN_DB", "lrp_bench_admin")
        lines.append(f"Transparency report: {big[0]['rows_total']:,} requests in `{database}` "
                     f"({big[0]['rows_in_report']:,} received in the last 365 days, {big[0]['report_rows']} rows of "
                     "output); `requests_app.reports.transparency_rows` called once per run in a fresh process, "
                     "after one warm COUNT.")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip", default="",
                        help="comma-separated parts not to run: " + ",".join([*SCRIPTS, *GUESTS, "live", "big"]))
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the admin queue's database")
    parser.add_argument("--emergencies", type=int, default=10)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--big-budget", type=float, default=200.0,
                        help="no further transparency-report run after this many seconds (default 200)")
    parser.add_argument("--no-write", action="store_true", help="leave bench/RESULTS.md alone (every script)")
    parser.add_argument("--section", default="run_all",
                        help="the section of bench/RESULTS.md to write (default run_all; another name keeps it, e.g. "
                             "for a partial run with --skip)")
    parser.add_argument("--quick", action="store_true",
                        help="reduced windows and samples (same figures, same runs); use with --requests 2000")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    started = time.perf_counter()
    skip = {s for s in args.skip.split(",") if s}
    ran: dict[str, str] = {}
    figures: dict[str, list[common.Figure]] = {}
    work = Path(tempfile.mkdtemp(prefix="lrp_run_all_"))
    for name, argv in (QUICK if args.quick else SCRIPTS).items():
        if name in skip:
            ran[name] = "skipped (--skip)"
            continue
        extra = ["--rows", str(args.rows)] if name == "admin_queue" else []
        ran[name], figures[name] = run_script(name, [*argv, *extra], args.runs, work, args.no_write)
        print(f"== {name}: {ran[name]}", flush=True)
    for name, argv in GUESTS.items():
        if name in skip:
            ran[name] = "skipped (--skip)"
            continue
        ran[name], figures[name] = run_guest(name, argv, args.runs, work, args.no_write)
        print(f"== {name}: {ran[name]}", flush=True)
    common.setup()
    common.ensure_database()
    live: list[dict] = []
    if "live" not in skip:
        t = time.perf_counter()
        for run in range(args.runs):
            live.append(live_run(run, args.emergencies, args.requests))
            print(f"run {run + 1}: alert {live[-1]['alert_ms']:.1f} ms, floor {live[-1]['smtp_floor_ms']:.2f} ms",
                  flush=True)
        figures["run_all: SMTP and RSS"] = live_figures(live, args.requests)
        ran["run_all: SMTP and RSS"] = f"{args.runs} runs, {time.perf_counter() - t:.0f} s"
    big: list[dict] = []
    if figures.get("report"):
        ran["run_all: transparency report"] = "skipped: bench/report.py measured the report"
    elif "big" not in skip:
        t = time.perf_counter()
        for run in range(args.runs):
            big.append(big_table_run())
            print(f"big table run {run + 1}: {big[-1]}", flush=True)
            if time.perf_counter() - t > args.big_budget:
                break  # the in-process report is slow at 1M rows: keep make bench bounded
        figures["run_all: transparency report"] = big_figures(big)
        ran["run_all: transparency report"] = (f"{len(big)} runs, {time.perf_counter() - t:.0f} s"
                                               + (f" (stopped after {args.big_budget:g} s)" if len(big) < args.runs
                                                  else ""))
    body = report(figures, live, big, args, ran, time.perf_counter() - started)
    print(body)
    if not args.no_write:
        common.write_section(args.section, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
