"""The worker's acknowledgement bookkeeping on Redis (portal/broker.py ``QoS``, bench/perf_notes.md stop 29).

Under ``acks_late`` every delivery is recorded in kombu's unacked hash and index before the task runs
and removed on ack. On 5da51ce each step was a redis-py transaction pipeline (MULTI ... EXEC); the
portal's transport sends one script per step, writing the same keys and values, so kombu's restore
paths are unchanged: those tests pass on both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis
from kombu import Connection
from kombu.transport import redis as kombu_redis

from tests.outbox.test_broker_transport import OURS, PrivateRedis, private_redis  # noqa: F401  (fixture)


def calls(client: redis.Redis, command: str) -> int:
    stats = client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


@pytest.fixture
def broker(private_redis: PrivateRedis) -> Iterator[tuple[Connection, redis.Redis]]:  # noqa: F811
    conn = Connection(private_redis.url, transport=OURS, transport_options={"visibility_timeout": 3600})
    try:
        yield conn, redis.Redis.from_url(private_redis.url)
    finally:
        conn.release()


def receive(conn: Connection, body: dict[str, int], *, publish: bool = True):  # type: ignore[no-untyped-def]
    queue = conn.SimpleQueue("celery")
    if publish:
        queue.put(body)
    return queue.get(timeout=5)


def test_a_delivery_and_its_ack_are_each_one_script_not_a_transaction(broker, monkeypatch):
    conn, server = broker
    # kombu's periodic restore scan takes a mutex whose release is a transaction: not the step measured.
    monkeypatch.setattr(kombu_redis.QoS, "restore_visible", lambda self, *args, **kwargs: None)
    queue = conn.SimpleQueue("celery")
    queue.put({"warm": 1})
    queue.get(timeout=5).ack()  # the scripts loaded, the queue declared
    server.config_resetstat()

    queue.put({"n": 1})
    message = queue.get(timeout=5)
    tag = message.delivery_tag
    assert server.zscore("unacked_index", tag) is not None
    raw, exchange, routing_key = json.loads(server.hget("unacked", tag))  # what kombu's restore reads
    assert raw["properties"]["delivery_tag"] == tag and (exchange, routing_key) == ("celery", "celery")
    message.ack()
    assert server.zscore("unacked_index", tag) is None and server.hget("unacked", tag) is None

    assert calls(server, "multi") == 0 and calls(server, "exec") == 0  # 5da51ce: a MULTI ... EXEC per step
    assert calls(server, "evalsha") == 2


@pytest.mark.parametrize("transport", [OURS, "redis"])
def test_an_unacknowledged_delivery_comes_back_after_the_visibility_timeout(private_redis, frozen_clock,  # noqa: F811
                                                                            transport):
    lost = Connection(private_redis.url, transport=transport, transport_options={"visibility_timeout": 1})
    message = receive(lost, {"n": 2})  # a worker that took it and died: never acked, never closed
    tag = message.delivery_tag
    frozen_clock.shift(2)  # the delivery's score is the (test's) time it was recorded
    other = Connection(private_redis.url, transport=transport, transport_options={"visibility_timeout": 1})
    try:
        other.default_channel.qos.restore_visible(num=10, interval=1)
        again = receive(other, {}, publish=False)
        assert again.payload == {"n": 2}
        again.ack()
        server = redis.Redis.from_url(private_redis.url)
        assert server.hget("unacked", tag) is None and server.zcard("unacked_index") == 0
    finally:
        other.release()


@pytest.mark.parametrize("transport", [OURS, "redis"])
def test_a_rejected_delivery_is_requeued_or_dropped(private_redis, transport):  # noqa: F811
    conn = Connection(private_redis.url, transport=transport)
    server = redis.Redis.from_url(private_redis.url)
    queue = conn.SimpleQueue("celery")
    for n in (1, 2):
        queue.put({"n": n})
    first = queue.get(timeout=5)
    assert first.payload == {"n": 1}
    first.reject(requeue=True)  # reject_on_worker_lost: back into the queue (kombu LPUSHes it: taken last)
    assert server.hlen("unacked") == 0 and server.llen("celery") == 2
    second = queue.get(timeout=5)
    assert second.payload == {"n": 2}
    second.reject(requeue=False)  # dropped
    assert server.hlen("unacked") == 0 and server.zcard("unacked_index") == 0 and server.llen("celery") == 1
    again = queue.get(timeout=5)
    assert again.payload == {"n": 1} and again.delivery_info.get("redelivered")
    again.ack()
    assert server.hlen("unacked") == 0 and server.zcard("unacked_index") == 0
    conn.release()


def test_the_bookkeeping_survives_a_lost_script_cache(broker):
    conn, server = broker
    receive(conn, {"n": 1}).ack()
    server.script_flush()  # what a Redis restart does to the cache
    message = receive(conn, {"n": 2})
    assert server.hlen("unacked") == 1
    message.ack()
    assert server.hlen("unacked") == 0 and server.zcard("unacked_index") == 0
