"""What a real gunicorn worker spends per submission: instructions (callgrind) or Python (cProfile).

    .venv/bin/python bench/web_worker_profile.py [--n 30] [--warm 10] [--callgrind] [--cprofile FILE]
                                                 [--path /api/v1/requests/ | --ping]

Starts one gunicorn sync worker (``-w 1``) on bench.settings, as bench/common.py does, and sends
``--warm`` submissions (the worker's first-request work), then ``--n`` more, one at a time, from
this process (http.client, one connection per request: a sync worker closes it after each).

* ``--callgrind``: gunicorn runs under ``valgrind --tool=callgrind`` twice, with PYTHONHASHSEED=0:
  once for ``--warm`` requests, once for ``--warm`` + ``--n``; the worker's instructions (its own
  output file, written when it exits: valgrind follows the fork into a process of its own) of the
  second run less the first, over ``--n``: instructions per request of the real worker, user space
  only, repeatable on a shared machine. (``callgrind_control`` cannot reach a forked worker: vgdb
  creates its pipes for the parent only, which is why an earlier attempt counted 0.) Compare with
  ``bench/profile_submission.py --callgrind`` (the same POST through Django's test Client in process).
* ``--cprofile FILE``: a gunicorn config (this file's ``post_request`` hook, loaded with ``-c``)
  profiles the ``--n`` requests after the warm-up in the worker and writes the pstats to FILE.
* Without either: CPU ms (utime + stime from /proc) of the worker per request, and of its PostgreSQL
  backend.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != str(Path(__file__).resolve().parent)]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


# --- gunicorn config hooks (this module loaded with ``gunicorn -c``) ---------------------------
_seen = [0]
_profiler: list[Any] = []


def post_request(worker, req, environ, resp) -> None:  # type: ignore[no-untyped-def]
    """After the warm-up, profile ``BENCH_PROFILE_N`` requests and write them to ``BENCH_PROFILE_OUT``."""
    out = os.environ.get("BENCH_PROFILE_OUT")
    if not out:
        return
    import cProfile

    warm, n = int(os.environ["BENCH_PROFILE_WARM"]), int(os.environ["BENCH_PROFILE_N"])
    _seen[0] += 1
    if _seen[0] == warm:
        profiler = cProfile.Profile(time.process_time)
        _profiler.append(profiler)
        profiler.enable()
    elif _seen[0] == warm + n:
        _profiler[0].disable()
        _profiler[0].dump_stats(out)


# --- the driver ------------------------------------------------------------------------------


def cpu(pid: int) -> tuple[float, float]:
    """(utime, stime) of one process, in seconds."""
    from bench import common

    raw = Path(f"/proc/{pid}/stat").read_text()
    rest = raw[raw.rindex(")") + 2:].split()
    return int(rest[11]) / common.CLK_TCK, int(rest[12]) / common.CLK_TCK


def send(path: str, method: str, token: str, body: bytes, *, expect: int) -> None:
    from bench import common

    conn = http.client.HTTPConnection(common.HOST, common.PORT, timeout=600)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"} if method == "POST" else {}
    conn.request(method, path, body=body if method == "POST" else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status != expect:
        raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")


def run(common, args, method: str, path: str, token: str, body: bytes, out_dir: Path,  # type: ignore[no-untyped-def]
        n: int) -> int:
    """One gunicorn (one worker): the warm-up, then ``n`` requests; the worker's instruction count
    under callgrind (0 without), or its CPU per request printed."""
    argv = [str(common.BIN / "gunicorn"), "portal.wsgi", "-k", "sync", "-w", "1", "-b", f"{common.HOST}:{common.PORT}",
            "--chdir", str(common.ROOT), "--log-level", "warning", "--timeout", "900", "--graceful-timeout", "30"]
    if args.callgrind:
        for old in out_dir.glob("web.callgrind.*"):
            old.unlink()
        argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_dir}/web.callgrind.%p", *argv]
    if args.cprofile:
        argv += ["-c", str(Path(__file__).resolve())]
    group = common.ProcGroup("gunicorn-profile", argv)
    common.wait_http(group, f"{common.BASE_URL}/healthz", timeout=900 if args.callgrind else 30)
    workers = [pid for pid in common.pids_of_group(group.pgid) if pid != group.pgid]
    assert len(workers) == 1, workers
    worker = workers[0]
    for _ in range(args.warm):
        send(path, method, token, body, expect=201 if method == "POST" else 200)
    before = cpu(worker)
    t0 = time.monotonic()
    for _ in range(n):
        send(path, method, token, body, expect=201 if method == "POST" else 200)
    wall = time.monotonic() - t0
    after = cpu(worker)
    if not args.callgrind and n:
        print(f"worker {worker}: utime {(after[0] - before[0]) * 1000 / n:.2f} ms + stime "
              f"{(after[1] - before[1]) * 1000 / n:.2f} ms per request, wall {wall * 1000 / n:.1f} ms")
    group.stop(grace=120)
    if not args.callgrind:
        return 0
    dump = out_dir / f"web.callgrind.{worker}"
    for _ in range(600):
        if dump.exists() and "totals:" in dump.read_text(errors="replace"):
            break
        time.sleep(0.2)
    text = dump.read_text(errors="replace")
    return int(next(line.split()[1] for line in text.splitlines() if line.startswith(("summary:", "totals:"))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--cprofile", default="", metavar="FILE")
    parser.add_argument("--ping", action="store_true", help="GET /bench/ping/ (the web floor) instead of the POST")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    from bench import common

    common.setup()
    common.ensure_database()
    token = common.seed_token()
    body = common.epoc_body_json().encode()
    common.close_db()
    method, path = ("GET", "/bench/ping/") if args.ping else ("POST", "/api/v1/requests/")

    out_dir = Path(os.environ.get("CALLGRIND_DIR", common.LOG_DIR))
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.cprofile:
        os.environ.update(BENCH_PROFILE_OUT=str(Path(args.cprofile).resolve()), BENCH_PROFILE_WARM=str(args.warm),
                          BENCH_PROFILE_N=str(args.n))
    if args.callgrind:
        os.environ["PYTHONHASHSEED"] = "0"
        counts = [run(common, args, method, path, token, body, out_dir, n) for n in (0, args.n)]
        per = (counts[1] - counts[0]) / args.n
        print(f"callgrind, real gunicorn worker: {per / 1e6:.2f} M instructions per request ({method} {path}; "
              f"worker totals {counts[0] / 1e6:.1f} M after {args.warm} warm-up requests, {counts[1] / 1e6:.1f} M "
              f"after {args.n} more)")
    else:
        run(common, args, method, path, token, body, out_dir, args.n)
    if args.cprofile:
        import pstats

        stats = pstats.Stats(args.cprofile)
        stats.strip_dirs().sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
