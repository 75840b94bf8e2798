"""CPU of one submission end to end, in process: the API POST (web side) and the validation task
body (worker side), under cProfile, with the SQL queries of each counted.

    .venv/bin/python bench/profile_submission.py [--n 200] [--top 25]

bench.settings on ``$BENCH_DB`` (default lrp_bench); the POSTs go through Django's test Client
(middleware, DRF, the service, the outbox publish to Redis); then ``request_validate`` runs for
each stored request as the worker would. Prints per-operation CPU and queries, and the top
functions by own time and by cumulative time, for bench/RESULTS.md.
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    common.setup()
    common.ensure_database()
    import contextlib

    from django.db import connection
    from django.test import Client

    @contextlib.contextmanager
    def capture():
        seen: list[str] = []

        def wrapper(execute, sql, params, many, context):
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(wrapper):
            yield seen

    from requests_app.models import LegalRequest
    from requests_app.services.validation import request_validate

    token = common.seed_token()
    body = common.epoc_body_json()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")

    def post() -> str:
        response = client.post("/api/v1/requests/", data=body, content_type="application/json")
        assert response.status_code == 201, response.content[:300]
        return response.json()["reference"]

    for _ in range(5):  # warm-up
        request_validate(request_id=LegalRequest.objects.get(reference=post()).pk)
    with capture() as web_q:
        reference = post()
    pk = LegalRequest.objects.get(reference=reference).pk
    with capture() as task_q:
        request_validate(request_id=pk)

    web_prof, task_prof = cProfile.Profile(), cProfile.Profile()
    references, web_cpu, task_cpu = [], [], []
    for _ in range(args.n):
        t = time.process_time()
        web_prof.enable()
        references.append(post())
        web_prof.disable()
        web_cpu.append((time.process_time() - t) * 1000)
    ids = dict(LegalRequest.objects.filter(reference__in=references).values_list("reference", "pk"))
    for reference in references:
        t = time.process_time()
        task_prof.enable()
        request_validate(request_id=ids[reference])
        task_prof.disable()
        task_cpu.append((time.process_time() - t) * 1000)
    print(f"web: POST /api/v1/requests/ CPU median {statistics.median(web_cpu):.2f} ms "
          f"(min {min(web_cpu):.2f}), {len(web_q)} queries")
    print(f"worker: request_validate CPU median {statistics.median(task_cpu):.2f} ms "
          f"(min {min(task_cpu):.2f}), {len(task_q)} queries")
    print("web queries:")
    for q in web_q:
        print("  ", q[:160])
    print("worker queries:")
    for q in task_q:
        print("  ", q[:160])
    print("=== web, by own time ===\n" + top(web_prof, "tottime", args.top))
    print("=== web, cumulative ===\n" + top(web_prof, "cumulative", args.top))
    print("=== worker, by own time ===\n" + top(task_prof, "tottime", args.top))
    print("=== worker, cumulative ===\n" + top(task_prof, "cumulative", args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
