"""Reads and inserts that the ORM compiles once per connection, not per call.

Every API call reads its token with its user and authority (a 38-column, three-table join);
the worker's first delivery of a validation locks the wide request row (61 columns, with its
authority and submitter), reads its targets and inserts its timers. Through the ORM every call
built and compiled the same statements again: ``get()``, ``get_select``, ``as_sql``,
``prefetch_related_objects``, the INSERT's ``as_sql``; that compilation cost more CPU than
running them (issue 9 item 5). Here the ORM compiles each statement once per database
connection and shape; each call only executes it, and the rows become model instances exactly
as the ORM makes them (``from_db``, the related populators, the annotations, the backend's
converters). Only the SQL text is kept: every call reads and writes the database as before
(a revoked token, an expired one or a deactivated user is refused on the very next call).

One module for the whole project (accounts' token lookup, requests_app's lock, reads and
inserts), so that it sits below both apps. Anything the compiled form does not cover (an
unexpected statement shape, an expression that cannot be a cache key) falls back to the ORM.
"""

from __future__ import annotations

import functools
import json
import types
import weakref
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, models, router, transaction
from django.db.models import Model, QuerySet
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL
from django.db.models.query import MAX_GET_RESULTS, get_related_populators  # type: ignore[attr-defined]
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery
from django.db.models.sql.compiler import SQLInsertCompiler

_M = TypeVar("_M", bound=Model)

# Stands for the key (a primary or foreign key, or a text key such as a token's hash) while
# compiling, so that its place among the parameters is known. No real row has either.
_KEY = -7_346_198_251
_TEXT_KEY = "\x00compiled-key\x00"


# Stands for a list key (``= ANY(%s)``: the ids a queue's next must not be): a list holding the
# integer placeholder, the same one for every call whatever the list's length.
_LIST_KEY = [_KEY]


def _placeholder(key: Any) -> Any:
    if isinstance(key, list):
        return _LIST_KEY
    return _TEXT_KEY if isinstance(key, str) else _KEY

# psycopg converts a statement's text (its ``%s`` placeholders into ``$n``) once per text, in an LRU
# cache of 128 texts, but only for texts of up to 4,096 bytes with up to 50 parameters
# (``psycopg._queries.MAX_CACHED_STATEMENT_LENGTH`` and ``_PARAMS``: an ORM's multi-row INSERTs,
# one text per row count, would churn the cache). The statements of a submission are fixed texts,
# and two are beyond those limits: the request's INSERT (60 parameters) and the validation's lock
# of the request with its authority and submitter (~4,500 bytes). Converted again on every call,
# the INSERT alone cost ~5 % of the web's CPU per submission (issue 9 item 5). A text the ORM
# builds per call within the raised limits only takes one slot of the LRU cache.
CONVERTED_LENGTH_MAX = 16_384
CONVERTED_PARAMS_MAX = 256


def keep_conversions() -> None:
    """Let psycopg keep the conversion of texts up to ``CONVERTED_LENGTH_MAX`` bytes with up to
    ``CONVERTED_PARAMS_MAX`` parameters (called once per process, from ``RequestsAppConfig.ready``;
    psycopg reads both limits at each call)."""
    try:
        from psycopg import _queries
    except ImportError:  # the embedded mode without psycopg: nothing to tune
        return
    for name, value in (("MAX_CACHED_STATEMENT_LENGTH", CONVERTED_LENGTH_MAX),
                        ("MAX_CACHED_STATEMENT_PARAMS", CONVERTED_PARAMS_MAX)):
        if getattr(_queries, name, value) < value:  # a psycopg that keeps more: left as it is
            setattr(_queries, name, value)


# Shapes compiled per connection at most: lock_request's callers use a handful; beyond that
# (a caller building expressions per call) the ORM compiles as before.
_MAX_SHAPES = 32


@dataclass(frozen=True)
class _Read:
    sql: str
    params: tuple[Any, ...]
    index: int  # of the key in ``params``
    compiler: Any
    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    populators: list[Any]
    annotations: tuple[tuple[str, int], ...]
    converters: dict[int, Any]


_shapes: weakref.WeakKeyDictionary[Any, dict[Hashable, _Read | None]] = weakref.WeakKeyDictionary()


