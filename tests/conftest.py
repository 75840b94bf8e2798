"""Personas and helpers shared by the whole suite.

Two verified authorities in different member states, each with an officer and an API
client, plus an anonymous client. Files go to a temporary private storage root.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import authority_create, officer_create, token_issue
from requests_app.permissions import ADMIN, APPROVER, REVIEWER

# --- the clock ----------------------------------------------------------------------------------
#
# Every test runs on a frozen clock, so that no result depends on the day the suite runs (a
# 10-day period that ends on a weekend rolls over under Reg. 1182/71 Art. 3(4)). The default
# instant is an ordinary Tuesday morning after the Regulation's applicability date;
# ``PORTAL_TEST_NOW`` moves the whole suite to another instant (`.ci/run` runs the suite a second
# time on an awkward one: ``AWKWARD_INSTANT`` in the Makefile). A test that needs another instant
# travels explicitly (``time_machine.travel(...)`` nests inside this one).
FROZEN_AT = datetime.fromisoformat(os.environ.get("PORTAL_TEST_NOW") or "2026-09-15T08:00:00+00:00")


def real_time() -> float:
    """Seconds since the epoch on the real clock, whether or not a test is travelling."""
    hatch = time_machine.escape_hatch
    return hatch.time.time() if hatch.is_travelling() else time.time()


@pytest.fixture(autouse=True)
def frozen_clock(request):
    """The clock for this test: stopped at ``FROZEN_AT``, or started there and running.

    Tests that talk to other processes (Celery workers, a browser, the embedded Procfile) mark
    themselves ``running_clock``: the clock starts at ``FROZEN_AT`` and runs, so that polling
    loops and timeouts work; their worker processes start at the same instant through
    ``PORTAL_CLOCK_START`` (``portal/test_settings.py``).
    """
    tick = request.node.get_closest_marker("running_clock") is not None
    with time_machine.travel(FROZEN_AT, tick=tick) as traveller:
        yield traveller


DEFAULT_INSTANT = datetime.fromisoformat("2026-09-15T08:00:00+00:00")


@pytest.fixture
def default_instant(request):
    """For tests whose hand-counted figures or expected texts name the dates of the default
    instant (Tuesday 15 Sep 2026): they travel there explicitly, so the awkward-clock run
    (``PORTAL_TEST_NOW``) moves everything else and not them."""
    tick = request.node.get_closest_marker("running_clock") is not None
    with time_machine.travel(DEFAULT_INSTANT, tick=tick) as traveller:
        yield traveller


def child_clock_env() -> dict[str, str]:
    """Environment that puts a process started by a test on the test's running clock: the
    test's instant now, and the real time now, so the child adds what elapsed before it
    started (``portal/test_settings.py``)."""
    return {"PORTAL_CLOCK_START": timezone.now().isoformat(),
            "PORTAL_CLOCK_REAL_ORIGIN": repr(real_time())}


def _never_published(message_id: int, *, message: Any = None) -> bool:
    """Stands in for ``outbox.relay.publish`` (same signature): nothing is sent."""
    return False


@pytest.fixture
def no_publish(monkeypatch):
    """Outbox rows stay pending and no validation drain is rung: nothing reaches the Celery
    broker and rows can be counted. Directories whose every test needs this use it from an
    autouse fixture of their conftest."""
    from outbox import relay as outbox
    from requests_app import validation_queue

    monkeypatch.setattr(outbox, "publish", _never_published)
    monkeypatch.setattr(validation_queue, "ring", lambda request_id: False)


@pytest.fixture(autouse=True)
def validation_bells_free():
    """Every test starts with no validation drain rung (requests_app/validation_queue.py): a
    test that rang a bell without a worker to drain it (a broker nobody consumes) must not make
    the next test's submissions wait for the bell's time to live."""
    from requests_app import validation_queue

    validation_queue.release_all()
    _forget_validation_tries()
    yield


def _forget_validation_tries() -> None:
    """No test finds the try counts (services.validation._count_try) an earlier one left: a count
    of an earlier request with the same id and database makes a first delivery look like a
    redelivery (the durable path, two attempts)."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from requests_app.api.throttling import redis_client

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return
    pattern = backend.make_key("validation-try:*")
    client = redis_client(backend, pattern)
    try:
        stale = list(client.scan_iter(match=pattern, count=1000))
        if stale:
            client.delete(*stale)
    except Exception:  # Redis down: the tests that need it say so themselves
        pass


@pytest.fixture
def inserts(monkeypatch) -> list[type]:
    """The models whose INSERT the ORM compiles from now on (``SQLInsertCompiler.as_sql``), one
    entry per compilation: the compile-once statements (portal/compiled.py) add none."""
    from django.db.models.sql.compiler import SQLInsertCompiler

    seen: list[type] = []
    original = SQLInsertCompiler.as_sql

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(self.query.model)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLInsertCompiler, "as_sql", counted)
    return seen


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_ROOT = tmp_path / "private"
    return settings.PRIVATE_STORAGE_ROOT


