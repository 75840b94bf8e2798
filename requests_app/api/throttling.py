"""Rate limits per authority (not per token or IP): a compromised authority account cannot
flood the legal team by spreading requests over many tokens.

Fixed windows counted with an atomic ``incr`` in the shared cache: one round trip per check
(on Redis, a script that creates the window with its expiry and counts), and no
read-modify-write race between web workers (DRF's default throttle rewrites a list of
timestamps).

Intake must not depend on Redis (issue 16): when the shared cache cannot be reached the
counters **fail open to a conservative local fallback**, a per-process fixed window whose
limit is the shared one divided by ``THROTTLE_LOCAL_DIVISOR`` (the number of web processes),
so that all processes together stay near the shared limit. The choice is deliberate: a
refusal with 503 would turn a cache outage into an intake outage for every authority, while
the requests themselves are stored in PostgreSQL and validated once the broker is back
(docs/operations.md). After a failure the cache is not asked again for
``THROTTLE_CACHE_RETRY_SECONDS``, so an outage costs one failed round trip per process, not
one per request.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

from accounts.client_ip import client_ip

log = logging.getLogger(__name__)

_local_lock = threading.Lock()
_local_counts: dict[str, tuple[float, int]] = {}  # bucket → (expires at, count)
_cache_down_until = 0.0


def _local_incr(bucket: str, timeout: int) -> int:
    now = time.monotonic()
    with _local_lock:
        if len(_local_counts) > 10_000:  # old windows: drop the expired ones
            for key in [k for k, (expires, _) in _local_counts.items() if expires <= now]:
                del _local_counts[key]
        expires, count = _local_counts.get(bucket, (now + timeout, 0))
        if expires <= now:
            expires, count = now + timeout, 0
        _local_counts[bucket] = (expires, count + 1)
        return count + 1


# One redis-py client per connection pool. Django's ``get_client`` builds a new ``redis.Redis``
# for every call, and building one (its table of ~170 response callbacks) cost more CPU than the
# round trip itself: ~0.1 ms, twice per POST (issue 9 item 5). A client holds no connection of
# its own (each command borrows one from the pool), so sharing it between threads is safe.
_clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _redis_client(backend: RedisCache, key: str) -> Any:
    pool = backend._cache._get_connection_pool(True)  # type: ignore[attr-defined]  # write: the first server
    client = _clients.get(pool)
    if client is None:
        client = _clients[pool] = backend._cache.get_client(key, write=True)  # type: ignore[attr-defined]
    return client


# The same client for the other counters kept in the shared cache (services.validation's try counter).
redis_client = _redis_client


# SET NX EX then INCR for each window, atomically, as one command: the MULTI of these commands
# (stop 29) cost redis-py twice the CPU of the script (packing 2 + 2n commands, parsing a QUEUED
# reply for each). EVAL, not EVALSHA: one round trip always, nothing to reload after a restart
# or SCRIPT FLUSH (the server keeps the compiled script by its hash).
_COUNT_HITS = """
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, 0, 'EX', ARGV[1], 'NX')
  counts[i] = redis.call('INCR', key)
end
return counts
"""


def _shared_incr(bucket: str, timeout: int) -> int:
    return _shared_incrs([bucket], timeout)[0]


def _shared_incrs(buckets: list[str], timeout: int) -> list[int]:
    """Count one hit in each bucket of the shared cache; on Redis in one round trip."""
    backend = caches["default"]  # the backend itself: ``cache`` is a proxy, never a RedisCache
    if isinstance(backend, RedisCache):
        # Django's ``incr`` asks EXISTS then INCR (two round trips, and ``add`` a third on a
        # window's first hit): one script instead, which creates each window with its expiry if
        # it is new and counts the hit (issue 9 item 5). The value stays Django's plain integer.
        # A view with several limits (a submission: the authority's and the submit limit)
        # counts them all in the same call.
        keys = [backend.make_and_validate_key(bucket) for bucket in buckets]
        counts = _redis_client(backend, keys[0]).eval(_COUNT_HITS, len(keys), *keys, timeout)
        return [int(count) for count in counts]
    counts = []
    for bucket in buckets:
        try:
            counts.append(cache.incr(bucket))
        except ValueError:  # first request of the window
            if cache.add(bucket, 1, timeout=timeout):
                counts.append(1)
            else:
                counts.append(cache.incr(bucket))  # another worker created it meanwhile
    return counts


def window_hit(bucket: str, timeout: int) -> tuple[int, bool]:
    """Count one hit in ``bucket``; (count, shared). ``shared`` is False when the shared cache
    was unreachable and the count is this process's own (compare it with a divided limit)."""
    counts, shared = window_hits([bucket], timeout)
    return counts[0], shared