def _compile_read(queryset: QuerySet[Any], alias: str, placeholder: Any) -> _Read | None:
    compiler = queryset.query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    params = tuple(params)
    if sum(1 for p in params if type(p) is type(placeholder) and p == placeholder) != 1:
        return None  # an unexpected shape: keep to the ORM
    select, klass_info = compiler.select, compiler.klass_info
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    return _Read(
        sql=sql,
        params=params,
        index=next(i for i, p in enumerate(params) if type(p) is type(placeholder) and p == placeholder),
        compiler=compiler,
        model=klass_info["model"],
        init_list=[column[0].target.attname for column in select[start:end]],
        start=start,
        end=end,
        populators=get_related_populators(klass_info, select, alias),
        annotations=tuple(compiler.annotation_col_map.items()),
        converters=compiler.get_converters([column[0] for column in select[: compiler.col_count]]),
    )


def _read(alias: str, shape: Hashable, queryset: Callable[[Any], QuerySet[Any]], placeholder: Any = _KEY,
          ) -> _Read | None:
    connection = connections[alias]
    compiled = _shapes.get(connection)
    if compiled is None:
        compiled = _shapes[connection] = {}
    try:
        return compiled[shape]
    except KeyError:
        pass
    except TypeError:  # an unhashable shape (an expression without identity)
        return None
    if len(compiled) >= _MAX_SHAPES:
        return None
    read = compiled[shape] = _compile_read(queryset(placeholder), alias, placeholder)
    return read


def _rows(read: _Read, alias: str, key: Any) -> list[Any]:
    params = list(read.params)
    params[read.index] = key
    with connections[alias].cursor() as cursor:
        cursor.execute(read.sql, params)
        rows = cursor.fetchall()
    if read.converters:
        rows = list(read.compiler.apply_converters(rows, read.converters))
    return rows


def _instance(read: _Read, alias: str, row: Sequence[Any]) -> Any:
    obj = read.model.from_db(alias, read.init_list, row[read.start : read.end])
    for populator in read.populators:
        populator.populate(row, obj)
    for name, position in read.annotations:
        setattr(obj, name, row[position])
    return obj


def get(model: type[Model], shape: Hashable, pk: int, queryset: Callable[[int], QuerySet[Any]]) -> Any:
    """``queryset(pk).get()``, the statement compiled once per connection and ``shape``.

    ``queryset(key)`` builds the query filtered on ``key`` (the same for every call of a
    shape but the key); ``shape`` names everything else it depends on."""
    alias = router.db_for_write(model)  # a lock, as ``select_for_update()`` picks it
    read = _read(alias, ("get", shape), lambda key: _for_get(queryset(key), alias))
    if read is None:
        return queryset(pk).get()
    rows = _rows(read, alias, pk)
    if len(rows) == 1:
        return _instance(read, alias, rows[0])
    name = model._meta.object_name
    if not rows:
        raise model.DoesNotExist(f"{name} matching query does not exist.")  # type: ignore[attr-defined]
    raise model.MultipleObjectsReturned(  # type: ignore[attr-defined]
        f"get() returned more than one {name} -- it returned {len(rows)}!")


def find(model: type[Model], shape: Hashable, key: Any, queryset: Callable[[Any], QuerySet[Any]]) -> Any:
    """The row of ``queryset(key)`` on a unique ``key`` (an integer or a text), or None; the
    statement (``queryset(key)[:1]``) compiled once per connection and ``shape``, read where
    ``model``'s reads go."""
    return _first(router.db_for_read(model), "find", shape, key, queryset)


def first_locked(model: type[Model], shape: Hashable, key: Any, queryset: Callable[[Any], QuerySet[Any]]) -> Any:
    """The first row of ``queryset(key)`` (ordered, ``select_for_update``), or None: ``find``
    for a lock, read where ``model``'s writes go (as ``select_for_update()`` picks it). ``key``
    may be a list (an ``= ANY(%s)`` parameter of the query, one text for any length)."""
    return _first(router.db_for_write(model), "first_locked", shape, key, queryset)


