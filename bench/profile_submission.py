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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--write", action="store_true", help="write the 'profile' section of bench/RESULTS.md")
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
    web_areas, task_areas = buckets(web_prof, args.n), buckets(task_prof, args.n)
    for label, areas in (("web", web_areas), ("worker", task_areas)):
        print(f"{label}: own time by area, ms per operation")
        for area, ms in areas[:10]:
            print(f"   {ms:7.2f}  {area}")
    if args.write:
        rows = []
        for label, areas, cpu, queries in (("web: POST /api/v1/requests/", web_areas, web_cpu, web_q),
                                           ("worker: validate_request body", task_areas, task_cpu, task_q)):
            rows.append(f"**{label}**: CPU median {statistics.median(web_cpu if cpu is web_cpu else task_cpu):.2f} ms "
                        f"(min {min(cpu):.2f}) over {args.n}, {len(queries)} SQL queries. Own time under cProfile "
                        "(profiling inflates Python time ~1.5-2×; compare areas, not totals):")
            rows.append("")
            rows.append(common.table(["ms/op", "area"], [(f"{ms:.2f}", area) for area, ms in areas[:8]]))
            rows.append("")
        common.write_section("profile", "\n".join([
            "## CPU per submission, web + worker (`bench/profile_submission.py`)", "",
            f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {common.machine_summary()}. "
            f"{common.tree_state()}. In process (Django test Client for the POST, then `request_validate` as the "
            "worker runs it), bench.settings on PostgreSQL, the machine shared with other runs.", "",
            f"```\n.venv/bin/python bench/profile_submission.py --n {args.n} --write\n```", "", *rows]))
    print("=== web, by own time ===\n" + top(web_prof, "tottime", args.top))
    print("=== web, cumulative ===\n" + top(web_prof, "cumulative", args.top))
    print("=== worker, by own time ===\n" + top(task_prof, "tottime", args.top))
    print("=== worker, cumulative ===\n" + top(task_prof, "cumulative", args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
