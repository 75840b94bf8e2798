"""Shared plumbing of bench/intake.py and bench/pipeline.py.

Database ``lrp_bench`` and Redis DB 14 (bench/settings.py), process groups that are always
killed on exit, wrk runs with their output parsed, CPU accounting from /proc, and the
RESULTS.md section writer. Import ``setup()`` first: it puts the repository on sys.path and
starts Django with ``bench.settings``. The in-process benchmarks over 1M rows (bench/admin_queue.py,
bench/report.py) call ``setup_portal()`` instead: ``portal.settings`` on a database of their own.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
SETTINGS = "bench.settings"
HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_PORT", "18765"))
BASE_URL = f"http://{HOST}:{PORT}"
DB_NAME = os.environ.get("BENCH_DB", "lrp_bench")
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_BENCH_DSN = f"host=127.0.0.1 port=5432 user=postgres dbname={DB_NAME}"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ADMIN_DB_NAME = os.environ.get("BENCH_ADMIN_DB", "lrp_bench_admin")
LOG_DIR = Path(tempfile.gettempdir()) / "lrp_bench_logs"
RESULTS = ROOT / "bench" / "RESULTS.md"


def setup() -> None:
    """sys.path and Django for a script run as ``.venv/bin/python bench/NAME.py``."""
    repository_on_path()
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ.update(bench_env())
    import django

    import bench.settings  # noqa: F401  (fills the environment defaults before anything reads them)

    django.setup()


def repository_on_path() -> None:
    """The repository's packages importable, and run from its root. A script's own folder
    (``bench/``) leaves sys.path: it holds bench/rules.py, which would shadow the ``rules`` package."""
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)


# --- Django in-process over a 1M-row database (bench/admin_queue.py, bench/report.py) ----------

# The production settings with DEBUG off (no query log, the real templates and middleware), the
# test Client's host allowed: pages are requested in-process, as a person's browser would get them.
PORTAL_ENV = {"DJANGO_SETTINGS_MODULE": "portal.settings", "DJANGO_ENV": "development", "DEBUG": "false",
              "ALLOWED_HOSTS": "testserver,127.0.0.1", "LOG_LEVEL": "WARNING"}


def create_database(name: str, template: str = "", attempts: int = 30) -> bool:
    """Create PostgreSQL database ``name`` unless it exists (True when created). With ``template``
    it is a copy of that database, which PostgreSQL allows only while nobody else is connected to
    the template (other benchmarks read it): retried every 10 s, ``attempts`` times."""
    import psycopg

    create = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        for attempt in range(1, attempts + 1):
            try:
                conn.execute(create)
                return True
            except psycopg.errors.ObjectInUse:
                if not template or attempt == attempts:
                    raise
                time.sleep(10)
    return False


def setup_portal(database: str, *, var_dir: str, template: str = "") -> None:
    """Django on ``portal.settings`` (PORTAL_ENV) over PostgreSQL database ``database``, created if
    missing (a copy of ``template`` when given) and migrated; files under ``var_dir``."""
    os.environ.update(PORTAL_ENV, DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
                      PORTAL_VAR_DIR=var_dir)
    Path(var_dir, "static").mkdir(parents=True, exist_ok=True)
    repository_on_path()
    if create_database(database, template):
        print(f"created database {database}" + (f" as a copy of {template}" if template else ""))
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True,
                   env=os.environ.copy())
    import django

    django.setup()


def bench_env() -> dict[str, str]:
    """The bench's own database and Redis DB: a developer's DATABASE_URL or REDIS_URL must not leak in."""
    return {"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}", "CACHE_URL": REDIS_URL,
            "CELERY_BROKER_URL": REDIS_URL, "REDIS_URL": REDIS_URL}


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(bench_env())
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    return env


# --- services ---------------------------------------------------------------------------------


def ensure_database() -> None:
    """Create ``lrp_bench`` if absent, migrate it, and empty Redis DB 14."""
    import psycopg
    import redis

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            print(f"creating database {DB_NAME}")
            conn.execute(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([str(BIN / "python"), "manage.py", "migrate", "--no-input", "-v", "0", f"--settings={SETTINGS}"],
                   cwd=ROOT, env=child_env(), check=True)
    redis.Redis.from_url(REDIS_URL).flushdb()


def seed_token() -> str:
    """A verified authority, an officer and a fresh API token; returns the raw token."""
    from accounts.models import Authority, User
    from accounts.services import authority_create, officer_create, token_issue

    authority = Authority.objects.filter(name="Bench authority").first()
    if authority is None:
        authority = authority_create(name="Bench authority", country="FR", authority_type="other_competent",
                                     domains=["bench.example.fr"], switchboard_phone="+33100000000")
    user = User.objects.filter(email="officer@bench.example.fr").first()
    if user is None:
        user = officer_create(authority=authority, email="officer@bench.example.fr")
    if getattr(user, "approval_status", "approved") != "approved":
        # Created before officers needed an approval: approve the bench officer directly.
        from django.utils import timezone

        User.objects.filter(pk=user.pk).update(approval_status="approved", approved_at=timezone.now())
        user.refresh_from_db()
    _, raw = token_issue(user=user, name="bench")
    return raw


def epoc_body_json() -> str:
    """The test suite's valid EPOC (three targets), as JSON."""
    from django.core.serializers.json import DjangoJSONEncoder

    from tests.conftest import epoc_body

    return json.dumps(epoc_body(), cls=DjangoJSONEncoder)


