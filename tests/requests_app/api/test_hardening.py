"""API hardening (issue 14 item 9): no caching of case data, cheap refusal of hostile bodies."""

from __future__ import annotations

import pytest

from requests_app.models import LegalRequest
from tests.conftest import epoc_body

from .helpers import API

pytestmark = pytest.mark.django_db


def test_api_json_is_never_cached(api):
    created = api.post(API, epoc_body(), format="json")
    assert created.status_code == 201
    for response in (created, api.get(API), api.get(f"{API}{created.json()['reference']}/")):
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= cache_control


def test_errors_of_the_api_are_not_cached_either(anon_api):
    response = anon_api.get(API)
    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


def test_a_deeply_nested_json_body_answers_400_and_stores_nothing(api):
    depth = 100_000
    body = "[" * depth + "]" * depth
    response = api.generic("POST", API, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "body_too_deep"
    assert LegalRequest.objects.count() == 0


def test_a_moderately_nested_json_body_is_refused_before_validation(api):
    body = epoc_body()
    nested: object = "x"
    for _ in range(200):
        nested = {"a": nested}
    body["notes"] = nested
    response = api.post(API, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "body_too_deep"
    assert LegalRequest.objects.count() == 0


@pytest.mark.parametrize("extra", [0, 1])
def test_a_body_exactly_at_the_depth_limit_passes_and_one_deeper_is_refused(api, settings, extra):
    settings.API_MAX_JSON_DEPTH = 12
    nested: object = "x"
    for _ in range(12 - 1 + extra):  # the body itself is the first level
        nested = [nested]
    body = epoc_body(notes=nested, summary="[[[[{{{{" * 4)  # brackets in a string are no nesting
    response = api.post(API, body, format="json")
    if extra:
        assert response.status_code == 400 and response.json()["error"]["code"] == "body_too_deep"
    else:
        assert response.status_code == 201, response.json()


def test_many_shallow_lists_and_objects_are_not_too_deep(api):
    """More brackets than the depth limit, nested two levels: walked, and accepted."""
    targets = [{"kind": "username", "value": f"user{i}"} for i in range(30)]
    assert api.post(API, epoc_body(targets=targets), format="json").status_code == 201


@pytest.mark.parametrize("depth_limit, refused", [(0, True), (1, False)])
def test_an_empty_stream_parses_as_an_empty_object_of_depth_one(settings, depth_limit, refused):
    import io

    from requests_app.api.parsers import BodyTooDeep, BoundedJSONParser

    settings.API_MAX_JSON_DEPTH = depth_limit
    if refused:
        with pytest.raises(BodyTooDeep):
            BoundedJSONParser().parse(io.BytesIO(b""), parser_context={})
    else:
        assert BoundedJSONParser().parse(io.BytesIO(b""), parser_context={}) == {}


def test_a_real_submission_is_well_within_the_depth_limit(api):
    """Control: the limit does not turn away the deepest body the API documents."""
    body = epoc_body()
    assert api.post(API, body, format="json").status_code == 201


def test_a_huge_json_body_answers_413_and_stores_nothing(api, settings):
    settings.API_MAX_JSON_BYTES = 64 * 1024
    body = epoc_body(offence_description="x" * (200 * 1024))
    response = api.post(API, body, format="json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    assert LegalRequest.objects.count() == 0


def test_probing_references_is_throttled_per_account_before_it_floods_the_audit_trail(
        api, other_api, settings):
    from django.core.cache import cache

    from audit.models import AuditEvent

    cache.clear()
    settings.API_PROBE_LIMIT = 5
    foreign = other_api.post(API, epoc_body(), format="json").json()["reference"]
    guesses = [foreign] + [f"LRP-2026-{n:06d}" for n in range(900_000, 900_011)]
    answers = [api.get(f"{API}{reference}/") for reference in guesses]
    assert [a.status_code for a in answers[:5]] == [404] * 5
    assert {a.status_code for a in answers[5:]} == {429}
    assert answers[5].json()["error"]["code"] == "throttled" and int(answers[5]["Retry-After"]) > 0
    # One event for the foreign reference, one for the throttle: not one per guess.
    assert AuditEvent.objects.filter(action="access.denied").count() == 1
    assert AuditEvent.objects.filter(action="access.probes_throttled").count() == 1
    # The account's own requests still answer, and another account is not affected.
    own = api.post(API, epoc_body(), format="json").json()["reference"]
    assert api.get(f"{API}{own}/").status_code == 200
    assert other_api.get(f"{API}LRP-2026-999999/").status_code == 404
    cache.clear()


def test_an_api_call_never_loads_the_sessions_user(api, officer, monkeypatch):
    """The API authenticates by token: its calls do not read the session's user (the session
    policy middleware evaluated ``request.user`` for every one, issue 9 item 5), even with a
    portal session's cookie in the same browser; the answers are still never cached."""
    from django.contrib.auth import middleware as auth_middleware
    from django.test import Client

    loaded: list[str] = []
    real = auth_middleware.get_user

    def counting(request):  # type: ignore[no-untyped-def]
        loaded.append(request.path)
        return real(request)

    monkeypatch.setattr(auth_middleware, "get_user", counting)
    browser = Client()
    browser.force_login(officer)
    api.cookies = browser.cookies  # the same browser: the portal's session cookie goes along
    created = api.post(API, epoc_body(), format="json")
    assert created.status_code == 201
    assert api.get(f"{API}{created.json()['reference']}/").status_code == 200
    assert loaded == []
    assert "no-store" in created["Cache-Control"]
    # The portal's own pages do read it (the probe sees a load).
    assert browser.get("/").status_code in (200, 302)
    assert loaded
