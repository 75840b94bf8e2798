"""Rate limits per authority (not per token or IP): a compromised authority account cannot
flood the legal team by spreading requests over many tokens."""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import SimpleRateThrottle


class AuthorityRateThrottle(SimpleRateThrottle):
    scope = "authority"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = request.user
        if user is None or not getattr(user, "is_authenticated", False) or user.authority_id is None:
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": f"authority-{user.authority_id}"}


class AuthoritySubmitThrottle(AuthorityRateThrottle):
    """A tighter limit on creating requests."""

    scope = "authority_submit"

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)
