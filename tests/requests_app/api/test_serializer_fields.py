"""The API serializers' fields are copied from per-class prototypes (``fresh_copy``) instead of
DRF's ``copy.deepcopy``: the same answers, and no field shared between two serializers."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from rest_framework import serializers as drf

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