@pytest.fixture
def make_authority(db):
    counter = {"n": 0}

    def make(**overrides: Any):
        counter["n"] += 1
        n = counter["n"]
        spec: dict[str, Any] = {
            "name": f"Authority {n}",
            "country": "FR",
            "authority_type": "other_competent",
            "domains": [f"police{n}.example.fr"],
            "switchboard_phone": "+33100000000",
        }
        spec.update(overrides)
        return authority_create(**spec)

    return make


@pytest.fixture
def authority(make_authority):
    return make_authority(name="Police nationale", country="FR", domains=["interieur.gouv.fr"])


@pytest.fixture
def other_authority(make_authority):
    return make_authority(name="Staatsanwaltschaft Berlin", country="DE", authority_type="prosecutor",
                          domains=["sta.berlin.de"])


# The suite reads the portal in English: its officers say so (a new officer's language would
# otherwise follow the authority's country, tests/web/test_languages.py).
@pytest.fixture
def officer(authority):
    return officer_create(language="en", authority=authority, email="officer@interieur.gouv.fr",
                          password="correct-horse-battery")


@pytest.fixture
def colleague(authority):
    return officer_create(language="en", authority=authority, email="colleague@interieur.gouv.fr")


@pytest.fixture
def other_officer(other_authority):
    return officer_create(language="en", authority=other_authority, email="officer@sta.berlin.de")


def client_for(user) -> APIClient:
    _, raw = token_issue(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(officer) -> APIClient:
    return client_for(officer)


@pytest.fixture
def other_api(other_officer) -> APIClient:
    return client_for(other_officer)


@pytest.fixture
def anon_api() -> APIClient:
    return APIClient()


def epoc_body(**overrides: Any) -> dict[str, Any]:
    """A complete, valid EPOC for subscriber data, as an authority would POST it."""
    now = timezone.now()
    body: dict[str, Any] = {
        "instrument": "epoc",
        "data_categories": ["subscriber"],
        "targets": [
            {"kind": "username", "value": "suspect_account"},
            {"kind": "phone", "value": "+33612345678"},
            {"kind": "ip_address", "value": "203.0.113.7", "timestamp": (now - timedelta(days=3)).isoformat()},
        ],
        "data_from": (now - timedelta(days=30)).isoformat(),
        "data_to": (now - timedelta(days=1)).isoformat(),
        "case_reference": "PN-2026-001",
        "summary": "Fraud investigation.",
        "offence": {
            "description": "Fraud",
            "legal_provisions": "Art. 313-1 Code pénal",
            "max_sentence_months": 60,
            "listed_offence": None,
            "via_information_system": True,
            "sentence_execution": None,
        },
        "emergency": False,
        "emergency_reason": "",
        # Police orders need prior validation by a judge or prosecutor (Art. 4(1)(b)).
        "validation": {"authority_type": "prosecutor", "authority_name": "Parquet de Paris",
                       "reference": "PQ-2026-1", "date": (now - timedelta(days=2)).date().isoformat()},
        "enforcing_authority_notified": False,
        "art_8_2_exception": False,
        "confidential": False,
        "confidentiality_reason": "",
        "linked_reference": "",
        "language": "fr",
        "dsa": None,
    }
    body.update(overrides)
    return body


@pytest.fixture
def body():
    return epoc_body


# --- the provider's legal team ----------------------------------------------------------------


def staff(email: str, *groups: str, superuser: bool = False) -> User:
    """A member of the legal team (staff, no authority) in the given role groups."""
    from django.contrib.auth.models import Group

    user = User.objects.create_user(email=email, password=None, is_staff=True, is_superuser=superuser)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


@pytest.fixture
def reviewer(db) -> User:
    return staff("reviewer@provider.example", REVIEWER)


@pytest.fixture
def reviewer2(db) -> User:
    return staff("reviewer2@provider.example", REVIEWER)


@pytest.fixture
def approver(db) -> User:
    return staff("approver@provider.example", APPROVER)


@pytest.fixture
def approver2(db) -> User:
    return staff("approver2@provider.example", APPROVER)


@pytest.fixture
def legal_admin(db) -> User:
    return staff("admin@provider.example", ADMIN)


@pytest.fixture
def superuser(db) -> User:
    return staff("root@provider.example", superuser=True)


def validated(**overrides: Any) -> dict[str, Any]:
    """``epoc_body(**overrides)`` as the API serializer hands it to the services."""
    from requests_app.api.serializers import RequestCreateSerializer

    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def approve_seen(*, actor: Any, request: Any, note: str = "") -> Any:
    """Approve the newest prepared package as the admin shows it: by its id and its files' SHA-256."""
    from requests_app.services import delivery, review

    package = delivery.pending_package(request)
    return review.review_approve(actor=actor, request=request, package_id=package.pk if package else 0,
                                 digests=delivery.package_digests(package) if package else [], note=note)

