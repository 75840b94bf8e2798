"""Embedded mode end to end (DESIGN.md §4.7): SQLite + filesystem broker, the Procfile under honcho.

Runs what ``make run`` runs, in a temporary PORTAL_VAR_DIR and on a free port, submits an EPOC
over HTTP with the demo token and waits for the worker to validate it. ``make smoke`` runs it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest

from tests.conftest import epoc_body

pytestmark = [pytest.mark.smoke, pytest.mark.running_clock]

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
OFFICER = "enqueteur@interieur.gouv.fr"
STARTUP_LIMIT = 60.0
PROCESSING_LIMIT = 60.0
SHUTDOWN_LIMIT = 20.0
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_URL", "EMAIL_URL", "SECRET_KEY",
                     "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "CELERY_TASK_ALWAYS_EAGER", "DEBUG")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES and not k.startswith("PYTEST")}
    env.update(
        DJANGO_ENV="development",
        DJANGO_SETTINGS_MODULE="portal.settings",
        PORTAL_VAR_DIR=str(tmp_path / "var"),
        PORTAL_PORT=str(free_port()),
        MAILBOX_LISTEN_PORT=str(free_port()),
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([str(VENV_BIN / "python"), "manage.py", *args], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def call(url: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def wait_healthy(base: str, honcho: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < deadline:
        if honcho.poll() is not None:
            break
        try:
            if call(f"{base}/healthz")[1].get("status") == "ok":
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"/healthz never answered ok:\n{log.read_text(errors='replace')[-4000:]}")


def stop(honcho: subprocess.Popen) -> tuple[float, bool]:
    """SIGTERM to the process group; SIGKILL after SHUTDOWN_LIMIT. (seconds taken, needed SIGKILL)."""
    started = time.monotonic()
    if honcho.poll() is None:
        os.killpg(honcho.pid, signal.SIGTERM)
    try:
        honcho.wait(timeout=SHUTDOWN_LIMIT)
        killed = False
    except subprocess.TimeoutExpired:
        os.killpg(honcho.pid, signal.SIGKILL)
        honcho.wait(timeout=10)
        killed = True
    with_children_gone = time.monotonic() + 10
    while time.monotonic() < with_children_gone:  # the group's workers, gunicorn and beat too
        try:
            os.killpg(honcho.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.killpg(honcho.pid, signal.SIGKILL)
        killed = True
    return time.monotonic() - started, killed


def test_embedded_mode_validates_a_request_submitted_over_http(embedded_env, tmp_path):
    manage(embedded_env, "migrate", "--no-input", "-v", "0")
    manage(embedded_env, "createcachetable")
    seeded = manage(embedded_env, "seed_demo")
    match = re.search(rf"API token for {re.escape(OFFICER)}: (\S+)", seeded)
    assert match, seeded
    token = match.group(1)
    assert (tmp_path / "var" / "portal.sqlite3").exists()

    log = tmp_path / "honcho.log"
    with open(log, "wb") as out:
        honcho = subprocess.Popen([str(VENV_BIN / "honcho"), "start", "-f", "Procfile"], cwd=REPO, env=embedded_env,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{embedded_env['PORTAL_PORT']}"
    try:
        wait_healthy(base, honcho, log)
        status, created = call(f"{base}/api/v1/requests/", token, epoc_body())
        assert status == 201, created
        assert created["status"] == "received"

        deadline = time.monotonic() + PROCESSING_LIMIT
        detail = created
        while detail["status"] in {"received", "validating"} and time.monotonic() < deadline:
            time.sleep(0.5)
            detail = call(f"{base}/api/v1/requests/{created['reference']}/", token)[1]
        # The task commits the decision, then sends the receipt itself: its success line is
        # logged after the state the API shows.
        while "succeeded" not in log.read_text(errors="replace") and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        took, killed = stop(honcho)

    output = log.read_text(errors="replace")
    assert detail["status"] not in {"received", "validating"}, f"not processed in time:\n{output[-4000:]}"
    assert detail["decision"] and detail["decision"]["route"], detail
    assert "validate_request" in output and "succeeded" in output
    assert f"mailbox: smtp receiver on 127.0.0.1:{embedded_env['MAILBOX_LISTEN_PORT']}" in output
    if killed:
        warnings.warn(f"the Procfile processes needed SIGKILL ({took:.1f} s after SIGTERM)", stacklevel=1)
    assert took < SHUTDOWN_LIMIT + 10