def _first(alias: str, kind: str, shape: Hashable, key: Any, queryset: Callable[[Any], QuerySet[Any]]) -> Any:
    placeholder = _placeholder(key)
    read = _read(alias, (kind, shape, type(placeholder)), lambda k: queryset(k)[:1], placeholder)
    if read is None:
        return queryset(key).first()
    rows = _rows(read, alias, key)
    return _instance(read, alias, rows[0]) if rows else None


def _for_get(queryset: QuerySet[Any], alias: str) -> QuerySet[Any]:
    """What ``QuerySet.get()`` runs: no ordering, at most MAX_GET_RESULTS rows where the
    backend takes a LIMIT with FOR UPDATE."""
    clone = queryset.order_by()
    if not clone.query.select_for_update or connections[alias].features.supports_select_for_update_with_limit:
        clone.query.set_limits(high=MAX_GET_RESULTS)
    return clone


def prefetch_reverse(instance: Model, name: str) -> None:
    """``prefetch_related_objects([instance], name)`` for a reverse foreign key (``targets``),
    the statement compiled once: afterwards ``instance.<name>.all()`` reads no more, and each
    related row knows ``instance`` (as the ORM's prefetch leaves them)."""
    manager = getattr(instance, name)
    field = manager.field  # the related model's foreign key to ``instance``
    alias = instance._state.db or router.db_for_read(field.model, instance=instance)  # as the prefetch
    cache_name = field.remote_field.cache_name
    if cache_name in getattr(instance, "_prefetched_objects_cache", {}):
        return  # prefetched already: the ORM would not read them again either
    read = _read(alias, ("reverse", field.model, field.name),
                 lambda key: field.model._default_manager.filter(**{field.attname: key}))
    if read is None:
        from django.db.models import prefetch_related_objects

        prefetch_related_objects([instance], name)
        return
    _store_prefetched(instance, name, [_instance(read, alias, row) for row in _rows(read, alias, instance.pk)])


_JSON_READABLE = (models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField,
                  models.CharField, models.TextField, models.BooleanField, models.DateTimeField,
                  models.ForeignKey)


@functools.cache
def reverse_rows(model: type[Model], name: str) -> RawSQL:
    """An annotation of ``model`` with the rows of its reverse foreign key ``name`` (``targets``)
    as one JSON text (a correlated subquery, in the related model's ``Meta.ordering``, by its key
    without one), for ``prefetched_from_rows``: the rows read with the statement that reads their
    parent (the validation's queue lock), not by a round trip of their own (issue 9 item 5, stop
    33). PostgreSQL (``json_agg``). The related model's columns must read back from JSON with
    ``to_python`` (numbers, text, booleans, timestamps): others are refused. The same object for
    the same (model, name), so a statement shape naming it stays one shape."""
    field: Any = model._meta.get_field(name).remote_field  # the related model's foreign key to ``model``
    related: Any = field.model
    columns = related._meta.concrete_fields
    refused = [f.name for f in columns if not isinstance(f, _JSON_READABLE)]
    if refused:
        raise TypeError(f"{related.__name__}: columns that do not read back from JSON: {refused}")
    declared = list(related._meta.ordering or ())
    if any(not isinstance(o, str) or o.startswith("-") for o in declared):
        raise TypeError(f"{related.__name__}: only ascending field orderings are read this way")
    quote = connections[router.db_for_read(related)].ops.quote_name
    cells = ", ".join(f"r.{quote(f.column)}" for f in columns)
    order = ", ".join(f"r.{quote(related._meta.get_field(o).column)}" for o in declared or [related._meta.pk.name])
    # Names of the models' own tables and columns only, no value.
    return RawSQL(  # noqa: S611
        f"(SELECT json_agg(json_build_array({cells}) ORDER BY {order})::text FROM {quote(related._meta.db_table)} r "  # noqa: S608
        f"WHERE r.{quote(field.column)} = {quote(model._meta.db_table)}.{quote(model._meta.pk.column)})", ())


def prefetched_from_rows(instance: Model, name: str, rows: str | None) -> None:
    """``prefetch_reverse(instance, name)`` from the text a ``reverse_rows`` annotation read."""
    related = getattr(instance, name).field.model
    columns = related._meta.concrete_fields
    alias = instance._state.db or router.db_for_read(related, instance=instance)
    names = [f.attname for f in columns]
    _store_prefetched(instance, name, [
        related.from_db(alias, names, [None if value is None else field.to_python(value)
                                       for field, value in zip(columns, cells, strict=True)])
        for cells in (json.loads(rows) if rows else [])])


