"""CPU per request of each real process, against the floors of the same processes.

    .venv/bin/python bench/process_overhead.py [--rate 20] [--seconds 15] [--repeat 2]
                                               [--profile DIR] [--only submit,ping,noop]

Starts the stack as bench/pipeline.py does (gunicorn and the Procfile's Celery worker on
bench.settings), then, at a steady open-loop ``--rate`` for ``--seconds`` each:

* ``submit``: ``POST /api/v1/requests/`` (the EPOC of the tests): the pipeline's request;
* ``ping``: ``GET /bench/ping/`` (floor 1: the middleware stack, no DRF, no database): the web floor;
* ``noop``: the built-in ``celery.accumulate`` task published straight to the broker from this
  process: the worker's floor (consume, hand to a pool child, run nothing, ack, log).

and prints CPU ms per request for each process: the gunicorn master and workers, the Celery
parent (consumer) and its pool children, PostgreSQL backends of the bench database, Redis.
``--profile DIR`` also runs ``py-spy record --nonblocking`` (raw collapsed stacks) on one gunicorn
worker, the Celery parent and one pool child during each ``submit`` step (py-spy must be
installed: ``.venv/bin/pip install py-spy``; it is a development tool, not a requirement).
The in-process cost of the same submission is bench/profile_submission.py's business.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.pipeline import open_loop, wait_drained


def roles(groups: dict[str, int]) -> dict[int, str]:
    """pid -> role ("gunicorn master", "gunicorn worker", "celery parent", "celery child")."""
    out: dict[int, str] = {}
    for name, pgid in groups.items():
        for pid in common.pids_of_group(pgid):
            if name == "gunicorn":
                out[pid] = "gunicorn master" if pid == pgid else "gunicorn worker"
            else:
                out[pid] = "celery parent" if pid == pgid else "celery child"
    return out


def snapshot(pids: dict[int, str]) -> dict[str, float]:
    shot = common.cpu_snapshot({})
    for pid in pids:
        stat = common._proc_stat(pid)
        shot[f"pid/{pid}"] = stat[2] if stat else 0.0
    return shot


def per_role(before: dict[str, float], after: dict[str, float], pids: dict[int, str], n: int) -> dict[str, float]:
    delta = common.cpu_delta(before, after)
    out: dict[str, float] = {}
    for pid, role in pids.items():
        out[role] = out.get(role, 0.0) + max(0.0, after.get(f"pid/{pid}", 0.0) - before.get(f"pid/{pid}", 0.0))
    out["postgres"] = delta.get("postgres", 0.0)
    out["redis"] = delta.get("redis", 0.0)
    out["others (not ours)"] = delta.get("other", 0.0)
    return {k: v * 1000 / max(1, n) for k, v in out.items()}


def publish_noops(rate: float, seconds: float) -> int:
    """``celery.accumulate`` (returns its argument, stores nothing) at ``rate`` per second."""
    from portal.celery import app

    total = int(rate * seconds)
    start = time.monotonic()
    with app.producer_or_acquire() as producer:
        for i in range(total):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            app.send_task("celery.accumulate", args=(i,), producer=producer)
    return total


def get_loop(rate: float, seconds: float, path: str, threads: int = 8) -> tuple[int, int]:
    """GET ``path`` at ``rate`` per second (open loop); (sent, errors)."""
    import http.client
    import itertools
    import threading

    total = int(rate * seconds)
    counter = itertools.count()
    start = time.monotonic() + 0.1
    errors = [0]

    def run() -> None:
        conn = http.client.HTTPConnection(common.HOST, common.PORT, timeout=15)
        while (i := next(counter)) < total:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                conn.close()
                errors[0] += 1
        conn.close()

    pool = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return total, errors[0]


def queue_empty(timeout: float = 60.0) -> None:
    import redis

    queue = redis.Redis.from_url(common.REDIS_URL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and queue.llen("celery"):
        time.sleep(0.1)
    time.sleep(1.0)  # the last tasks finish and are acknowledged


def spy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(common.BIN / "py-spy"), "record", "--nonblocking", "-r", "200", "-d",
                             str(int(seconds)), "-p", str(pid), "-f", "raw", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--only", default="submit,ping,noop")
    parser.add_argument("--profile", default="", help="folder for py-spy raw profiles of the submit steps")
    parser.add_argument("--strace", default="", help="folder for `strace -c` syscall counts of the submit steps")
    args = parser.parse_args()

    common.setup()
    if os.environ.get("BENCH_EXTRA_PYTHONPATH"):  # instrumentation (sitecustomize) for the servers
        base_env = common.child_env
        common.child_env = lambda: {**base_env(), "PYTHONPATH": os.environ["BENCH_EXTRA_PYTHONPATH"] + ":" +
                                    str(common.ROOT)}
    common.ensure_database()
    token = common.seed_token()
    body = common.epoc_body_json().encode()
    common.close_db()
    web = common.start_gunicorn(args.workers)
    worker = common.start_celery(args.concurrency)
    groups = {"gunicorn": web.pgid, "celery": worker.pgid}
    since = dt.datetime.now(dt.UTC)
    open_loop(10, 2, token, body, threads=2)
    get_loop(20, 1, "/bench/ping/")
    publish_noops(20, 1)
    wait_drained(since, 60.0)
    queue_empty()
    pids = roles(groups)
    print("processes:", ", ".join(f"{pid} {role}" for pid, role in sorted(pids.items())), flush=True)
    table: list[tuple[str, dict[str, float]]] = []
    for r in range(1, args.repeat + 1):
        for kind in args.only.split(","):
            common.wait_quiet(groups)
            spies: list[subprocess.Popen[bytes]] = []
            chosen = {"gunicorn-worker": min(p for p, k in pids.items() if k == "gunicorn worker"),
                      "celery-parent": worker.pgid,
                      "celery-child": min(p for p, k in pids.items() if k == "celery child")}
            if kind == "submit" and args.profile:
                folder = Path(args.profile)
                folder.mkdir(parents=True, exist_ok=True)
                spies = [spy(pid, args.seconds, folder / f"{name}-{r}.txt") for name, pid in chosen.items()]
            tracers: list[subprocess.Popen[bytes]] = []
            if args.strace:
                folder = Path(args.strace)
                folder.mkdir(parents=True, exist_ok=True)
                for name, pid in chosen.items():
                    tracers.append(subprocess.Popen(["strace", "-c", "-p", str(pid), "-o",
                                                     str(folder / f"{kind}-{name}-{r}.txt")],
                                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                for other in (p for p, k in pids.items() if k in ("gunicorn worker", "celery child")):
                    if other not in chosen.values():
                        tracers.append(subprocess.Popen(["strace", "-c", "-p", str(other), "-o",
                                                         str(folder / f"{kind}-{pids[other]}-{other}-{r}.txt")],
                                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                time.sleep(0.5)
            since = dt.datetime.now(dt.UTC)
            before = snapshot(pids)
            if kind == "submit":
                sent = open_loop(args.rate, args.seconds, token, body)
                n = sum(s.status == 201 for s in sent)
                wait_drained(since, 60.0)
                time.sleep(1.0)
            elif kind == "ping":
                n, bad = get_loop(args.rate, args.seconds, "/bench/ping/")
                if bad:
                    print(f"ping: {bad} errors")
            else:
                n = publish_noops(args.rate, args.seconds)
                queue_empty()
            after = snapshot(pids)
            for proc in spies:
                proc.wait()
            for proc in tracers:
                proc.send_signal(2)
                proc.wait()
            figures = per_role(before, after, pids, n)
            table.append((f"{kind} #{r} (n={n})", figures))
            print(f"{kind} #{r} n={n}: " + ", ".join(f"{k} {v:.2f}" for k, v in figures.items()), flush=True)
    keys = ["gunicorn master", "gunicorn worker", "celery parent", "celery child", "postgres", "redis",
            "others (not ours)"]
    print()
    print(common.table(["step", *keys], [[name, *(f"{f.get(k, 0.0):.2f}" for k in keys)] for name, f in table]))
    common.stop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
