"""The one request codec (requests_app/codec.py): body ⇄ model ⇄ facts, and one field list
(``codec.SCALARS``) that every face of a request reads."""

from __future__ import annotations

import json
from dataclasses import fields as dataclass_fields
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from requests_app import codec
from requests_app.api.serializers import CountryField, RequestCreateSerializer, RequestDetailSerializer
from requests_app.models import LegalRequest
from requests_app.rules.model import RequestFacts
from requests_app.services.submission import AMENDABLE, clarification_submit, request_submit
from requests_app.services.validation import request_validate
from requests_app.states import Status
from requests_app.web.forms.prefill import initial_for
from requests_app.web.forms.request_form import RequestForm
from requests_app.workflow import lock_request, transition
from tests.conftest import epoc_body
from tests.web.conftest import signed_in
from tests.web.forms import form_data

pytestmark = pytest.mark.django_db
API = "/api/v1/requests/"

# Every body field set away from its default, nested objects included.
FULL = dict(
    offence={"description": "Fraud", "legal_provisions": "Art. 313-1 Code pénal", "max_sentence_months": 0,
             "listed_offence": "non_cash_payment_fraud", "via_information_system": True,
             "sentence_execution": {"sentence_months": 24, "in_absentia": True, "absconded": False}},
    emergency=True, emergency_reason="Threat to life", enforcing_authority_notified=True, art_8_2_exception=True,
    confidential=True, confidentiality_reason="Ongoing surveillance", linked_reference="LRP-2026-000001",
    dsa={"legal_basis": "Art. 9 DSA", "statement_of_reasons": "Because", "redress_information": "Court",
         "territorial_scope": "FR", "content_urls": ["https://example.org/a"]},
    addressee_country="BE", person_residence_country="FR", suspect_named=True, offence_country="PL",
    designated_unresponsive=True, summary="A summary", language="de",
)


