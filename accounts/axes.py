"""How django-axes identifies the account of a sign-in attempt.

allauth authenticates with ``email=...`` (not ``username=``), and the admin form posts
``username``; without this, axes would record ``None`` and lock the IP address instead of
the account and address together.
"""

from __future__ import annotations

from typing import Any


def attempted_username(request: Any, credentials: dict[str, Any] | None) -> str | None:
    credentials = credentials or {}
    for key in ("email", "username", "login"):
        if credentials.get(key):
            return str(credentials[key]).strip().lower()
    data = getattr(request, "POST", {}) or {}
    value = data.get("login") or data.get("username") or data.get("email")
    return str(value).strip().lower() if value else None
