"""Rate limits are per authority, not per token or address (requests_app/api/throttling.py)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken
from requests_app.models import LegalRequest
from tests.conftest import client_for, epoc_body

from .helpers import API, counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings, monkeypatch):
    """Tiny limits; returns a setter for other values. DRF reads the rates once into the
    THROTTLE_RATES class attribute, so that is patched together with the setting."""

    def set_rates(authority: str = "1000/minute", authority_submit: str = "2/minute") -> None:
        values = {"authority": authority, "authority_submit": authority_submit}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": values}
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", values)

    cache.clear()
    set_rates()
    yield set_rates
    cache.clear()


def create(client):
    return client.post(API, epoc_body(), format="json")


def test_the_third_post_of_an_authority_is_429_throttled(rates, api):
    assert [create(api).status_code for _ in range(2)] == [201, 201]
    before = counts()

    response = create(api)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    assert counts() == before
    assert LegalRequest.objects.count() == 2


def test_another_authority_can_still_post(rates, api, other_api):
    for _ in range(2):
        create(api)
    assert create(api).status_code == 429
    assert create(other_api).status_code == 201


def test_tokens_of_one_authority_share_the_limit(rates, api, officer, colleague):
    second = client_for(officer)  # a second token of the same officer
    assert ApiToken.objects.filter(user=officer).count() == 2

    assert create(api).status_code == 201
    assert create(second).status_code == 201
    assert create(api).status_code == 429
    assert create(second).status_code == 429
    assert create(client_for(colleague)).status_code == 429


def test_the_submit_limit_does_not_block_reading(rates, api):
    for _ in range(2):
        create(api)
    assert create(api).status_code == 429
    response = api.get(API)
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


def test_the_general_limit_applies_to_every_endpoint_of_the_authority(rates, api, colleague):
    rates(authority="3/minute", authority_submit="1000/minute")
    assert [api.get(API).status_code for _ in range(3)] == [200, 200, 200]
    response = client_for(colleague).post(f"{API}check/", epoc_body(), format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"


def test_rejected_bodies_count_against_the_limit(rates, api):
    assert [api.post(API, {"instrument": "nope"}, format="json").status_code for _ in range(2)] == [400, 400]
    assert create(api).status_code == 429
