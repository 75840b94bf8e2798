"""A rate-limit check is one round trip to Redis (issue 9 item 5): at 16e12a1 each of the two
throttles of a POST asked EXISTS then INCR (Django's ``cache.incr``), and ``add`` on a
window's first hit. The count, its expiry and its value as the cache reads it are unchanged."""

from __future__ import annotations

import pytest
import redis.connection
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from requests_app.api import throttling


@pytest.fixture
def cache() -> RedisCache:
    """The suite's own cache backend (Redis, as in production), as the throttle finds it."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        pytest.skip("the Redis path of the shared counter")
    return backend


@pytest.fixture
def round_trips(monkeypatch) -> list[bytes]:
    sent: list[bytes] = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counted(self, command, check_health=True):  # type: ignore[no-untyped-def]
        sent.append(b"".join(command) if isinstance(command, list) else command)
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    return sent


def test_each_check_is_one_round_trip_and_counts_in_its_window(cache, round_trips):
    bucket = f"throttle_test:one-round-trip:{id(round_trips)}"
    cache.delete(bucket)
    round_trips.clear()
    assert throttling.window_hit(bucket, 61) == (1, True)
    assert len(round_trips) == 1  # the window's first hit: created with its expiry, counted
    assert throttling.window_hit(bucket, 61) == (2, True)
    assert len(round_trips) == 2
    assert cache.get(bucket) == 2
    ttl = cache._cache.get_client(cache.make_and_validate_key(bucket)).ttl(cache.make_and_validate_key(bucket))
    assert 0 < ttl <= 61
    cache.delete(bucket)


def test_a_window_past_its_limit_is_over(cache, round_trips):
    bucket = f"throttle_test:over:{id(round_trips)}"
    cache.delete(bucket)
    assert [throttling.over_limit(bucket, 2, 61) for _ in range(3)] == [False, False, True]
    cache.delete(bucket)


@pytest.mark.django_db
def test_a_submission_counts_both_its_limits_in_one_round_trip(cache, round_trips, api, monkeypatch):
    """At 5da51ce a POST asked Redis twice, once per throttle (the authority's limit and the
    submit limit); both are counted in one round trip now, each in its own window."""
    from outbox import relay
    from tests.conftest import epoc_body

    monkeypatch.setattr(relay, "publish", lambda *args, **kwargs: False)  # the broker's trips: not counted
    cache.clear()
    round_trips.clear()
    response = api.post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201, response.json()
    assert len(round_trips) == 1
    counted = sorted(key.decode() for key in cache._cache.get_client("x").keys("*throttle_*"))
    assert len(counted) == 2 and any("authority_submit" in key for key in counted)
    assert all(cache._cache.get_client(key).get(key) == b"1" for key in counted)
    cache.clear()


@pytest.mark.django_db
def test_a_read_counts_only_the_general_limit(cache, round_trips, api):
    cache.clear()
    round_trips.clear()
    assert api.get("/api/v1/requests/").status_code == 200
    assert len(round_trips) == 1 and round_trips[0].count(b"INCR") == 1
    cache.clear()


@pytest.mark.django_db
def test_a_submissions_limits_are_counted_by_one_script_not_a_transaction(cache, round_trips, api, monkeypatch):
    """At 630151b the two limits were a MULTI of SET NX EX + INCR per window (6 commands and
    their QUEUED replies for redis-py to pack and parse); now one EVAL of both keys. Each window
    is created with its expiry and counted once, as before."""
    from outbox import relay
    from tests.conftest import epoc_body

    monkeypatch.setattr(relay, "publish", lambda *args, **kwargs: False)
    cache.clear()
    round_trips.clear()
    assert api.post("/api/v1/requests/", epoc_body(), format="json").status_code == 201
    [command] = round_trips
    assert b"MULTI" not in command and command.split(b"\r\n")[2] == b"EVAL"
    client = cache._cache.get_client("x")
    counted = sorted(key.decode() for key in client.keys("*throttle_*"))
    assert len(counted) == 2 and all(client.get(key) == b"1" for key in counted)
    assert all(0 < client.ttl(key) <= 61 for key in counted)
    round_trips.clear()
    assert api.post("/api/v1/requests/", epoc_body(case_reference="PN-2"), format="json").status_code == 201
    assert all(client.get(key) == b"2" for key in counted)  # the windows kept, not created anew
    cache.clear()