def close_db() -> None:
    from django.db import connections

    connections.close_all()


# --- process groups ---------------------------------------------------------------------------

_GROUPS: list[ProcGroup] = []


class ProcGroup:
    """A command in its own session; ``stop()`` signals the whole group."""

    def __init__(self, name: str, argv: Sequence[str]) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOG_DIR / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(list(argv), cwd=ROOT, env=child_env(), stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        _GROUPS.append(self)

    @property
    def pgid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        if self in _GROUPS:
            _GROUPS.remove(self)
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(self.pgid):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=0.1)
            if not _group_alive(self.pgid):
                break
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=1)
        self._log.close()

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _group_alive(pgid: int) -> bool:
    return bool(pids_of_group(pgid))


def stop_all() -> None:
    for group in list(reversed(_GROUPS)):
        group.stop()


def _on_signal(signum: int, frame: Any) -> None:
    stop_all()
    raise SystemExit(128 + signum)


atexit.register(stop_all)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def port_free(port: int = PORT) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) != 0


# The processes are measured as the Procfile starts them (docs/operations.md: production runs the
# same commands under a supervisor): their command lines are read from the Procfile, so a flag
# added there is measured here too, and only these deliberate differences remain, each printed
# with the figures (``process_lines``):
# - the address (``BENCH_PORT``) and the number of gunicorn workers / Celery children, which are
#   the bench's own parameters;
# - ``--access-logfile -``: the Procfile prints every request for the developer's console; a
#   production node behind the TLS-terminating proxy logs requests there (docs/operations.md),
#   and one line per request written to a pipe nobody reads would be a bench artifact.
PROCFILE = ROOT / "Procfile"
OMITTED_FLAGS = {"--access-logfile": "requests are logged at the TLS proxy in production (docs/operations.md)"}


def procfile_command(process: str) -> list[str]:
    """The Procfile's command of ``process`` ("web", "worker"), split as the shell would."""
    import shlex

    for line in PROCFILE.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() == process:
            return shlex.split(command)
    raise SystemExit(f"the Procfile has no {process!r} process")


def _set_option(args: list[str], names: Sequence[str], value: str) -> list[str]:
    """``args`` with the value of the option spelt by one of ``names`` set (appended if absent)."""
    out = list(args)
    for index, arg in enumerate(out):
        if arg in names and index + 1 < len(out):
            out[index + 1] = value
            return out
    return [*out, names[0], value]


