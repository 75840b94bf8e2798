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

The worker's acknowledgement emulation (``QoS``, stop 29): under ``acks_late`` kombu records every
delivery in the unacked hash and its index (``MULTI``/``ZADD``/``HSET``/``EXEC``) before the task runs and
removes both on ack (``MULTI``/``ZREM``/``HDEL``/``EXEC``), each a redis-py transaction pipeline built for
the one step. Here each step is one server-side script (``EVALSHA``) doing the same two writes, atomic
as the transaction was (a script runs alone; a ``WATCH`` of the hash by ``restore_by_tag`` still sees the
write), on the same keys with the same values, so kombu's restore paths (``restore_visible`` after the
visibility timeout, ``restore_unacked`` at shutdown, ``reject(requeue=True)``) read what they always read
and are kombu's own. A Redis restart loses the script cache: redis-py's ``Script`` loads it again on
``NOSCRIPT``.

Selected by ``CELERY_BROKER_TRANSPORT`` for ``redis://`` brokers (portal/settings.py).
"""

from __future__ import annotations

from time import time
from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.json import dumps

# KEYS: the unacked index (sorted set, score = delivery time), the unacked hash; ARGV: the tag, ...
_RECORD = """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
"""
_FORGET = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""


class QoS(kombu_redis.QoS):
    """kombu's QoS with each delivery's bookkeeping and each ack in one script instead of a
    transaction pipeline (module docstring)."""

    _scripts: Any = None

    def _script(self, client: Any, index: int) -> Any:
        scripts = self._scripts
        if scripts is None:
            scripts = self._scripts = (client.register_script(_RECORD), client.register_script(_FORGET))
        return scripts[index]

    def append(self, message: Any, delivery_tag: Any) -> None:
        delivery = message.delivery_info
        payload = dumps([message._raw, delivery["exchange"], delivery["routing_key"]])
        channel: Any = self.channel  # kombu, untyped
        with channel.conn_or_acquire() as client:
            self._script(client, 0)(keys=[self.unacked_index_key, self.unacked_key],
                                    args=[delivery_tag, time(), payload], client=client)
        virtual.QoS.append(self, message, delivery_tag)

    def _forget(self, delivery_tag: Any) -> None:
        channel: Any = self.channel  # kombu, untyped
        with channel.conn_or_acquire() as client:
            self._script(client, 1)(keys=[self.unacked_index_key, self.unacked_key], args=[delivery_tag],
                                    client=client)

    def ack(self, delivery_tag: Any) -> None:
        self._forget(delivery_tag)
        virtual.QoS.ack(self, delivery_tag)

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        if requeue:
            self.restore_by_tag(delivery_tag, leftmost=True)  # kombu's: back to the queue's head, atomically
        else:
            self._forget(delivery_tag)
        virtual.QoS.ack(self, delivery_tag)


class Channel(kombu_redis.Channel):
    QoS = QoS
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
