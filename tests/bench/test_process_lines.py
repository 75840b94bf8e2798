"""The bench measures the processes as deployed (bench/common.py, bench/settings.py).

Its gunicorn and Celery command lines are the Procfile's, except the address, the process
counts and the flags it leaves out on purpose (``OMITTED_FLAGS``); its e-mail backend sends
and prints nothing, since the console backend turned every e-mail into worker log lines.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bench import common

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.clock_independent  # no clock is read


def procfile(process: str) -> list[str]:
    for line in (REPO / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return shlex.split(command)
    raise AssertionError(f"no {process} line in the Procfile")


def options(args: list[str]) -> dict[str, str | None]:
    """Each ``--flag`` of a command line with its value (None for a bare flag)."""
    found: dict[str, str | None] = {}
    for index, arg in enumerate(args):
        if arg.startswith("-") and arg != "-":  # "-" alone is a value (stdout)
            following = args[index + 1] if index + 1 < len(args) else None
            is_value = following is not None and (following == "-" or not following.startswith("-"))
            found[arg] = following if is_value else None
    return found


@pytest.fixture
def started(monkeypatch) -> list[list[str]]:
    """The command lines start_gunicorn / start_celery would run, without running them."""
    argvs: list[list[str]] = []

    class Recorder:
        def __init__(self, name: str, argv: list[str]) -> None:
            argvs.append(list(argv))

    monkeypatch.setattr(common, "ProcGroup", Recorder)
    monkeypatch.setattr(common, "port_free", lambda port=common.PORT: True)
    monkeypatch.setattr(common, "wait_http", lambda group, url, timeout=30.0: None)
    return argvs


def test_the_bench_runs_the_procfiles_web_line_with_only_the_documented_differences(started):
    common.start_gunicorn(3)
    bench, deployed = started[0], procfile("web")
    assert Path(bench[0]).name == deployed[0] == "gunicorn" and bench[1] == deployed[1] == "portal.wsgi"
    expected = {flag: value for flag, value in options(deployed).items() if flag not in common.OMITTED_FLAGS}
    expected |= {"--bind": f"{common.HOST}:{common.PORT}", "--workers": "3", "--chdir": str(common.ROOT)}
    assert options(bench) == expected
    assert "--access-logfile" in options(deployed)  # the one left out on purpose, and it is there


def test_the_bench_runs_the_procfiles_worker_line(started):
    common.start_celery(4)
    bench, deployed = started[0], procfile("worker")
    assert Path(bench[0]).name == deployed[0] == "celery"
    assert options(bench) == options(deployed) | {"--concurrency": "4"}
    assert bench[1:4] == deployed[1:4] == ["-A", "portal", "worker"]


def test_the_results_text_names_the_measured_lines_and_what_is_left_out():
    text = common.process_lines(2, 2)
    assert "gunicorn portal.wsgi --bind" in text and "--graceful-timeout 5" in text
    assert "celery -A portal worker --concurrency 2 --loglevel INFO --without-gossip --without-mingle" in text
    assert "`--access-logfile` left out" in text


def test_the_bench_sends_and_prints_no_e_mail():
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO", "DATABASE", "REDIS", "CACHE", "CELERY", "EMAIL", "PORTAL", "BENCH"))}
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'bench.settings'; django.setup()\n"
        "from django.conf import settings; from django.core.mail import send_mail\n"
        "print('backend', settings.EMAIL_BACKEND)\n"
        "send_mail('A subject that must not be printed', 'body', 'a@bench.invalid', ['b@bench.invalid'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.splitlines() == ["backend django.core.mail.backends.dummy.EmailBackend"]
    assert "must not be printed" not in done.stderr