def _without_options(args: list[str], names: Iterable[str]) -> list[str]:
    """``args`` without the options in ``names`` and their values."""
    names, out, skip = set(names), [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in names:
            skip = True
        else:
            out.append(arg)
    return out


def gunicorn_command(workers: int) -> list[str]:
    args = procfile_command("web")
    args = _set_option(args, ["--bind", "-b"], f"{HOST}:{PORT}")
    args = _set_option(args, ["--workers", "-w"], str(workers))
    args = _without_options(args, OMITTED_FLAGS)
    return [str(BIN / args[0]), *args[1:], "--chdir", str(ROOT)]


def celery_command(concurrency: int) -> list[str]:
    args = _set_option(procfile_command("worker"), ["--concurrency", "-c"], str(concurrency))
    return [str(BIN / args[0]), *args[1:]]


def process_lines(workers: int, concurrency: int | None = None) -> str:
    """The command lines measured, for the RESULTS.md text: the Procfile's, with what differs."""
    def shown(command: list[str]) -> str:
        return " ".join([Path(command[0]).name, *(a if a != str(ROOT) else "." for a in command[1:])])

    lines = [f"`{shown(gunicorn_command(workers))}`"]
    if concurrency is not None:
        lines.append(f"`{shown(celery_command(concurrency))}`")
    omitted = "; ".join(f"`{flag}` left out: {why}" for flag, why in OMITTED_FLAGS.items())
    return f"{' + '.join(lines)} (the Procfile's lines with the bench's address and process counts; {omitted})"


def start_gunicorn(workers: int, name: str = "gunicorn") -> ProcGroup:
    if not port_free():
        raise SystemExit(f"port {PORT} is busy: set BENCH_PORT to a free port")
    group = ProcGroup(name, gunicorn_command(workers))
    wait_http(group, f"{BASE_URL}/healthz")
    return group


def start_celery(concurrency: int = 2) -> ProcGroup:
    """The Procfile's worker line, on bench.settings."""
    return ProcGroup("celery", celery_command(concurrency))


def wait_http(group: ProcGroup, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not group.alive():
            raise SystemExit(f"{group.name} exited:\n{group.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{group.name} did not answer {url} within {timeout:.0f} s:\n{group.tail()}")


# --- CPU accounting from /proc ----------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def pids_of_group(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _proc_stat(int(entry))
        if stat is not None and stat[1] == pgid:
            pids.append(int(entry))
    return pids


def _proc_stat(pid: int) -> tuple[str, int, float] | None:
    """(comm, pgid, utime+stime in seconds) of one process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2:].split()
    # rest[0] is field 3 (state): pgrp is field 5, utime 14, stime 15.
    return comm, int(rest[2]), (int(rest[11]) + int(rest[12])) / CLK_TCK


def machine_busy() -> tuple[float, float]:
    """(busy seconds, total seconds) summed over all CPUs since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def _postgres_db(pid: int) -> str:
    """The database of a PostgreSQL backend ("" for the server's own processes)."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
    match = re.match(r"postgres: [^:]+: (\S+) (\S+) ", title)
    return match.group(2) if match else ""


def cpu_snapshot(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far per process, keyed "category/pid": the named process groups (by
    pgid), our PostgreSQL, Redis, this client (with wrk); plus the machine's busy and total
    time. ``cpu_delta`` turns two snapshots into per-category figures."""
    out: dict[str, float] = {}
    by_pgid = {pgid: name for name, pgid in groups.items()}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _proc_stat(int(entry))
        if stat is None:
            continue
        comm, pgid, cpu = stat
        if pgid in by_pgid:
            category = by_pgid[pgid]
        elif comm == "postgres" and _postgres_db(int(entry)) in ("", DB_NAME):
            category = "postgres"
        elif comm.startswith("redis-server"):
            category = "redis"
        elif int(entry) == me or comm == "wrk":
            category = "bench client"
        else:
            continue
        out[f"{category}/{entry}"] = cpu
    for name in [*groups, "postgres", "redis", "bench client"]:
        out.setdefault(f"{name}/0", 0.0)
    busy, total = machine_busy()
    out["machine"] = busy
    out["machine total"] = total
    return out


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds per category between two snapshots, plus "other": machine busy time not
    explained by our processes (other users' work). A process that exits in between is lost
    from its category and shows up in "other"."""
    delta = {"machine": after["machine"] - before["machine"],
             "machine total": after["machine total"] - before["machine total"]}
    for key, value in after.items():
        if "/" not in key:
            continue
        category = key.split("/", 1)[0]
        delta[category] = delta.get(category, 0.0) + max(0.0, value - before.get(key, 0.0))
    ours = sum(v for k, v in delta.items() if k not in ("machine", "machine total"))
    delta["other"] = max(0.0, delta["machine"] - ours)
    return delta


def other_share(delta: dict[str, float]) -> float:
    """Share of the machine's capacity used by processes that are not part of the benchmark."""
    return delta["other"] / delta["machine total"] if delta.get("machine total") else 0.0


def own_cpu_ms(delta: dict[str, float], requests: int) -> float:
    """Machine CPU per request spent by the benchmark's own processes (load generator included)."""
    if not requests:
        return float("nan")
    return (delta["machine"] - delta.get("other", 0.0)) * 1000 / requests


def capacity(own_ms: float) -> float:
    """Requests/s the cores could carry at this CPU cost per request if nothing else ran."""
    return (os.cpu_count() or 1) * 1000 / own_ms if own_ms and own_ms == own_ms else float("nan")


_quiet_budget = [float(os.environ.get("BENCH_QUIET_BUDGET", "60"))]


def wait_quiet(groups: dict[str, int] | None = None, threshold: float = 0.10, max_wait: float = 15.0) -> float:
    """Wait (within a per-script budget) until other users' processes leave the cores mostly
    idle; returns their share over the last second. The machine is shared."""
    deadline = time.monotonic() + min(max_wait, _quiet_budget[0])
    started = time.monotonic()
    while True:
        before = cpu_snapshot(groups or {})
        time.sleep(1.0)
        share = other_share(cpu_delta(before, cpu_snapshot(groups or {})))
        if share < threshold or time.monotonic() >= deadline:
            break
    _quiet_budget[0] = max(0.0, _quiet_budget[0] - (time.monotonic() - started - 1.0))
    return share


# --- wrk ----------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    non_2xx: int = 0
    socket_errors: int = 0
    raw: str = ""
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    result = WrkResult(raw=output)
    if m := re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output):
        result.requests = int(m.group(1))
        result.seconds = _ms(m.group(2) + m.group(3)) / 1000
    if m := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result.rps = float(m.group(1))
    for pct, attr in (("50", "p50_ms"), ("90", "p90_ms"), ("99", "p99_ms")):
        if m := re.search(rf"^\s+{pct}%\s+(\S+)", output, re.MULTILINE):
            setattr(result, attr, _ms(m.group(1)))
    if m := re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output):
        result.max_ms = _ms(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        result.non_2xx = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        result.socket_errors = sum(int(x) for x in m.groups())
    return result


def lua_script(*, method: str, body: str | None = None, token: str | None = None) -> Path:
    """A wrk script setting the method, the JSON body and the bearer token."""
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        if "]==]" in body:
            raise ValueError("body cannot be embedded in a Lua long string")
        lines += [f"wrk.body = [==[{body}]==]", 'wrk.headers["Content-Type"] = "application/json"']
    if token is not None:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="lrp_bench_", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
    return Path(handle.name)


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found: installing it with apt-get (Debian package wrk)")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, stdout=subprocess.DEVNULL)
        path = shutil.which("wrk")
        if path is None:
            subprocess.run(["apt-get", "update", "-q"], check=False, stdout=subprocess.DEVNULL)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, stdout=subprocess.DEVNULL)
            path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")
    return path


def run_wrk(url: str, *, connections: int, seconds: float, script: Path | None = None,
            groups: dict[str, int] | None = None, threads: int = 2) -> WrkResult:
    argv = [ensure_wrk(), f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds:g}s", "--latency",
            "--timeout", "5s"]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(url)
    before = cpu_snapshot(groups or {})
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=False)
    after = cpu_snapshot(groups or {})
    if proc.returncode != 0:
        raise SystemExit(f"wrk failed ({proc.returncode}): {proc.stderr}")
    result = parse_wrk(proc.stdout)
    result.cpu = cpu_delta(before, after)
    return result


