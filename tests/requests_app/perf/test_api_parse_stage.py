"""The API's parsing and validation of a submission repeat no per-request set-up (issue 9 item 5).

Counted as calls, never as time. Each test fails at 630151b (stop 29's merged main)."""

from __future__ import annotations

from rest_framework import fields as drf_fields

from requests_app.api import parsers
from requests_app.api.serializers import RequestCreateSerializer, RequestReceiptSerializer
from tests.conftest import epoc_body


def test_validating_a_request_body_binds_no_field(db, calls):
    """At 630151b every field of every (nested) serializer was bound anew: ~38 ``bind`` calls
    per body, each setting the same name, label and source. Now the copies are made bound."""
    assert RequestCreateSerializer(data=epoc_body()).is_valid()  # the class's prototypes are built once
    bound = calls(drf_fields.Field, "bind")
    serializer = RequestCreateSerializer(data=epoc_body())
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["targets"][1] == {"kind": "phone", "value": "+33612345678", "timestamp": None}
    assert serializer.fields["targets"].child.fields["kind"].field_name == "kind"
    assert bound == []


def test_a_submission_binds_no_field(api, monkeypatch):
    """At 630151b a submission bound ~60 fields (the body's, the receipt's, its history's) and
    built a ListSerializer for the receipt's history (which binds its child)."""
    response = api.post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201
    bound: list[str] = []
    original = drf_fields.Field.bind

    def recorded(self, field_name, parent):  # type: ignore[no-untyped-def]
        bound.append(type(self).__name__)
        return original(self, field_name, parent)

    monkeypatch.setattr(drf_fields.Field, "bind", recorded)
    second = api.post("/api/v1/requests/", epoc_body(case_reference="PN-2"), format="json")
    assert second.status_code == 201 and second.json()["history"][0]["status"] == "received"
    assert set(second.json()) == set(RequestReceiptSerializer.Meta.fields)
    assert bound == []


def test_a_request_body_is_not_walked_for_its_depth(api, calls):
    """At 630151b every JSON body was walked node by node for its depth (more CPU than its
    parse); a body with no more brackets than the depth limit cannot be too deep, so only the
    others are walked."""
    walked = calls(parsers, "json_depth_exceeds")
    response = api.post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201, response.json()
    assert walked == []
