"""The API serializers' fields are copied from per-class prototypes (``Prototype.copy``, already
bound) instead of DRF's ``copy.deepcopy`` and ``bind``: the same fields, the same answers, and no
field shared between two serializers."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from rest_framework import serializers as drf
from rest_framework.utils.formatting import lazy_format

from requests_app.api.serializers import (
    ClarificationSerializer,
    RequestCreateSerializer,
    RequestDetailSerializer,
    RequestReceiptSerializer,
)
from requests_app.models import LegalRequest
from tests.conftest import epoc_body

from .helpers import API


def as_drf_builds_them(cls: type) -> type:
    """``cls`` with DRF's own ``get_fields`` (deep copies, model metadata read per instance)."""
    base = drf.ModelSerializer if issubclass(cls, drf.ModelSerializer) else drf.Serializer

    def get_fields(self: Any) -> dict[str, Any]:
        if base is drf.Serializer:
            return copy.deepcopy(self._declared_fields)
        return drf.ModelSerializer.get_fields(self)

    return type(f"Plain{cls.__name__}", (cls,), {"get_fields": get_fields})


BODIES = [
    epoc_body(),
    epoc_body(targets=[{"kind": "phone", "value": " +33 6 12 34 56 78 "}, {"kind": "nope", "value": ""}]),
    epoc_body(data_categories=["subscriber", "subscriber"], addressee_country="el", language="xx"),
    epoc_body(offence={"max_sentence_months": -1, "sentence_execution": {"sentence_months": 3}}),
    epoc_body(data_from="2026-09-01T10:00:00", emergency="maybe", delegates=["not-an-address"]),
    {"instrument": "epoc"},
    {},
]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("partial", [False, True])
def test_validation_answers_as_with_drfs_copies(body, partial):
    ours, theirs = (
        RequestCreateSerializer(data=body, partial=partial),
        as_drf_builds_them(RequestCreateSerializer)(data=body, partial=partial),
    )
    assert ours.is_valid() == theirs.is_valid()
    assert ours.errors == theirs.errors
    if not ours.errors:
        assert ours.validated_data == theirs.validated_data


def test_a_clarifications_changes_are_checked_as_before():
    body = {"message": "see", "changes": {"case_reference": "", "targets": [{"kind": "x", "value": "y"}]}}
    ours, theirs = ClarificationSerializer(data=body), as_drf_builds_them(ClarificationSerializer)(data=body)
    assert ours.is_valid() == theirs.is_valid()
    assert ours.errors == theirs.errors


def test_no_field_is_shared_between_two_serializers():
    first, second = RequestCreateSerializer(data=epoc_body()), RequestCreateSerializer(data=epoc_body())
    for name, field in first.fields.items():
        other = second.fields[name]
        assert field is not other and field.parent is first and other.parent is second
        assert field.field_name == name and field.source_attrs == [name]
        child = getattr(field, "child", None)
        if child is not None:
            assert child is not other.child and child.parent is field and other.child.parent is other
    nested = first.fields["targets"].child.fields
    assert all(f.parent is first.fields["targets"].child for f in nested.values())
    assert first.is_valid() and second.is_valid()


@pytest.mark.django_db
@pytest.mark.parametrize("cls", [RequestReceiptSerializer, RequestDetailSerializer])
def test_a_stored_request_is_shown_as_with_drfs_fields(api, cls):
    response = api.post(API, epoc_body(), format="json")
    assert response.status_code == 201
    request = LegalRequest.objects.get(reference=response.json()["reference"])
    assert cls(request).data == as_drf_builds_them(cls)(request).data
    assert RequestReceiptSerializer(request).data["reference"] == response.json()["reference"]


