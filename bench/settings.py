"""Production-like settings for the benchmarks (``--settings=bench.settings``).

Production mode (PostgreSQL, Redis, DEBUG off, manifest static storage) on a dedicated
database ``lrp_bench`` and Redis DB 14, plain HTTP on loopback, throttles set out of reach,
and two extra endpoints for the floors (bench/floor_views.py). Every value can still be
overridden from the environment.
"""

from __future__ import annotations

import os

_DEFAULTS = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/lrp_bench",
    "CACHE_URL": "redis://127.0.0.1:6379/14",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "BEHIND_TLS_PROXY": "false",
    "LOG_LEVEL": "WARNING",
    "PORTAL_VAR_DIR": "/tmp/lrp_bench_var",
    # Production refuses to start without these (portal/settings.py); the e-mail backend is
    # replaced below, after the check, by one that sends nothing.
    "RESPONSE_ENCRYPTION_KEYS": "YmVuY2gtb25seS1mZXJuZXQta2V5LTAxMjM0NTY3ODk=",
    "EMAIL_URL": "smtp://127.0.0.1:25",
    "PORTAL_BASE_URL": "https://bench.invalid",
    "ON_CALL_EMAILS": "oncall@bench.invalid",
}
for _name, _value in _DEFAULTS.items():
    os.environ.setdefault(_name, _value)

from portal.settings import *  # noqa: E402, F403
from portal.settings import REST_FRAMEWORK as _PORTAL_REST_FRAMEWORK  # noqa: E402

ROOT_URLCONF = "bench.urls"
DEBUG = False
# Nothing is sent and nothing printed: the console backend wrote every e-mail to the worker's
# stdout, which Celery logs as two WARNING lines per task, a bench artifact in the worker's CPU
# (bench/perf_notes.md, stop 24); locmem would keep every message in memory for the run (growth in
# the RSS figures). The on-call e-mail bench puts a real SMTP server in its place just below.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
if os.environ.get("BENCH_SMTP_PORT"):  # bench/run_all.py: a real (aiosmtpd) server on loopback
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT, EMAIL_TIMEOUT = "127.0.0.1", int(os.environ["BENCH_SMTP_PORT"]), 5
    EMAIL_USE_TLS = EMAIL_USE_SSL = False

# The throttles stay in the request path (their cache round trips are part of the cost) but
# can never refuse: at most one refusal per million requests a second.
REST_FRAMEWORK = {
    **_PORTAL_REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"authority": "1000000/s", "authority_submit": "1000000/s"},
}
