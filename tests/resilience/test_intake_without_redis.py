"""Intake does not depend on Redis (issue 16 §3), in process: the shared cache that holds the
rate-limit counters is unreachable (a closed port). The API answers 201 and stores the
request; the limit still holds, per process (fail open to a conservative local fallback)."""

from __future__ import annotations

import socket

import pytest
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from requests_app.api import throttling
from requests_app.models import LegalRequest
from tests.conftest import epoc_body

pytestmark = pytest.mark.django_db

API = "/api/v1/requests/"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_down(settings, monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
                                   "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}
    values = {"authority": "1000/minute", "authority_submit": "4/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": values}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", values)
    settings.THROTTLE_LOCAL_DIVISOR = 2
    monkeypatch.setattr(throttling, "_local_counts", {}, raising=False)
    monkeypatch.setattr(throttling, "_cache_down_until", 0.0, raising=False)


def test_submissions_are_stored_and_answered_while_the_cache_is_down(redis_down, api):
    # On f02ea04 the throttle's cache.incr raised redis ConnectionError: a 500, nothing stored.
    response = api.post(API, epoc_body(), format="json")
    assert response.status_code == 201, response.content
    request = LegalRequest.objects.get(reference=response.json()["reference"])
    assert request.status == "received"  # its validation's queue entry: the beat rings for it
    assert api.get(f"{API}{request.reference}/").status_code == 200


def test_the_local_fallback_keeps_a_conservative_limit_with_retry_after(redis_down, api):
    # 4/minute shared, 2 web processes: each process lets 2 through.
    codes = [api.post(API, epoc_body(), format="json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    refused = api.post(API, epoc_body(), format="json")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert LegalRequest.objects.count() == 2


def test_the_registration_form_does_not_500_without_the_cache(redis_down):
    response = Client().post("/register-authority/", {})
    assert response.status_code < 500
