"""kombu's Redis transport, keeping one redis-py client per connection pool (issue 9 item 5).

kombu's ``Channel.conn_or_acquire`` builds a new ``redis.Redis`` around the channel's pool for every
command group it sends: each task publish (the outbox relay, on the web side after every
submission) and, in the Celery worker's parent, each QoS step (the unacked bookkeeping of every
delivery and every ack under ``acks_late``). The client holds no connection of its own (it
borrows one from the pool per command and gives it back), so one client per pool is enough; the
construction (an event dispatcher, the client's option handling) was ~0.1 ms of each publish.

Reconnection is unchanged: after a connection error kombu drops the channel's pools
(``_disconnect_pools``) or makes a new channel, and the next command builds a new pool, hence
a new client here. The asynchronous client (the consumer's BRPOP connection) is kombu's own.

Selected by ``CELERY_BROKER_TRANSPORT`` for ``redis://`` brokers (portal/settings.py).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _pool_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[misc]  # kombu, untyped
        pool = self.pool  # a new pool after kombu dropped the old one (disconnect, fork)
        client = self._pool_client
        if client is None or client.connection_pool is not pool:
            client = self._pool_client = super()._create_client()  # type: ignore[misc]
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel
