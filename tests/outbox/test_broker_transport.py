"""The broker transport keeps one redis-py client per pool (portal/broker.py, issue 9 item 5) and
behaves as kombu's own when Redis goes away and comes back.

On a29d429 kombu built a new ``redis.Redis`` for every publish (``Channel.conn_or_acquire``).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.utils import timezone
from kombu import Connection

from outbox import relay
from outbox.models import OutboxMessage, OutboxStatus

OURS = "portal.broker:Transport"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test on a free port; stop() and start() keep the port (and lose the data)."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = log_dir / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--logfile", str(self.log)], start_new_session=True)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def queued(self) -> int:
        return int(redis.Redis.from_url(self.url).llen("celery"))


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def celery_app(url: str, transport: str):  # type: ignore[no-untyped-def]
    """A Celery app with the portal's publish settings on ``url`` and one task."""
    app = Celery("broker-transport-test", broker=url, set_as_current=False)
    app.conf.update(broker_transport=transport, broker_connection_timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT,
                    task_publish_retry_policy=settings.CELERY_TASK_PUBLISH_RETRY_POLICY, task_ignore_result=True)

    @app.task(name="broker_transport_test.echo")
    def echo(value: int) -> int:
        return value

    return app, echo


def test_the_portal_publishes_through_the_transport_with_one_client_per_pool():
    from portal.celery import app

    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("a Redis broker")
    assert settings.CELERY_BROKER_TRANSPORT == OURS
    with app.connection_for_write() as connection:
        assert f"{type(connection.transport).__module__}:{type(connection.transport).__name__}" == OURS


def test_a_channel_keeps_one_client_until_kombu_drops_its_pool():
    with Connection(settings.CELERY_BROKER_URL, transport=OURS) as connection:
        channel = connection.channel()
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second and first.connection_pool is channel.pool
        assert first.ping()
        channel._disconnect_pools()  # what kombu does after a connection error, and after a fork
        with channel.conn_or_acquire() as third:
            assert third is not first and third.connection_pool is channel.pool
            assert third.ping()
        with channel.conn_or_acquire(client=first) as given:  # a client passed in is used as is
            assert given is first
        channel.close()


def test_publishes_construct_no_redis_client(private_redis, monkeypatch):
    app, echo = celery_app(private_redis.url, OURS)
    echo.apply_async(args=(0,))  # the first publish makes the connection, pool and client
    made = []
    original = redis.Redis.__init__

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting)
    for i in range(5):
        echo.apply_async(args=(i,))
    assert made == [], "kombu's transport built one redis.Redis per publish"
    assert private_redis.queued() == 6
    app.close()


@pytest.mark.parametrize("transport", ["redis", OURS], ids=["kombu", "portal"])
def test_a_publish_after_redis_restarted_reconnects_and_one_while_it_is_down_fails_fast(private_redis, transport):
    """The outbox relay relies on both: a publish that fails leaves the row pending for the
    sweeper (outbox/relay.py), and the next publish after Redis came back goes through."""
    app, echo = celery_app(private_redis.url, transport)
    echo.apply_async(args=(1,))
    assert private_redis.queued() == 1

    private_redis.stop()
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 (kombu's OperationalError or redis' ConnectionError)
        echo.apply_async(args=(2,))
    assert time.monotonic() - started < 10, "a publish while the broker is down must not hang the request"

    private_redis.start()  # the same port, empty (no persistence)
    echo.apply_async(args=(3,))
    echo.apply_async(args=(4,))
    assert private_redis.queued() == 2
    app.close()


@pytest.mark.parametrize("transport", ["redis", OURS], ids=["kombu", "portal"])
def test_a_publish_after_redis_restarted_between_two_publishes_goes_through(private_redis, transport):
    """Redis restarted while the process was idle: the pooled connection is dead (the portal's
    client is the same one); the next publish reconnects."""
    app, echo = celery_app(private_redis.url, transport)
    echo.apply_async(args=(1,))
    private_redis.stop()
    private_redis.start()
    echo.apply_async(args=(2,))
    assert private_redis.queued() == 1
    app.close()


@pytest.mark.django_db
def test_the_outbox_row_stays_pending_while_redis_is_down_and_the_sweeper_sends_it(private_redis, monkeypatch):
    app, echo = celery_app(private_redis.url, OURS)
    monkeypatch.setattr(relay, "_handlers", {"test.echo": lambda message: echo.apply_async(args=(message.pk,))})
    echo.apply_async(args=(0,))  # connected before the outage, as a running web process is
    private_redis.stop()
    message = OutboxMessage.objects.create(topic="test.echo")
    assert relay.publish(message.pk) is False
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and message.attempts == 1 and message.last_error

    private_redis.start()
    OutboxMessage.objects.filter(pk=message.pk).update(
        available_at=timezone.now() - settings.OUTBOX_RESEND_AFTER - timedelta(seconds=1))
    assert relay.sweep() == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.attempts == 2
    assert private_redis.queued() == 1
    app.close()