def _store_prefetched(instance: Model, name: str, related: list[Any]) -> None:
    """The related rows of ``instance.<name>`` stored as the ORM's prefetch stores them: each row
    knows ``instance``, and ``instance.<name>.all()`` reads no more."""
    manager = getattr(instance, name)
    field = manager.field
    cache_name = field.remote_field.cache_name
    for obj in related:
        field.set_cached_value(obj, instance)
    queryset = manager.get_queryset()  # the filtered queryset the prefetch stores, its rows given
    queryset._result_cache = related
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    instance._prefetched_objects_cache[cache_name] = queryset  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: tuple[Any, ...]


def _insert_compiler(query: InsertQuery, alias: str) -> Any:
    """The compiler of an INSERT kept here, in the plain ``VALUES (…), (…)`` form for any number of
    rows. Django's PostgreSQL compiler sends several rows as ``INSERT … SELECT * FROM UNNEST(%s::…[],
    …)``, one array parameter per column, to spare the planner a long VALUES list; a statement kept
    here is prepared once per connection (``prepare_threshold``), so that gain is gone, while
    psycopg dumps every array element by element in Python (its ``ListDumper``: ~8 % of the
    worker's CPU per submission, issue 9 item 5). In the VALUES form each value is one scalar
    parameter, dumped by psycopg's C dumpers."""
    compiler = query.get_compiler(using=alias)
    compiler.assemble_as_sql = types.MethodType(SQLInsertCompiler.assemble_as_sql, compiler)
    return compiler


_inserts: weakref.WeakKeyDictionary[Any, dict[Hashable, _Insert | None]] = weakref.WeakKeyDictionary()


def _compile_insert(model: type[Model], objs: list[Model], alias: str, ignore_conflicts: bool) -> _Insert | None:
    connection = connections[alias]
    fields = tuple(f for f in model._meta.concrete_fields if not f.generated and f is not model._meta.auto_field)
    if ((ignore_conflicts and not connection.features.supports_ignore_conflicts)
            or connection.ops.bulk_batch_size(list(fields), objs) < len(objs)):  # the ORM would batch
        return None
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
    query.insert_values(list(fields), objs, raw=False)
    statements = _insert_compiler(query, alias).as_sql()
    if len(statements) != 1:
        return None
    sql, params = statements[0]
    if len(params) != len(objs) * len(fields):
        return None  # an unexpected shape: keep to the ORM
    return _Insert(sql=sql, fields=fields)


def insert_ignoring_conflicts(model: type[Model], objs: Iterable[Model]) -> None:
    """``model.objects.bulk_create(objs, ignore_conflicts=True)`` for new rows (primary key
    assigned by the database), the INSERT compiled once per connection and row count. The
    values are prepared per call as the ORM prepares them (``pre_save``, ``get_db_prep_save``);
    as with ``ignore_conflicts``, the primary keys are not read back and the instances stay
    unsaved in memory."""
    _insert(model, objs, ignore_conflicts=True)


def insert(model: type[Model], objs: Iterable[Model]) -> None:
    """``model.objects.bulk_create(objs)`` for new rows whose instances the caller drops (a
    request's targets at intake): the INSERT compiled once per connection and row count, the
    values prepared as the ORM prepares them; a constraint violated fails as it does there
    (IntegrityError). Unlike ``bulk_create`` the primary keys are not read back: the
    instances stay unsaved in memory."""
    _insert(model, objs, ignore_conflicts=False)