def same_state(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where two fields (or values inside them) differ; ``parent`` is left out (the test below checks it)."""
    if ours is theirs or (type(ours) is type(theirs) and not hasattr(ours, "__dict__") and ours == theirs):
        return []
    if type(ours) is not type(theirs):
        return [f"{path}: {type(ours).__name__} != {type(theirs).__name__}"]
    if isinstance(ours, lazy_format):  # a message, formatted when shown
        return [] if str(ours) == str(theirs) else [f"{path}: {ours} != {theirs}"]
    if isinstance(ours, QuerySet):  # a UniqueValidator's, built anew by each of DRF's builds
        return [] if (ours.model, str(ours.query)) == (theirs.model, str(theirs.query)) else [f"{path}: queryset"]
    if isinstance(ours, list | tuple):
        if len(ours) != len(theirs):
            return [f"{path}: {len(ours)} items != {len(theirs)}"]
        return [d for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) for d in same_state(a, b, f"{path}[{i}]")]
    if isinstance(ours, dict):
        if ours.keys() != theirs.keys():
            return [f"{path}: keys {sorted(ours.keys() ^ theirs.keys())}"]
        return [d for key in ours for d in same_state(ours[key], theirs[key], f"{path}.{key}")]
    if isinstance(ours, drf.Field) or type(ours).__module__.startswith(("rest_framework.", "django.core.validators")):
        mine, other = dict(vars(ours)), dict(vars(theirs))
        if ("parent" in mine) != ("parent" in other):
            return [f"{path}: bound on one side only"]
        # The counter orders declarations (a copy is none); a nested serializer's fields are compared
        # apart; ModelSerializer.get_fields notes url_field_name on the instance it builds for, and
        # reads it only there (the prototypes are built once per class).
        for name in ("parent", "_creation_counter", "fields", "url_field_name"):
            mine.pop(name, None), other.pop(name, None)
        return same_state(mine, other, path)
    return [] if ours == theirs else [f"{path}: {ours!r} != {theirs!r}"]


@pytest.mark.parametrize("cls", [RequestCreateSerializer, ClarificationSerializer, RequestReceiptSerializer,
                                 RequestDetailSerializer])
def test_each_field_is_bound_as_drf_binds_it(db, cls):
    """The bound copies (``fields``) hold what DRF's deep copy and ``bind`` give, nested fields included."""
    ours, theirs = cls(), as_drf_builds_them(cls)()
    assert list(ours.fields) == list(theirs.fields)
    for name in ours.fields:
        field, other = ours.fields[name], theirs.fields[name]
        assert field.parent is ours and other.parent is theirs
        nested = getattr(field, "child", field)
        if isinstance(nested, drf.Serializer):  # its own fields, built when first read
            assert same_state(dict(nested.fields), dict(getattr(other, "child", other).fields), name) == []
        assert same_state(field, other, name) == []


BAD_BODIES = [*BODIES[1:], {"instrument": "epoc", "targets": "nope"}, {"instrument": "epoc", "offence": []},
              {"instrument": "epoc", "validation": {"authority_type": "judge"}}, ["not", "an", "object"]]


@pytest.mark.django_db
@pytest.mark.parametrize("body", BAD_BODIES)
def test_a_refused_body_is_answered_byte_for_byte_as_with_drfs_fields(api, monkeypatch, body):
    """The 400 of the submission and of ``/check/``: same status, same bytes (field names,
    messages, codes) as with DRF's own copies and binding; nothing stored."""
    from requests_app.api import views

    from .helpers import counts

    before = counts()
    ours = [api.post(url, body, format="json") for url in (API, f"{API}check/")]
    monkeypatch.setattr(views, "RequestCreateSerializer", as_drf_builds_them(RequestCreateSerializer))
    theirs = [api.post(url, body, format="json") for url in (API, f"{API}check/")]
    for mine, other in zip(ours, theirs, strict=True):
        assert mine.status_code == other.status_code == 400
        assert mine.content == other.content
    assert counts() == before


def test_a_history_is_shown_as_drfs_list_serializer_shows_it():
    from datetime import UTC, datetime

    from requests_app.api.serializers import HistoryEntrySerializer

    history = [{"status": "received", "from_status": None, "at": datetime(2026, 3, 28, 23, 30, 0, 123456, tzinfo=UTC)},
               {"status": "validated", "from_status": "received", "at": datetime(2026, 3, 29, 1, 0, tzinfo=UTC)},
               {"status": "in_review", "from_status": "validated", "at": datetime(2026, 10, 25, 0, 59, 59, tzinfo=UTC)}]
    for entries in (history, history[:1], []):
        shown = RequestReceiptSerializer(LegalRequest(), context={"history": entries}).get_history(LegalRequest())
        assert shown == list(HistoryEntrySerializer(entries, many=True).data)
        assert json.dumps(shown, cls=DjangoJSONEncoder) == json.dumps(
            list(HistoryEntrySerializer(entries, many=True).data), cls=DjangoJSONEncoder)
