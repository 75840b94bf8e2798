"""Work the web stage of a submission no longer repeats for every request (issue 9 item 5).

At 1572abf each ``POST /api/v1/requests/`` compiled the token's three-table query anew, copied
every field of the request body's serializer with ``copy.deepcopy`` (its ``__init__`` run
again, ~220 times), built the receipt's fields from the model's metadata, and constructed a
new ``redis.Redis`` client for each of its two rate checks. Counted here as calls, never
as time.
"""

from __future__ import annotations

import copy

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db.models.sql.compiler import SQLCompiler
from rest_framework import serializers as drf

from accounts.services import token_authenticate, token_issue
from requests_app.api import throttling
from requests_app.api.serializers import RequestCreateSerializer, RequestReceiptSerializer
from requests_app.models import LegalRequest
from tests.conftest import epoc_body


def test_the_token_lookup_compiles_no_sql_per_request(officer, calls, django_assert_num_queries):
    _, raw = token_issue(user=officer, name="t")
    assert token_authenticate(raw) is not None  # the first use: compiled (and last_used_at written)
    compiled = calls(SQLCompiler, "as_sql")
    with django_assert_num_queries(1):
        token = token_authenticate(raw)
        # The user and the authority come with the token's row, as select_related made them.
        assert token.user == officer and token.user.authority == officer.authority
        assert token.user.authority.vetting_status == officer.authority.vetting_status
    assert compiled == []


def test_validating_a_request_body_deep_copies_no_field(db, calls):
    RequestCreateSerializer(data=epoc_body()).is_valid()  # the class's prototypes are built once
    copies = calls(copy, "deepcopy")
    serializer = RequestCreateSerializer(data=epoc_body())
    assert serializer.is_valid(), serializer.errors
    assert copies == []


def test_the_receipt_builds_its_fields_from_the_model_once_per_class(api, calls):
    response = api.post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201
    built = calls(drf.ModelSerializer, "build_field")
    request = LegalRequest.objects.get(reference=response.json()["reference"])
    data = RequestReceiptSerializer(request).data
    assert data["reference"] == request.reference and data["status"] == request.status
    assert built == []


def test_a_rate_check_builds_no_redis_client(calls):
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the Redis path of the shared counter")
    bucket = "throttle_test:no-client-per-check"
    caches["default"].delete(bucket)
    throttling.window_hit(bucket, 61)
    clients = calls(redis.Redis, "__init__")
    assert throttling.window_hit(bucket, 61) == (2, True)
    assert throttling.window_hit(bucket, 61) == (3, True)
    assert clients == []
    caches["default"].delete(bucket)


def test_a_submission_compiles_no_insert_after_the_first(api, inserts):
    """At 5da51ce every submission compiled its three INSERTs (the request's 61 columns, its
    targets' ``bulk_create``, the outbox row); now only the first of a connection (and, for
    the targets, of a row count) does. The rows stored are the same."""
    body = epoc_body()
    body["targets"] = [{"kind": "username", "value": "first"}, {"kind": "phone", "value": "+4915112345678"}]
    assert api.post("/api/v1/requests/", body, format="json").status_code == 201  # compiling
    inserts.clear()
    body["targets"] = [{"kind": "username", "value": "second"}, {"kind": "email", "value": "x@example.org"}]
    response = api.post("/api/v1/requests/", body, format="json")
    assert response.status_code == 201
    assert inserts == []
    stored = LegalRequest.objects.get(reference=response.json()["reference"])
    assert stored.receipt_hash == response.json()["receipt_hash"] and stored.status == "received"
    assert not stored.outbox.exists(), "its row in received is its validation's queue entry"
    assert [(t.kind, t.value, t.timestamp) for t in stored.targets.order_by("id")] == [
        ("username", "second", None), ("email", "x@example.org", None)]
    assert stored.target_count == 2


def test_the_validation_is_published_without_a_generic_saferepr(api, monkeypatch, django_capture_on_commit_callbacks,
                                                                 settings):
    """At 5da51ce Celery ran ``saferepr`` over the args and kwargs of every published call
    (``as_task_v2``); the validation queue's ring gives the same header texts itself."""
    from celery.app import amqp
    from kombu import messaging

    reprs: list[object] = []
    original_saferepr = amqp.saferepr

    def counted_saferepr(value, *args, **kwargs):  # type: ignore[no-untyped-def]
        reprs.append(value)
        return original_saferepr(value, *args, **kwargs)

    published: list[dict] = []
    original_publish = messaging.Producer.publish

    def recorded(self, body, *args, **kwargs):  # type: ignore[no-untyped-def]
        published.append(kwargs.get("headers") or {})
        return original_publish(self, body, *args, **kwargs)

    monkeypatch.setattr(amqp, "saferepr", counted_saferepr)
    monkeypatch.setattr(messaging.Producer, "publish", recorded)
    with django_capture_on_commit_callbacks(execute=True):  # the publish after commit
        response = api.post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201
    stored = LegalRequest.objects.get(reference=response.json()["reference"])
    assert reprs == []
    # The drain rung for it (validation_queue, the bell of its id): the same header texts.
    [headers] = [h for h in published if h.get("task") == "requests_app.tasks.drain_validations"]
    bell = stored.pk % settings.VALIDATION_DRAINERS
    assert headers["argsrepr"] == original_saferepr((bell,)) and headers["kwargsrepr"] == original_saferepr({})


def test_an_api_response_builds_no_csp_policy(api, monkeypatch):
    """At 5da51ce django-csp built the policy and the report-only policy text for every
    response; portal/csp.py builds them once per setting. The header is still there."""
    import importlib

    from csp import middleware

    assert api.get("/api/v1/requests/").status_code == 200  # built for the settings as they are
    built: list[bool] = []

    def counting(original):  # type: ignore[no-untyped-def]
        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            built.append(True)
            return original(*args, **kwargs)
        return counted

    monkeypatch.setattr(middleware, "build_policy", counting(middleware.build_policy))
    try:
        portal_csp = importlib.import_module("portal.csp")
    except ImportError:  # 5da51ce: django-csp's own middleware only
        portal_csp = None
    if portal_csp is not None:
        monkeypatch.setattr(portal_csp, "build_policy", counting(portal_csp.build_policy))
    response = api.post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert built == []