def _insert(model: type[Model], objs: Iterable[Model], *, ignore_conflicts: bool) -> None:
    objs = list(objs)
    if not objs:
        return
    alias = router.db_for_write(model)
    connection = connections[alias]
    compiled = _inserts.get(connection)
    if compiled is None:
        compiled = _inserts[connection] = {}
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
    shape = (model, len(objs), ignore_conflicts)
    insert = compiled.get(shape)
    fields = insert.fields if insert is not None else tuple(
        f for f in model._meta.concrete_fields if not f.generated and f is not model._meta.auto_field)
    values = [[field.pre_save(obj, True) for field in fields] for obj in objs]
    # An expression among the values is compiled into the statement by the ORM (never into the
    # one kept here), and a primary key given is inserted by it: not here.
    if (any(obj.pk is not None for obj in objs)
            or any(hasattr(v, "resolve_expression") for row in values for v in row)):
        model._default_manager.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    if shape not in compiled and len(compiled) < _MAX_SHAPES:
        compiled[shape] = insert = _compile_insert(model, objs, alias, ignore_conflicts)
    if insert is None:
        model._default_manager.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    params = [field.get_db_prep_save(value, connection=connection)
              for row in values for field, value in zip(insert.fields, row, strict=True)]
    # As the ORM's save and bulk_create: an error inside an atomic block marks it for rollback.
    with transaction.mark_for_rollback_on_error(using=alias), connection.cursor() as cursor:
        cursor.execute(insert.sql, params)


@dataclass(frozen=True)
class _InsertReturning:
    sql: str
    fields: tuple[Any, ...]
    returning: tuple[Any, ...]
    returning_params: tuple[Any, ...]
    compiler: Any
    converters: Any


_returning: weakref.WeakKeyDictionary[Any, dict[Hashable, _InsertReturning | None]] = weakref.WeakKeyDictionary()


def insert_text(model: type[Model], fields: Sequence[Any], objs: Sequence[Model], returning: Sequence[Any],
                alias: str) -> tuple[str, Sequence[Any], tuple[Any, ...], Any] | None:
    """The INSERT … RETURNING the ORM sends for ``objs``: its text, the parameters of this call,
    the RETURNING clause's own parameters and the compiler (for the returned columns' converters);
    None when the ORM would send more than one statement. Compiled with the values as they are
    (``raw``), so that no field's ``pre_save`` runs twice; only the text is meant to be kept."""
    query = InsertQuery(model)
    query.insert_values(list(fields), list(objs), raw=True)
    compiler = _insert_compiler(query, alias)
    compiler.returning_fields = list(returning)
    statements = compiler.as_sql()
    if len(statements) != 1:
        return None
    sql, params = statements[0]
    return sql, params, tuple(compiler.returning_params or ()), compiler


def _compile_insert_returning(model: type[Model], objs: Sequence[Model], alias: str) -> _InsertReturning | None:
    connection = connections[alias]
    fields = tuple(f for f in model._meta.concrete_fields if not f.generated and f is not model._meta.auto_field)
    returning = tuple(model._meta.db_returning_fields)
    if (not returning or connection.ops.bulk_batch_size(list(fields), objs) < len(objs)  # the ORM would batch
            or not (connection.features.can_return_rows_from_bulk_insert if len(objs) > 1
                    else connection.features.can_return_columns_from_insert)):
        return None
    text = insert_text(model, fields, objs, returning, alias)
    if text is None:
        return None
    sql, params, returning_params, compiler = text
    if len(params) - len(returning_params) != len(objs) * len(fields):
        return None  # an unexpected shape: keep to the ORM
    cols = [field.get_col(model._meta.db_table) for field in returning]
    return _InsertReturning(sql=sql, fields=fields, returning=returning,
                            returning_params=returning_params, compiler=compiler,
                            converters=compiler.get_converters(cols))