def window_hits(buckets: list[str], timeout: int) -> tuple[list[int], bool]:
    """``window_hit`` for several buckets at once (one round trip to the shared cache)."""
    global _cache_down_until
    if time.monotonic() >= _cache_down_until:
        try:
            return _shared_incrs(buckets, timeout), True
        except Exception as exc:  # redis ConnectionError, TimeoutError, ...: never a 500
            _cache_down_until = time.monotonic() + settings.THROTTLE_CACHE_RETRY_SECONDS
            log.warning("rate-limit cache unreachable (%s: %s); counting per process for %ss",
                        type(exc).__name__, exc, settings.THROTTLE_CACHE_RETRY_SECONDS)
    return [_local_incr(bucket, timeout) for bucket in buckets], False


def local_limit(limit: int) -> int:
    """The per-process share of a shared limit (never below one)."""
    return max(1, limit // max(1, settings.THROTTLE_LOCAL_DIVISOR))


def over_limit(bucket: str, limit: int, timeout: int) -> bool:
    count, shared = window_hit(bucket, timeout)
    return count > (limit if shared else local_limit(limit))


class AuthorityRateThrottle(SimpleRateThrottle):
    scope = "authority"
    num_requests: int
    duration: int

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = request.user
        if user is None or not getattr(user, "is_authenticated", False) or user.authority_id is None:
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": f"authority-{user.authority_id}"}

    def get_ident(self, request: Any) -> str:
        """The client address as the rest of the portal sees it (accounts.client_ip)."""
        return client_ip(request) or "unknown"

    def bucket(self, request: Any, view: Any) -> str | None:
        """The window this request counts in (None: not limited); ``wait()`` refers to it."""
        if self.rate is None:
            return None
        key = self.get_cache_key(request, view)
        if key is None:
            return None
        now = time.time()
        window = int(now // self.duration)
        self.window_end = (window + 1) * self.duration
        self.now = now
        return f"{key}:{window}"

    def applies(self, request: Any) -> bool:
        return True

    def allow_request(self, request: Any, view: Any) -> bool:
        bucket = self.bucket(request, view) if self.applies(request) else None
        if bucket is None:
            return True
        return not over_limit(bucket, self.num_requests, int(self.duration) + 1)

    def wait(self) -> float | None:
        return max(0.0, self.window_end - self.now)


class AuthoritySubmitThrottle(AuthorityRateThrottle):
    """A tighter limit on creating requests."""

    scope = "authority_submit"

    def applies(self, request: Any) -> bool:
        return bool(request.method == "POST")


def refused(throttles: list[Any], request: Any, view: Any) -> list[Any]:
    """The throttles among ``throttles`` that refuse ``request``, DRF's ``allow_request`` for
    each, but the authority limits of one duration counted in one round trip to the shared
    cache (a submission has two: its authority's and the submit limit)."""
    denied = []
    grouped: dict[int, list[tuple[AuthorityRateThrottle, str]]] = {}
    for throttle in throttles:
        if isinstance(throttle, AuthorityRateThrottle):
            bucket = throttle.bucket(request, view) if throttle.applies(request) else None
            if bucket is not None:
                grouped.setdefault(int(throttle.duration), []).append((throttle, bucket))
        elif not throttle.allow_request(request, view):
            denied.append(throttle)
    for duration, windows in grouped.items():
        counts, shared = window_hits([bucket for _, bucket in windows], duration + 1)
        for (throttle, _), count in zip(windows, counts, strict=True):
            if count > (throttle.num_requests if shared else local_limit(throttle.num_requests)):
                denied.append(throttle)
    return denied


class OneTripThrottling:
    """A view whose rate limits are checked with ``refused``: DRF's ``check_throttles``, one
    round trip to the shared cache for all of them."""

    def check_throttles(self, request: Any) -> None:
        denied = refused(self.get_throttles(), request, self)  # type: ignore[attr-defined]
        if denied:
            durations = [d for d in (throttle.wait() for throttle in denied) if d is not None]
            self.throttled(request, max(durations, default=None))  # type: ignore[attr-defined]
