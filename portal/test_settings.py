"""Settings for the test suite: the real settings, pointed at PostgreSQL and Redis.

The suite runs on PostgreSQL and Redis (DESIGN.md §4.7), defaulting to the local servers;
``DATABASE_URL`` and ``REDIS_URL`` override them.
"""

import os
import tempfile

os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
# One Redis database per xdist worker (13, 14, 15): the throttling tests clear the cache
# (FLUSHDB) and count per authority id, and both workers' test databases give the first
# authority id 1, so on one shared database a worker's clear or count leaked into the other's
# test (seen: test_the_third_post_of_an_authority_is_429_throttled under -n 2).
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_redis_db = 13 + int(_xdist_worker[2:]) % 3 if _xdist_worker[2:].isdigit() else 13
# The xdist controller imports these settings first and its workers inherit its environment, so
# a URL this module chose is recognised by the marker and chosen again per worker; a REDIS_URL
# given from outside is kept.
if "REDIS_URL" not in os.environ or os.environ.get("PORTAL_TEST_REDIS_DEFAULTED") == "1":
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{_redis_db}"
    os.environ["PORTAL_TEST_REDIS_DEFAULTED"] = "1"
os.environ.setdefault("PORTAL_VAR_DIR", os.path.join(tempfile.gettempdir(), "lrp-test-var"))

from .settings import *  # noqa: F403, E402 (the environment above comes first)

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A process started by a test may deliver to a real (test) SMTP server instead.
if os.environ.get("PORTAL_TEST_SMTP_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT, EMAIL_TIMEOUT = "127.0.0.1", int(os.environ["PORTAL_TEST_SMTP_PORT"]), 3
# Generous limits so ordinary tests never hit them; throttling tests set their own.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"authority": "100000/minute",  # noqa: F405
                                                                "authority_submit": "100000/minute"}}
API_PROBE_LIMIT = 100000  # tests/requests_app/api/test_hardening.py sets its own

# whitenoise warns once per process when STATIC_ROOT does not exist.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# MFA enrolment is enforced in production and in the embedded mode. Tests of other features
# sign in with force_login and would all need an enrolled authenticator, so it is off here;
# tests/accounts/ switches it on to prove the enforcement.
REQUIRE_MFA = False

# Processes that the tests start (Celery workers, gunicorn) run on the test's clock
# (tests/conftest.py, ``frozen_clock`` and ``child_clock_env``): the test's instant when the
# environment was made plus the real time elapsed since (``PORTAL_CLOCK_REAL_ORIGIN``), so that
# a process that boots slowly or is restarted later does not lag behind the others (the audit
# chain's times must move forward across processes). The clock runs.
if os.environ.get("PORTAL_CLOCK_START"):
    import time
    from datetime import datetime, timedelta

    import time_machine

    _start = datetime.fromisoformat(os.environ["PORTAL_CLOCK_START"])
    if os.environ.get("PORTAL_CLOCK_REAL_ORIGIN"):
        _start += timedelta(seconds=max(0.0, time.time() - float(os.environ["PORTAL_CLOCK_REAL_ORIGIN"])))
    time_machine.travel(_start, tick=True).start()
