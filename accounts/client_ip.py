"""The client's IP address: the one helper behind the audit trail, the API throttles, allauth's
rate limits and django-axes' lockouts.

Behind ``PORTAL_TRUSTED_PROXY_COUNT`` reverse proxies (default 0: the portal faces clients
directly), each proxy appends the address it saw to ``X-Forwarded-For``; the client is the
entry the outermost trusted proxy appended, ``N`` from the right. Entries further left are
supplied by the client and never trusted. allauth reads the same count
(``ALLAUTH_TRUSTED_PROXY_COUNT``) and axes calls this helper (``AXES_CLIENT_IP_CALLABLE``).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: Any) -> str | None:
    meta = getattr(request, "META", {})
    count = int(getattr(settings, "PORTAL_TRUSTED_PROXY_COUNT", 0) or 0)
    if count > 0:
        hops = [h for h in (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if h.strip()]
        if len(hops) >= count:
            found = _clean(hops[-count])
            if found:
                return found
    return _clean(meta.get("REMOTE_ADDR"))
