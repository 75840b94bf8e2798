"""Rate limits per authority (not per token or IP): a compromised authority account cannot
flood the legal team by spreading requests over many tokens.

Fixed windows counted with an atomic ``incr`` in the shared cache: one round trip per check
once the window exists, and no read-modify-write race between web workers (DRF's default
throttle rewrites a list of timestamps).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from accounts.client_ip import client_ip


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

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        self.window_end = (window + 1) * self.duration
        self.now = now
        return self._count(f"{key}:{window}") <= self.num_requests

    def _count(self, bucket: str) -> int:
        """Atomic increment; one cache round trip once the window's bucket exists."""
        try:
            return cache.incr(bucket)
        except ValueError:  # first request of the window
            if cache.add(bucket, 1, timeout=int(self.duration) + 1):
                return 1
            return cache.incr(bucket)  # another worker created it meanwhile

    def wait(self) -> float | None:
        return max(0.0, self.window_end - self.now)


class AuthoritySubmitThrottle(AuthorityRateThrottle):
    """A tighter limit on creating requests."""

    scope = "authority_submit"

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)