def insert_returning(model: type[_M], objs: Iterable[_M]) -> list[_M]:
    """``model.objects.bulk_create(objs)`` for new rows (primary key assigned by the database, no
    conflict handling: a duplicate raises IntegrityError as there), the INSERT … RETURNING compiled
    once per connection and row count. Each instance gets its returned columns (the primary key)
    and the state bulk_create leaves (``_state.adding`` False, ``_state.db``); values are prepared
    per call as the ORM prepares them (``pre_save``, ``get_db_prep_save``)."""
    objs = list(objs)
    if not objs:
        return objs
    alias = router.db_for_write(model)
    connection = connections[alias]
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
    shape = (model, len(objs))
    compiled = _returning.get(connection)
    if compiled is None:
        compiled = _returning[connection] = {}
    if shape not in compiled and len(compiled) < _MAX_SHAPES:
        compiled[shape] = _compile_insert_returning(model, objs, alias)
    insert = compiled.get(shape)
    # A primary key given, an expression (or a database default) among the values: the ORM's.
    if (insert is None or any(obj.pk is not None for obj in objs)
            or any(hasattr(getattr(obj, field.attname, None), "resolve_expression")
                   for obj in objs for field in insert.fields)):
        return model._default_manager.bulk_create(objs)
    params = [field.get_db_prep_save(field.pre_save(obj, True), connection=connection)
              for obj in objs for field in insert.fields]
    params.extend(insert.returning_params)
    with connection.cursor() as cursor:
        cursor.execute(insert.sql, params)
        if len(objs) > 1:
            returned = list(connection.ops.fetch_returned_insert_rows(cursor))  # type: ignore[attr-defined]
        else:
            returned = [connection.ops.fetch_returned_insert_columns(cursor, insert.returning_params)]
    if insert.converters:
        returned = list(insert.compiler.apply_converters(returned, insert.converters))
    if len(returned) != len(objs):
        raise RuntimeError(f"INSERT … RETURNING gave {len(returned)} rows for {len(objs)}")
    for obj, values in zip(objs, returned, strict=True):
        for value, field in zip(values, insert.returning, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = alias
    return objs


_creates: weakref.WeakKeyDictionary[Any, dict[type[Model], tuple[str, tuple[Any, ...]] | None]] = \
    weakref.WeakKeyDictionary()


def create(obj: _M) -> _M:
    """``obj.save()`` for a new instance (primary key assigned by the database), the INSERT …
    RETURNING compiled once per connection and model; the values are prepared per call as the
    ORM prepares them, and the instance afterwards is as ``save()`` leaves it (its key set,
    ``_state.adding`` False, its database noted). Where anything listens to the model's
    ``pre_save``/``post_save`` signals, where a value is an expression or the key is given,
    the ORM saves it. The model's own ``save()`` is not called: use it only for models whose
    ``save()`` adds nothing to an insert (LegalRequest's acts on updates only)."""
    model = type(obj)
    meta = model._meta
    alias = router.db_for_write(model, instance=obj)
    connection = connections[alias]
    compiled = _creates.get(connection)
    if compiled is None:
        compiled = _creates[connection] = {}
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    fields = _create_fields(model)
    values = [field.pre_save(obj, True) for field in fields]
    if (obj.pk is not None or pre_save.has_listeners(model) or post_save.has_listeners(model)
            # An expression is compiled into the statement: never into the one kept.
            or any(hasattr(v, "resolve_expression") for v in values)):
        obj.save(force_insert=True, using=alias)
        return obj
    if model not in compiled:
        compiled[model] = _compile_create(model, obj, alias)
    statement = compiled[model]
    if statement is None:
        obj.save(force_insert=True, using=alias)
        return obj
    params = [field.get_db_prep_save(value, connection=connection)
              for field, value in zip(statement[1], values, strict=True)]
    with transaction.mark_for_rollback_on_error(using=alias), connection.cursor() as cursor:
        cursor.execute(statement[0], params)
        row = cursor.fetchone()
    setattr(obj, meta.pk.attname, row[0])  # type: ignore[union-attr]
    obj._state.adding = False
    obj._state.db = alias
    return obj


def _create_fields(model: type[Model]) -> tuple[Any, ...]:
    meta = model._meta
    return tuple(f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field)


def _compile_create(model: type[Model], obj: Model, alias: str) -> tuple[str, tuple[Any, ...]] | None:
    connection = connections[alias]
    meta = model._meta
    if not connection.features.can_return_columns_from_insert or meta.parents or meta.pk is not meta.auto_field:
        return None
    fields = _create_fields(model)
    if any(getattr(f, "db_returning", False) for f in fields):
        return None  # a value the database makes and the ORM reads back: keep to the ORM
    query = InsertQuery(model)
    query.insert_values(list(fields), [obj], raw=False)
    compiler = query.get_compiler(using=alias)
    compiler.returning_fields = [meta.pk]
    statements = compiler.as_sql()
    if len(statements) != 1 or len(statements[0][1]) != len(fields):
        return None
    return statements[0][0], fields
