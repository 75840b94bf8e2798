"""The API token's row, with its user and authority, by the token's hash: SQL compiled once.

Every API call reads its token (``token_authenticate``). Through the ORM, ``select_related``
over three tables meant building and compiling the same 38-column query on every request: the
compilation cost about as much CPU as everything else of the lookup (issue 9 item 5). The
statement is compiled once per database connection by portal/compiled.py (the project's one
mechanism for that) and only executed per request. Nothing is cached but the SQL text: every
request reads the row, so a revoked token, an expired one or a deactivated user is refused on
the very next call.
"""

from __future__ import annotations

from typing import Any

from portal import compiled

from .models import ApiToken


def token_queryset(key_hash: str) -> Any:
    """The lookup as the ORM writes it (and as it runs where it cannot be compiled ahead)."""
    return ApiToken.objects.select_related("user", "user__authority").filter(key_hash=key_hash)


def find_token(key_hash: str) -> ApiToken | None:
    """The token whose secret hashes to ``key_hash`` (unique), its user and authority loaded, or None."""
    token: ApiToken | None = compiled.find(ApiToken, "api-token", key_hash, token_queryset)
    return token
