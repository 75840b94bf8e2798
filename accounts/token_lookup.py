"""The API token's row, with its user and authority, by the token's hash: SQL compiled once.

Every API call reads its token (``token_authenticate``). Through the ORM, ``select_related``
over three tables meant building and compiling the same 38-column query on every request: the
compilation cost about as much CPU as everything else of the lookup (issue 9 item 5). Here the
queryset is compiled once per database connection and only executed per request; the rows
become model instances exactly as the ORM makes them (``from_db``, the related populators,
the backend's converters). Nothing is cached but the SQL text: every request reads the row,
so a revoked token, an expired one or a deactivated user is refused on the very next call.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]

from .models import ApiToken

# Stands for the hash while compiling, so that its place among the parameters is known.
_PLACEHOLDER = "\x00key_hash\x00"


def token_queryset(key_hash: str) -> Any:
    """The lookup as the ORM writes it (and as it runs where it cannot be compiled ahead)."""
    return ApiToken.objects.select_related("user", "user__authority").filter(key_hash=key_hash)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    index: int  # of the hash in ``params``
    compiler: Any
    init_list: list[str]
    start: int
    end: int
    populators: list[Any]
    converters: dict[int, Any]


_compiled: weakref.WeakKeyDictionary[Any, _Compiled | None] = weakref.WeakKeyDictionary()


def _compile(alias: str) -> _Compiled | None:
    connection = connections[alias]
    compiler = token_queryset(_PLACEHOLDER)[:1].query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    params = tuple(params)
    if params.count(_PLACEHOLDER) != 1:  # an unexpected shape: keep to the ORM
        _compiled[connection] = None
        return None
    select, klass_info = compiler.select, compiler.klass_info
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    compiled = _Compiled(
        sql=sql,
        params=params,
        index=params.index(_PLACEHOLDER),
        compiler=compiler,
        init_list=[column[0].target.attname for column in select[start:end]],
        start=start,
        end=end,
        populators=get_related_populators(klass_info, select, alias),
        converters=compiler.get_converters([column[0] for column in select[: compiler.col_count]]),
    )
    _compiled[connection] = compiled
    return compiled


def find_token(key_hash: str) -> ApiToken | None:
    """The token whose secret hashes to ``key_hash``, its user and authority loaded, or None."""
    alias = ApiToken.objects.db
    connection = connections[alias]
    compiled = _compiled[connection] if connection in _compiled else _compile(alias)
    if compiled is None:
        return token_queryset(key_hash).first()
    params = list(compiled.params)
    params[compiled.index] = key_hash
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    if compiled.converters:
        row = next(iter(compiled.compiler.apply_converters([row], compiled.converters)))
    token = ApiToken.from_db(alias, compiled.init_list, row[compiled.start : compiled.end])
    for populator in compiled.populators:
        populator.populate(row, token)
    return token