# --- statistics and output ----------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def spread(values: Iterable[float], fmt: str = "{:.1f}") -> str:
    """``median (min–max)`` of one figure over repeated runs ("–" when there is none)."""
    vals = [float(v) for v in values if v == v]  # nan = not measured in that run
    if not vals:
        return "–"
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(min(vals))}–{fmt.format(max(vals))})"


def median(values: Iterable[float]) -> float:
    vals = [float(v) for v in values if v == v]
    return statistics.median(vals) if vals else float("nan")


@dataclass
class Figure:
    """One figure of `make bench`: its value in each run and the floor measured in the same runs.

    ``values[i]`` and ``floor_values[i]`` come from run ``i``, so the ratio is taken per run and then
    summarised like the rest: median (min–max). ``aim`` is the issue's target in words; ``met``
    the verdict on the median (None when the figure has no aim)."""

    name: str
    values: list[float]
    floor: str = ""
    floor_values: list[float] = field(default_factory=list)
    aim: str = ""
    met: bool | None = None
    fmt: str = "{:.1f}"
    source: str = ""

    def ratios(self) -> list[float]:
        return [v / f for v, f in zip(self.values, self.floor_values, strict=False) if f and f == f and v == v]

    def row(self) -> list[str]:
        verdict = "" if self.met is None else (" — met" if self.met else " — MISSED")
        return [self.name, spread(self.values, self.fmt), self.floor or "–",
                spread(self.floor_values, self.fmt) if self.floor_values else "–",
                spread(self.ratios(), "{:.2f}×") if self.floor_values else "–",
                str(len([v for v in self.values if v == v])), (self.aim + verdict) if self.aim else "–"]


