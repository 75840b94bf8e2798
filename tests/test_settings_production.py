"""Production settings (DESIGN.md §4.7; security.md §1.3): refuse to start half-configured, pass --deploy.

Each case runs ``manage.py`` in a fresh interpreter with a controlled environment, because the
settings module reads the environment once, at import.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parents[1]
# Variables of the surrounding shell or test run that would change what the settings see.
SCRUBBED = ("DJANGO_SETTINGS_MODULE", "DJANGO_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL",
            "CACHE_URL", "CELERY_BROKER_URL", "EMAIL_URL", "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
            "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "BEHIND_TLS_PROXY", "CELERY_TASK_ALWAYS_EAGER",
            "RESPONSE_ENCRYPTION_KEYS", "PORTAL_BASE_URL", "ON_CALL_EMAILS")


def manage(tmp_path: Path, *args: str, **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", DJANGO_ENV="production", PORTAL_VAR_DIR=str(tmp_path),
               **env_vars)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "portal.example.org",
        "DATABASE_URL": "postgres://portal_app:secret@db.internal:5432/portal",
        "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
        "CACHE_URL": "redis://redis.internal:6379/1",
        "RESPONSE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "EMAIL_URL": "smtp+tls://portal:secret@smtp.internal:587",
        "PORTAL_BASE_URL": "https://portal.example.org",
        "ON_CALL_EMAILS": "oncall@provider.example",
    }
    env.update(overrides)
    return env


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_a_required_variable(tmp_path, missing):
    env = production_env()
    del env[missing]
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert missing in error
    assert [name for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL") if name in error] == [missing]


def test_production_refuses_an_empty_secret_key(tmp_path):
    result = manage(tmp_path, "check", **production_env(SECRET_KEY=""))
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_a_weak_secret_key_fails_the_deploy_check(tmp_path):
    """Control: the deploy check below really runs the security checks."""
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production_env(SECRET_KEY="short"))
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_a_complete_production_environment_passes_the_deploy_check(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stderr
    assert "security.W" not in result.stderr


def test_production_has_no_security_warning_and_debug_off(tmp_path):
    """Whatever else the deploy check says, Django's own security checks are all satisfied."""
    result = manage(tmp_path, "check", "--deploy", **production_env())
    assert result.returncode == 0, result.stderr
    assert "security.W" not in result.stderr + result.stdout
    code = ("from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER)")
    shown = manage(tmp_path, "shell", "-c", code, **production_env())
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split("\n")[-2] == "False True True True 63072000 ('HTTP_X_FORWARDED_PROTO', 'https')"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"RESPONSE_ENCRYPTION_KEYS": ""}, "RESPONSE_ENCRYPTION_KEYS"),
        ({"RESPONSE_ENCRYPTION_KEYS": "not-a-fernet-key"}, "RESPONSE_ENCRYPTION_KEYS entry 1"),
        ({"EMAIL_URL": ""}, "EMAIL_URL"),
        ({"EMAIL_URL": "consolemail://"}, "EMAIL_URL"),
        ({"EMAIL_URL": "dummymail://"}, "EMAIL_URL"),
        ({"PORTAL_BASE_URL": "http://portal.example.org"}, "PORTAL_BASE_URL"),
        ({"PORTAL_BASE_URL": ""}, "PORTAL_BASE_URL"),
        ({"ON_CALL_EMAILS": ""}, "ON_CALL_EMAILS"),
    ],
)
def test_production_refuses_to_start_half_configured(tmp_path, overrides, named):
    """Issue 14 item 8: no derived key, no e-mail into the void, no http links, nobody on call."""
    env = production_env(**overrides)
    env = {k: v for k, v in env.items() if v != ""}
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    error = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in error and named in error
