"""Real Celery worker subprocesses on Redis and the pytest-django test database (security.md §3.2).

The worker runs ``portal.test_settings`` against the *test* database that pytest-django
created (committed data only: the tests use ``transactional_db``) and the Redis database of
this test session, which is flushed first. Each worker runs in its own process group so a
``SIGKILL`` takes the pool children with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.conftest import child_clock_env

REPO = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
WORKER_APP_NAME = "lrp-e2e-worker"
READY_TIMEOUT = 45.0
STOP_TIMEOUT = 15.0


def test_database_url(application_name: str) -> str:
    db = settings.DATABASES["default"]
    assert db["ENGINE"] in {"portal.postgresql", "django.db.backends.postgresql"}, "the e2e tests need PostgreSQL"
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}?application_name={application_name}"


class Worker:
    def __init__(self, log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        self.name = f"e2e-{uuid.uuid4().hex[:8]}@%h"
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(CELERY), "-A", "portal", "worker", "-c", "1", "--pool", "prefork", "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "-Q", "celery", "--loglevel", "INFO", "-n", self.name],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.kill()
        pytest.fail(f"the Celery worker did not become ready:\n{self.log[-4000:]}")

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Warm shutdown (SIGTERM); SIGKILL the group if it does not exit. True when it exited cleanly."""
        if self.proc.poll() is not None:
            return True
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            self.kill()
            return False

    def kill(self) -> None:
        """kill -9 of the whole worker: main process and pool children."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.proc.wait(timeout=STOP_TIMEOUT)


@pytest.fixture
def broker_url() -> str:
    """This session's Redis database, emptied (queues, unacked messages, throttle counters)."""
    import redis

    url = settings.CELERY_BROKER_URL
    assert url.startswith("redis://"), f"the e2e tests need a Redis broker, not {url}"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def start_worker(transactional_db, broker_url, tmp_path) -> Iterator[Callable[..., Worker]]:
    """Start real workers; all are stopped before the test database is flushed."""
    workers: list[Worker] = []

    def start(**extra_env: str) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.test_settings",
            "DJANGO_ENV": "test",
            "DATABASE_URL": test_database_url(WORKER_APP_NAME),
            "REDIS_URL": broker_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PORTAL_VAR_DIR": str(tmp_path / "var"),
            "PYTHONUNBUFFERED": "1",
            # The worker runs on the test's clock (tests/conftest.py, child_clock_env).
            **child_clock_env(),
            **extra_env,
        }
        worker = Worker(tmp_path / f"worker-{len(workers)}.log", env)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()