def plain(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def validated_body(**overrides: Any) -> dict[str, Any]:
    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def test_body_to_model_to_body_round_trips(officer):
    body = validated_body(**FULL)
    assert set(body) >= set(codec.BODY_FIELDS)  # the test covers every field
    request, _ = request_submit(actor=officer, data=body)
    stored = LegalRequest.objects.get(pk=request.pk)
    assert plain(codec.request_body(stored)) == plain({k: v for k, v in body.items() if k != "delegates"})


def test_the_stored_body_passes_the_api_serializer_unchanged(officer):
    """model → body → serializer → body: what the prefill and a clarification compare against."""
    request, _ = request_submit(actor=officer, data=validated_body(**FULL))
    stored = plain(codec.request_body(LegalRequest.objects.get(pk=request.pk)))
    serializer = RequestCreateSerializer(data=stored)
    assert serializer.is_valid(), serializer.errors
    assert plain(dict(serializer.validated_data)) == {**stored, "delegates": []}


def test_an_offence_given_only_by_its_information_system_flag_survives_the_round_trip(officer):
    """The old model → body mapping dropped an offence whose only part was ``via_information_system``."""
    offence = {"description": "", "legal_provisions": "", "max_sentence_months": None, "listed_offence": None,
               "via_information_system": True, "sentence_execution": None}
    request, _ = request_submit(actor=officer, data=validated_body(offence=offence))
    body = codec.request_body(LegalRequest.objects.get(pk=request.pk))
    assert body["offence"] == offence
    facts = codec.facts_from_request(request)
    assert facts.offence is not None and facts.offence.via_information_system


# --- one field list drives all faces ---------------------------------------------------------

# Columns of LegalRequest the body does not fill: identity, workflow, deadlines, bookkeeping.
NOT_FROM_THE_BODY = {
    "id", "reference", "authority", "submitted_by", "channel", "delegates", "country", "assigned_to",
    "instrument", "lifecycle", "status", "resolution", "status_changed_at", "linked_request", "received_at",
    "due_at", "deadline_explanation", "warn_at", "breach_at", "hold_until", "decision", "validation_attempts",
    "receipt_hash", "updated_at",
    "late_registration",  # set by the legal team's registration (services/registration.py), never by a body
    # The transparency report's facts, kept by database triggers from the audit trail and the
    # targets (migration 0025_transparency_report_facts), never by a body.
    "first_acknowledged_at", "first_produced_at", "first_preserved_at", "preservation_extended", "target_count",
}
# RequestFacts fields that are not one scalar of the body.
FACTS_NOT_SCALAR = {"instrument", "issuer", "received_at", "targets", "offence", "validation", "linked", "dsa"}


def test_every_request_column_is_in_the_codec():
    """A new LegalRequest column that the codec does not map fails here, and vice versa."""
    columns = {f.name for f in LegalRequest._meta.get_fields() if f.concrete} - NOT_FROM_THE_BODY
    assert columns == set(codec.MODEL_FIELDS)


def test_every_engine_input_is_a_request_field():
    """No fact the rules read is left without a request field (issue 11: offence_country and
    designated_unresponsive were engine inputs only)."""
    names = {f.name for f in dataclass_fields(RequestFacts)} - FACTS_NOT_SCALAR
    assert names <= set(codec.SCALAR_BY_NAME), names - set(codec.SCALAR_BY_NAME)


def _non_default(scalar: codec.Scalar) -> Any:
    if scalar.name == "language":
        return "de"
    return {"bool": True, "nullbool": True, "country": "PL", "text": "x", "email": "ea@parquet.example.be",
            "categories": ["traffic"]}[scalar.kind]


@pytest.mark.parametrize("scalar", [s for s in codec.SCALARS if s.kind != "datetime"], ids=lambda s: s.name)
def test_one_field_list_drives_every_face(scalar, officer):
    name = scalar.name
    # API input, web form, API output, clarification.
    assert name in RequestCreateSerializer().fields
    assert name in RequestForm.base_fields
    assert name in RequestDetailSerializer.Meta.fields
    assert (name in AMENDABLE) == scalar.amendable
    # body → model → body, and into the facts.
    body = validated_body(**{name: _non_default(scalar)})
    fields = codec.model_fields(body)
    assert fields[name] not in (None, "", False, [])
    request, _ = request_submit(actor=officer, data=body)
    stored = LegalRequest.objects.get(pk=request.pk)
    assert codec.request_body(stored)[name] == body[name]
    # The prefill of the correction form, and the API output.
    assert initial_for(stored)[0][name] == getattr(stored, name)
    assert RequestDetailSerializer(stored, context={"history": []}).data[name] == plain(body[name])
    if name in {f.name for f in dataclass_fields(RequestFacts)}:
        fact = getattr(codec.facts_from_request(stored), name)
        assert fact == (frozenset(body[name]) if scalar.kind == "categories" else body[name])


def test_generated_fields_are_built_from_the_codec_entry():
    generated = [s for s in codec.SCALARS if s.generated]
    assert {s.name for s in generated} >= {"offence_country", "designated_unresponsive"}
    api_fields, form_fields = RequestCreateSerializer().fields, RequestForm.base_fields
    for scalar in generated:
        assert form_fields[scalar.name].label == scalar.label
        if scalar.kind == "country":
            assert isinstance(api_fields[scalar.name], CountryField)


# --- offence_country and designated_unresponsive reach the engine ------------------------------

ART_8_2 = dict(data_categories=["traffic"], art_8_2_exception=True,
               validation={"authority_type": "judge", "authority_name": "TJ Paris", "reference": "J-1"})


def test_offence_country_reaches_the_engine_from_the_api_check(api):
    same = api.post(f"{API}check/", epoc_body(**ART_8_2, offence_country="FR"), format="json").json()
    other = api.post(f"{API}check/", epoc_body(**ART_8_2, offence_country="PL"), format="json").json()
    assert "EE_ART_8_2_OFFENCE_MISMATCH" not in {f["code"] for f in same["findings"]}
    assert "EE_ART_8_2_OFFENCE_MISMATCH" in {f["code"] for f in other["findings"]}


@pytest.mark.usefixtures("no_publish")
def test_api_stores_shows_and_validates_both_fields(api):
    body = epoc_body(**ART_8_2, offence_country="el", emergency=True, emergency_reason="Kidnapping",
                     addressee_country="NL", designated_unresponsive=True)
    refused = api.post(API, body, format="json")
    assert refused.status_code == 400 and "offence_country" in refused.json()["error"]["fields"]
    assert not LegalRequest.objects.exists()
    body["offence_country"] = "PL"
    created = api.post(API, body, format="json")
    assert created.status_code == 201, created.json()
    stored = LegalRequest.objects.get(reference=created.json()["reference"])
    assert (stored.offence_country, stored.designated_unresponsive) == ("PL", True)
    detail = api.get(f"{API}{stored.reference}/").json()
    assert (detail["offence_country"], detail["designated_unresponsive"]) == ("PL", True)
    request_validate(request_id=stored.pk)
    stored.refresh_from_db()
    codes = {f["code"] for f in stored.decision["findings"]}
    # The offence outside the issuing state contradicts Art. 8(2); in an emergency that keeps
    # the 8 hours and goes to a person (EE_EMERGENCY_EA_NOT_NOTIFIED), no clarification.
    assert {"EE_EMERGENCY_EA_NOT_NOTIFIED", "EE_EMERGENCY_ADDRESSEE"} <= codes
    assert "EE_EMERGENCY_FORWARD_TO_DESIGNATED" not in codes


@pytest.mark.usefixtures("no_publish")
def test_web_form_stores_and_validates_both_fields(officer):
    client = signed_in(officer)
    data = form_data(data_categories=["traffic"], art_8_2_exception="on", validation_authority_type="judge",
                     offence_country="pl", emergency="on", emergency_reason="Kidnapping", addressee_country="NL",
                     designated_unresponsive="on")
    response = client.post("/requests/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = LegalRequest.objects.get()
    assert (stored.offence_country, stored.designated_unresponsive) == ("PL", True)
    request_validate(request_id=stored.pk)
    stored.refresh_from_db()
    codes = {f["code"] for f in stored.decision["findings"]}
    # The offence outside the issuing state contradicts Art. 8(2); in an emergency that keeps
    # the 8 hours and goes to a person (EE_EMERGENCY_EA_NOT_NOTIFIED), no clarification.
    assert {"EE_EMERGENCY_EA_NOT_NOTIFIED", "EE_EMERGENCY_ADDRESSEE"} <= codes


def test_web_form_renders_and_prefills_both_fields(officer):
    body = validated_body(offence_country="PL", designated_unresponsive=True)
    request, _ = request_submit(actor=officer, data=body)
    initial, _targets = initial_for(LegalRequest.objects.get(pk=request.pk))
    form = RequestForm(initial=initial)
    html = str(form["offence_country"]) + str(form["designated_unresponsive"])
    assert 'value="PL"' in html and "checked" in html
    assert [f.name for f in form.further_fields] == [s.name for s in codec.SCALARS if s.generated]


def test_a_clarification_maps_only_the_corrected_fields(officer):
    request, _ = request_submit(actor=officer, data=validated_body(offence_country="PL"))
    with transaction.atomic():
        transition(lock_request(request), Status.VALIDATING, reason="test setup")
        transition(lock_request(request), Status.CLARIFICATION_REQUESTED, reason="test setup")
    moved = clarification_submit(actor=officer, request=request, message="It was committed in France.",
                                 changes={"offence_country": "FR"})
    moved.refresh_from_db()
    assert moved.offence_country == "FR" and moved.status == Status.VALIDATING
    answer = moved.messages.get()
    assert answer.changes == {"fields": ["offence_country"]}
