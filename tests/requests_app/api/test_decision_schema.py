"""The decision's deadlines and its per-category and per-target verdicts are named components
of the OpenAPI schema, for ``/check/`` and for the request detail (issue 11 item 4), and the
real answers carry exactly the declared fields."""

from __future__ import annotations

import json

import pytest

from tests.conftest import epoc_body

from .helpers import API

pytestmark = pytest.mark.django_db

DEADLINE_FIELDS = {"kind", "due_at", "explanation", "rule_applied", "legal_basis", "warn_at", "informational",
                   "not_before", "time_zone",
                   # the parts the portal translates by (requests_app/deadline_texts.py)
                   "explanation_code", "explanation_params", "explanation_prefix"}


@pytest.fixture
def schema(anon_api) -> dict:
    response = anon_api.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def ref(prop: dict) -> str:
    """The component a property points at (directly, through ``items`` or ``allOf``/``oneOf``)."""
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "items" in prop:
        return ref(prop["items"])
    for key in ("allOf", "oneOf", "anyOf"):
        for option in prop.get(key, []):
            if "$ref" in option:
                return option["$ref"].rsplit("/", 1)[-1]
    raise AssertionError(f"no $ref in {prop}")


def test_deadline_is_a_named_component(schema):
    deadline = schema["components"]["schemas"]["Deadline"]
    assert set(deadline["properties"]) == DEADLINE_FIELDS
    assert set(deadline["required"]) >= {"kind", "due_at", "explanation", "rule_applied", "legal_basis", "time_zone"}
    assert deadline["properties"]["due_at"]["format"] == "date-time"


def test_check_declares_deadlines_categories_and_targets(schema):
    answer = schema["paths"]["/api/v1/requests/check/"]["post"]["responses"]["200"]
    decision = ref(answer["content"]["application/json"]["schema"])
    properties = schema["components"]["schemas"][decision]["properties"]
    assert ref(properties["deadlines"]) == "Deadline"
    assert ref(properties["categories"]) == "CategoryVerdict"
    assert ref(properties["targets"]) == "TargetVerdict"
    categories = schema["components"]["schemas"]["CategoryVerdict"]["properties"]
    assert set(categories) == {"data_category", "allowed", "reason_code", "rule_id", "legal_basis"}
    assert set(schema["components"]["schemas"]["TargetVerdict"]["properties"]) == {
        "index", "kind", "allowed", "reason_code", "legal_basis"}


def test_request_detail_declares_them_too(schema):
    components = schema["components"]["schemas"]
    stored = components[ref(components["RequestDetail"]["properties"]["decision"])]
    assert ref(stored["properties"]["deadlines"]) == "Deadline"
    assert ref(stored["properties"]["categories"]) == "CategoryVerdict"
    assert ref(stored["properties"]["targets"]) == "TargetVerdict"
    person = components[ref(stored["properties"]["person_decision"])]
    assert ref(person["properties"]["categories"]) == "DecidedCategory"
    assert ref(person["properties"]["targets"]) == "DecidedTarget"
    annex = components[ref(components["RequestDetail"]["properties"]["annex_iii"])]
    assert {"sent_at", "partial", "route_to", "categories", "targets"} <= set(annex["properties"])


def test_the_answers_carry_the_declared_fields(api):
    checked = api.post(f"{API}check/", epoc_body(), format="json")
    assert checked.status_code == 200, checked.content
    body = checked.json()
    assert body["deadlines"] and all(set(d) == DEADLINE_FIELDS for d in body["deadlines"])
    created = api.post(API, epoc_body(), format="json")
    assert created.status_code == 201
    from requests_app.models import LegalRequest
    from requests_app.services.validation import request_validate

    request_validate(request_id=LegalRequest.objects.get(reference=created.json()["reference"]).pk)
    detail = api.get(f"{API}{created.json()['reference']}/").json()
    assert detail["decision"]["deadlines"]
    assert all(set(d) == DEADLINE_FIELDS for d in detail["decision"]["deadlines"])
    assert {"data_category", "allowed", "reason_code", "rule_id", "legal_basis"} == set(
        detail["decision"]["categories"][0])
