"""The fault rig (issue 16, issue 9 §2): a private redis-server, a gunicorn, a Celery worker
and beat, all subprocesses, on the pytest-django test database (``transactional_db``: the
processes see committed rows only).

The Redis is the rig's own (a free port, no persistence), so a test can stop and restart it
without touching the machine's Redis. The processes run ``portal.test_settings`` (the real
settings with e-mail kept in memory and MFA off; production's HTTPS redirect would get in
the way on loopback), with the sweepers' bounds shortened so that a fault heals within
seconds. Their clock starts at the test's instant and runs (``running_clock``).
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from accounts.services import token_issue
from audit.models import AuditEvent
from audit.trail import verify
from requests_app.models import LegalRequest
from requests_app.states import Status
from tests.conftest import child_clock_env, epoc_body
from tests.e2e_worker.conftest import REPO, Worker, test_database_url

BIN = Path(sys.executable).parent
WORKER_APP = "lrp-resil-worker"
WEB_APP = "lrp-resil-web"
PENDING = {Status.RECEIVED, Status.VALIDATING}

# Short bounds so that every sweeper acts within seconds (the defaults are minutes).
FAST_SWEEPS = {
    "OUTBOX_RESEND_AFTER_SECONDS": "2",
    "STUCK_REQUEST_AFTER_SECONDS": "6",
    "VALIDATION_BELL_TTL_SECONDS": "4",
    "VALIDATION_RING_SWEEP_SECONDS": "2",
    "STUCK_REQUEST_SWEEP_SECONDS": "3",
    "STUCK_EMERGENCY_AFTER_SECONDS": "3",
    "STUCK_EMERGENCY_SWEEP_SECONDS": "2",
    "NOTIFY_STUCK_AFTER_SECONDS": "4",
    "NOTIFY_SWEEP_SECONDS": "2",
    "THROTTLE_CACHE_RETRY_SECONDS": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], bool], limit: float, what: str) -> float:
    """Seconds it took; fails after ``limit``."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > limit:
            pytest.fail(f"timed out after {limit:.0f} s waiting for {what}")
        time.sleep(0.2)
    return time.monotonic() - start


class Redis:
    """A private redis-server on a free port; stop() and start() keep the port."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_dir / "redis.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--logfile", str(self.log_path)], start_new_session=True)
        import redis

        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _ping(client), 10, "the private redis-server")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def _ping(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@dataclass
class Process:
    proc: subprocess.Popen
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


@dataclass
class Rig:
    redis: Redis
    tmp: Path
    env: dict[str, str]
    web_url: str = ""
    workers: list[Worker] = field(default_factory=list)
    others: list[Process] = field(default_factory=list)

    def _spawn(self, name: str, argv: list[str], app: str) -> Process:
        log = self.tmp / f"{name}.log"
        env = {**self.env, "DATABASE_URL": test_database_url(app)}
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        process = Process(proc, log)
        self.others.append(process)
        return process

    def start_web(self) -> Process:
        port = free_port()
        web = self._spawn("gunicorn", [str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{port}",
                                       "--workers", "2", "--graceful-timeout", "5"], WEB_APP)
        self.web_url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                urllib.request.urlopen(self.web_url + "/api/v1/requests/", timeout=2)
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False
            return True

        wait_for(up, 45, "gunicorn")
        return web

    def start_beat(self) -> Process:
        return self._spawn("beat", [str(BIN / "celery"), "-A", "portal", "beat", "--loglevel", "INFO",
                                    "--scheduler", "celery.beat:PersistentScheduler",
                                    "-s", str(self.tmp / "beat-schedule")], "lrp-resil-beat")

    def start_worker(self) -> Worker:
        worker = Worker(self.tmp / f"worker-{len(self.workers)}.log",
                        {**self.env, "DATABASE_URL": test_database_url(WORKER_APP)})
        self.workers.append(worker)
        worker.wait_ready()
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()
        for process in self.others:
            process.stop()


@pytest.fixture
def rig(transactional_db, tmp_path) -> Iterator[Rig]:
    redis = Redis(tmp_path)
    redis.start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.test_settings",
        "DJANGO_ENV": "test",
        "REDIS_URL": redis.url,
        "CELERY_BROKER_URL": redis.url,
        "CACHE_URL": redis.url.replace("/0", "/1"),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
        **child_clock_env(),
        **FAST_SWEEPS,
    }
    rig = Rig(redis, tmp_path, env)
    try:
        yield rig
    finally:
        rig.stop_all()
        redis.stop()


class Api:
    def __init__(self, base_url: str, token: str) -> None:
        self.url = base_url.rstrip("/") + "/api/v1/requests/"
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                        "Content-Type": "application/json"}

    def submit(self, **overrides) -> tuple[int, dict]:
        data = json.dumps(epoc_body(**overrides)).encode()
        request = urllib.request.Request(self.url, data=data, headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, {"body": exc.read()[:500].decode(errors="replace")}


@pytest.fixture
def rig_api(rig, officer) -> Callable[[], Api]:
    _, raw = token_issue(user=officer, name="resil")
    return lambda: Api(rig.web_url, raw)


def decided(ids: list[int]) -> bool:
    return not LegalRequest.objects.filter(pk__in=ids, status__in=PENDING).exists()


def assert_books_balance(ids: list[int], *, validations: int = 1) -> None:
    """submitted = decided = audited, each once (``validations``: rounds of validation each
    request went through, e.g. 2 after a clarification answer); every state a request is in
    is the end of its audited transitions (no half transition: no move without its event, no
    event without its move); the audit chain verifies."""
    if not connection.in_atomic_block:
        connection.close()  # a fresh session: the rig may have killed this one's peers
    requests = LegalRequest.objects.filter(pk__in=ids)
    assert requests.count() == len(ids)
    assert not requests.filter(status__in=PENDING).exists()
    submitted = AuditEvent.objects.filter(request_id__in=ids, action="request.submitted").count()
    validated = [int(pk or 0) for pk in AuditEvent.objects.filter(request_id__in=ids, action="request.validated")
                 .values_list("request_id", flat=True)]
    assert submitted == len(ids)
    assert sorted(validated) == sorted(ids * validations), "each request validated exactly once per round"
    for request in requests:
        assert request.decision, f"{request.reference}: validated without a decision"
        state = Status.RECEIVED
        for data in (AuditEvent.objects.filter(request_id=request.pk, action="request.status_changed")
                     .order_by("seq").values_list("data", flat=True)):
            assert data["from"] == state, f"{request.reference}: audited move from {data['from']}, was in {state}"
            state = data["to"]
        assert state == request.status, f"{request.reference}: in {request.status}, audited to {state}"
    assert_audit_verifies()


def assert_audit_verifies() -> None:
    """``verify_audit``: every chain, head and seal intact."""
    # The rig's processes each start their clock on boot (portal/test_settings.py): like hosts,
    # they may disagree by a second or two, which is the skew the setting exists for.
    with override_settings(AUDIT_CLOCK_SKEW_SECONDS=5):
        out = io.StringIO()
        call_command("verify_audit", stdout=out)  # raises CommandError naming the first broken link
        assert out.getvalue().startswith("audit chain intact"), out.getvalue()
        assert verify()[1].events > 0
