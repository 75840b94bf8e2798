"""``Idempotency-Key``: a retried POST returns the first result, also under concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import token_issue
from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import IdempotencyRecord, LegalRequest, Target
from tests.conftest import client_for, epoc_body

from .helpers import API, counts


def post(client: APIClient, body: dict[str, Any], key: str | None = None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(API, body, format="json", headers=headers)


@pytest.mark.django_db
def test_the_same_key_twice_replays_the_first_request(api):
    body = epoc_body()
    first = post(api, body, "retry-1")
    before = counts()
    second = post(api, body, "retry-1")

    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    assert second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert second.json()["reference"] == first.json()["reference"]
    assert second["Location"] == first["Location"]
    assert counts() == before
    assert LegalRequest.objects.count() == 1
    assert AuditEvent.objects.filter(action="request.submitted").count() == 1


@pytest.mark.django_db
def test_a_colleague_retrying_with_the_key_gets_the_same_request(api, colleague):
    body = epoc_body()
    reference = post(api, body, "shared-key").json()["reference"]
    again = post(client_for(colleague), body, "shared-key")
    assert again.status_code == 200
    assert again.json()["reference"] == reference


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422_and_stores_nothing(api):
    body = epoc_body()
    first = post(api, body, "retry-2")
    before = counts()

    response = post(api, {**body, "case_reference": "PN-2026-999"}, "retry-2")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert counts() == before
    assert list(LegalRequest.objects.values_list("reference", "case_reference")) == [
        (first.json()["reference"], "PN-2026-001")]


@pytest.mark.django_db
def test_keys_are_per_authority(api, other_api, officer, other_officer):
    body = epoc_body()
    mine = post(api, body, "common-key")
    theirs = post(other_api, body, "common-key")

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["reference"] != theirs.json()["reference"]
    assert sorted(LegalRequest.objects.values_list("authority_id", flat=True)) == sorted(
        [officer.authority_id, other_officer.authority_id])
    assert IdempotencyRecord.objects.filter(key="common-key").count() == 2


@pytest.mark.django_db
def test_a_rejected_body_does_not_use_up_the_key(api):
    before = counts()
    bad = post(api, epoc_body(instrument="nope"), "first-try")
    assert bad.status_code == 400
    assert counts() == before
    assert post(api, epoc_body(), "first-try").status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "k" * 256])
def test_an_invalid_key_is_refused_or_ignored_without_storing_twice(key, api):
    body = epoc_body()
    before = counts()
    response = post(api, body, key)
    if key:
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_idempotency_key"
        assert counts() == before
    else:  # an empty header is no key: an ordinary create
        assert response.status_code == 201
        assert IdempotencyRecord.objects.count() == 0


# --- Concurrency ------------------------------------------------------------------------------


def _in_threads(count: int, make_client, body: dict[str, Any], key: str | None) -> list[tuple[int, str, str]]:
    """POST ``body`` ``count`` times from 10 threads, each with its own client and connection.

    A barrier releases the threads ten at a time, so the first POSTs really race.
    """
    workers = 10
    assert count % workers == 0
    barrier = threading.Barrier(workers, timeout=30)

    def one(_: int) -> tuple[int, str, str]:
        try:
            client = make_client()
            barrier.wait()
            response = post(client, body, key)
            return response.status_code, response.json().get("reference", ""), response.get("Idempotent-Replayed", "")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(count)))


def _raw_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_posts_with_one_key_create_one_request(threads_db, officer):
    _, raw = token_issue(user=officer)
    body = epoc_body()

    results = _in_threads(50, lambda: _raw_client(raw), body, "parallel-key")

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] * 49 + [201], results
    assert len({reference for _, reference, _ in results}) == 1
    assert sorted(replayed for _, _, replayed in results) == [""] + ["true"] * 49
    stored = LegalRequest.objects.get()
    assert stored.reference == results[0][1]
    assert Target.objects.filter(request=stored).count() == 3
    assert AuditEvent.objects.filter(action="request.submitted").count() == 1
    # One request in received (its validation's queue entry) and no outbox row of its own.
    assert not OutboxMessage.objects.filter(request=stored).exists()
    assert IdempotencyRecord.objects.get().request_id == stored.pk


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_posts_without_a_key_get_distinct_references(threads_db, officer):
    _, raw = token_issue(user=officer)

    results = _in_threads(20, lambda: _raw_client(raw), epoc_body(), None)

    assert [status for status, _, _ in results] == [201] * 20, results
    references = {reference for _, reference, _ in results}
    assert len(references) == 20
    assert set(LegalRequest.objects.values_list("reference", flat=True)) == references
    assert AuditEvent.objects.filter(action="request.submitted").count() == 20
