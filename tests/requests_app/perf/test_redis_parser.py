"""redis-py's replies are parsed, and its commands packed, by hiredis (C) rather than in Python,
for every Redis client of the portal: the cache (throttles, the validation bell, the try counter)
and Celery's broker (issue 9 item 5; bench/perf_notes.md, stop 33)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis import utils


def test_hiredis_is_installed_and_chosen_by_redis_py():
    assert utils.HIREDIS_AVAILABLE, "hiredis is in requirements.txt"
    from redis.connection import DefaultParser

    assert DefaultParser.__name__ == "_HiredisParser"


def test_the_cache_client_parses_with_hiredis():
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        pytest.skip("the cache is not Redis here")
    client = backend._cache.get_client(write=True)
    connection = client.connection_pool.get_connection()
    try:
        assert type(connection._parser).__name__ == "_HiredisParser"
        assert connection.send_command("PING") is None and connection.read_response() in (b"PONG", "PONG", True)
    finally:
        client.connection_pool.release(connection)


def test_the_broker_client_parses_with_hiredis():
    if not str(settings.CELERY_BROKER_URL).startswith(("redis://", "rediss://")):
        pytest.skip("the broker is not Redis here")
    from portal.celery import app

    with app.connection_for_write() as broker:  # kombu's own Redis client and connection class
        client = broker.default_channel.client
        connection = client.connection_pool.get_connection()
        try:
            assert type(connection._parser).__name__ == "_HiredisParser"
        finally:
            client.connection_pool.release(connection)
