"""``Model.save()``'s UPDATE and INSERT statements compiled once per connection, not per save.

``save()`` (``save_base``, ``_save_table``) is kept whole: signals, ``pre_save`` of each field
(``auto_now``), the primary key set from RETURNING, ``_state``. Only its last step, where the
ORM builds an ``UpdateQuery`` / ``InsertQuery`` and compiles it for every call, is replaced for
the models that opt in by overriding ``_do_update`` / ``_do_insert`` with the functions here:
the statement text is compiled by the ORM the first time a shape is seen on a connection; each
call then prepares the values as the compilers do (``get_db_prep_save``) and executes the same
text (the same prepared statement on PostgreSQL). For the validation task that was the
request's move (``save(update_fields=…)``, ~60 % of the save's CPU) and the outbox row's
INSERT (issue 9 item 5).

A shape the compiled form does not cover goes to the ORM: an expression or a model instance
among the values, a field with its own placeholder, ``select_on_save``, a base manager that
filters, a raw save, a model whose table has parents, a key that is not an int.
The pattern of portal/compiled.py (reads, the timers' INSERT, intake's creates).
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model
from django.db.models.sql import UpdateQuery

from portal import compiled

_MAX_SHAPES = 64

_compiled: weakref.WeakKeyDictionary[Any, dict[Hashable, Any]] = weakref.WeakKeyDictionary()


def _cache(using: str) -> dict[Hashable, Any]:
    connection = connections[using]
    found = _compiled.get(connection)
    if found is None:
        found = _compiled[connection] = {}
    return found


def _plain(value: Any) -> bool:
    return not hasattr(value, "resolve_expression") and not hasattr(value, "prepare_database_save")


# --- UPDATE ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Update:
    sql: str


def do_update(obj: Model, base_qs: Any, using: str, pk_val: Any, values: Sequence[tuple[Any, Any, Any]],
              update_fields: Any, forced_update: bool) -> bool:
    """``Model._do_update``: True when a row was updated."""
    model = type(obj)
    if (not values or model._meta.select_on_save or model._meta.parents or type(pk_val) is not int
            or base_qs.query.where or base_qs.model is not model
            or any(hasattr(field, "get_placeholder") or not _plain(value) for field, _m, value in values)):
        return Model._do_update(obj, base_qs, using, pk_val, values, update_fields, forced_update)  # type: ignore[attr-defined]
    connection = connections[using]
    prepared = [field.get_db_prep_save(value, connection=connection) for field, _m, value in values]
    if any(hasattr(value, "as_sql") for value in prepared):
        return Model._do_update(obj, base_qs, using, pk_val, values, update_fields, forced_update)  # type: ignore[attr-defined]
    # The text depends on which values are NULL ("col = NULL" is written into it).
    shape = ("update", model, tuple(field.column for field, _m, _v in values), tuple(v is None for v in prepared))
    cache = _cache(using)
    update = cache.get(shape)
    if update is None:
        update = _compile_update(base_qs, pk_val, values, prepared, using)
        if update is None or len(cache) >= _MAX_SHAPES:
            return Model._do_update(obj, base_qs, using, pk_val, values, update_fields, forced_update)  # type: ignore[attr-defined]
        cache[shape] = update
    params = [value for value in prepared if value is not None]
    params.append(pk_val)
    with connection.cursor() as cursor:
        cursor.execute(update.sql, params)
        return bool(cursor.rowcount > 0)


def _compile_update(base_qs: Any, pk_val: int, values: Sequence[tuple[Any, Any, Any]], prepared: list[Any],
                    using: str) -> _Update | None:
    """What ``base_qs.filter(pk=pk_val)._update(values)`` sends, as ``QuerySet._update`` builds it."""
    query = base_qs.filter(pk=pk_val).query.chain(UpdateQuery)
    query.add_update_fields(values)
    query.annotations = {}
    if query.related_updates:
        return None
    sql, params = query.get_compiler(using).as_sql()
    expected = [value for value in prepared if value is not None]
    if len(params) != len(expected) + 1 or params[-1] != pk_val:  # an unexpected shape: keep to the ORM
        return None
    return _Update(sql=sql)


# --- INSERT ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Insert:
    sql: str
    returning_params: tuple[Any, ...]
    converters: Any
    compiler: Any


def do_insert(obj: Model, manager: Any, using: str, fields: Sequence[Any], returning_fields: Sequence[Any],
              raw: bool) -> Any:
    """``Model._do_insert``: the rows of ``returning_fields`` (one row)."""
    model = type(obj)
    connection = connections[using]
    if (raw or not fields or not returning_fields or model._meta.parents
            or not connection.features.can_return_columns_from_insert
            or any(hasattr(field, "get_placeholder") or not _plain(getattr(obj, field.attname, None))
                   for field in fields)):
        return Model._do_insert(obj, manager, using, fields, returning_fields, raw)  # type: ignore[attr-defined]
    shape = ("insert", model, tuple(field.column for field in fields),
             tuple(field.column for field in returning_fields))
    cache = _cache(using)
    insert = cache.get(shape)
    if insert is None:
        insert = _compile_insert(model, obj, fields, returning_fields, using)
        if insert is None or len(cache) >= _MAX_SHAPES:
            return Model._do_insert(obj, manager, using, fields, returning_fields, raw)  # type: ignore[attr-defined]
        cache[shape] = insert
    # As SQLInsertCompiler.as_sql: pre_save_val, then prepare_value.
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection=connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(insert.sql, params)
        rows = [connection.ops.fetch_returned_insert_columns(cursor, insert.returning_params)]
    if insert.converters:
        rows = list(insert.compiler.apply_converters(rows, insert.converters))
    return rows


def _compile_insert(model: type[Model], obj: Model, fields: Sequence[Any], returning_fields: Sequence[Any],
                    using: str) -> _Insert | None:
    """The text ``manager._insert([obj], fields, returning_fields)`` sends. Compiled with the
    values as they are (``raw``), so that no field's ``pre_save`` runs twice; the values only
    fill the parameters, which are not kept."""
    text = compiled.insert_text(model, fields, [obj], returning_fields, using)
    if text is None:
        return None
    sql, params, returning_params, compiler = text
    if len(params) != len(fields) + len(returning_params):
        return None
    cols = [field.get_col(model._meta.db_table) for field in returning_fields]
    return _Insert(sql=sql, returning_params=returning_params, converters=compiler.get_converters(cols),
                   compiler=compiler)