FIGURE_HEADERS = ["figure", "median (min–max)", "floor (same run)", "floor median (min–max)", "ratio", "runs",
                  "aim"]


def figures_table(figures: Iterable[Figure]) -> str:
    return table(FIGURE_HEADERS, [f.row() for f in figures])


def dump_figures(path: str | Path | None, source: str, figures: Iterable[Figure]) -> None:
    """Write the figures as JSON for bench/run_all.py (``--json PATH`` of every benchmark)."""
    if not path:
        return
    out = []
    for figure in figures:
        figure.source = figure.source or source
        out.append({k: (None if isinstance(v, float) and v != v else v) for k, v in figure.__dict__.items()})
    Path(path).write_text(json.dumps({"source": source, "figures": out}, indent=1))


def load_figures(path: str | Path) -> list[Figure]:
    data = json.loads(Path(path).read_text())
    figures = []
    for raw in data["figures"]:
        raw["values"] = [float("nan") if v is None else v for v in raw["values"]]
        raw["floor_values"] = [float("nan") if v is None else v for v in raw.get("floor_values", [])]
        figures.append(Figure(**raw))
    return figures


def add_run_args(parser: Any, runs: int = 3) -> None:
    """``--runs`` (repetitions, each with its own floor) and ``--json`` for every benchmark."""
    parser.add_argument("--runs", type=int, default=runs, help=f"repetitions, each with its floor (default {runs})")
    parser.add_argument("--json", default="", help="also write the figures as JSON here (bench/run_all.py)")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (readable as plain text too)."""
    text_rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text_rows)) if text_rows else len(h) for i, h in enumerate(headers)]
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in text_rows]
    return "\n".join(out)


def machine_summary() -> str:
    cpu = "unknown CPU"
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return (f"{os.cpu_count()} vCPU ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB RAM, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def tree_state() -> str:
    """The commit measured, and whether the work tree had uncommitted changes (read-only git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {head}" + (f" plus {len(dirty)} uncommitted changed files" if dirty else "")


def versions() -> str:
    import celery
    import django
    import gunicorn
    import rest_framework

    pg = "?"
    try:
        import psycopg

        with psycopg.connect(PG_BENCH_DSN) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            pg = str(row[0]) if row else "?"
    except Exception:  # the version line is informative only
        pass
    return (f"Django {django.get_version()}, DRF {rest_framework.VERSION}, Celery {celery.__version__}, "
            f"gunicorn {gunicorn.__version__}, PostgreSQL {pg}")


RESULTS_HEADER = """# Benchmark results

Measured by the scripts in `bench/` on the project machine; each section is rewritten by its own
script. `make bench` (`bench/run_all.py`) runs every script with `--runs 3`: each figure is the
median (min–max) over the runs, with the floor it is compared to measured in the same run (ratios
are taken within each run), and the "run_all" section gathers every figure in one table with the
machine. `make load` writes the "load" section. The machine is shared with other engineers' work:
read the "others' CPU" columns and the load averages, and compare ratios rather than absolute
figures with the reference (/work/shared/reference/performance.md).
"""

SECTION_ORDER = ("intake", "pipeline", "rules")


def write_section(name: str, body: str) -> None:
    """Replace (or add) the ``<!-- section: name -->`` block of bench/RESULTS.md, keeping the others."""
    text = RESULTS.read_text() if RESULTS.exists() else RESULTS_HEADER
    begin, end = f"<!-- section: {name} -->", f"<!-- /section: {name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        # Keep the sections in a fixed order: insert before the first later section present.
        later = [f"<!-- section: {n} -->" for n in SECTION_ORDER[SECTION_ORDER.index(name) + 1:]] \
            if name in SECTION_ORDER else []
        positions = [text.index(m) for m in later if m in text]
        if positions:
            at = min(positions)
            text = text[:at] + block + "\n\n" + text[at:]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)
