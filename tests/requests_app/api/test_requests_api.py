"""The REST API v1 per endpoint: the owner, another authority, anonymous, wrong methods, bad input.

DESIGN.md §5 (public contract) and §6 (quality bars); security.md §4.B (Z1, Z2, Z3, Z5, Z6).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import hash_token, token_issue, token_revoke
from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.models import Attachment, LegalRequest, Message, Target
from requests_app.workflow import lock_request, transition
from tests.conftest import client_for, epoc_body

from .helpers import API, MISSING_REFERENCE, counts, detail_url, pdf_bytes, upload

pytestmark = pytest.mark.django_db


# --- Endpoints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One endpoint with a valid body; ``{ref}`` and ``{att}`` are filled in per call."""

    method: str
    path: str
    body: Callable[[], Any] | None = None
    format: str = "json"

    def __call__(self, client: APIClient, ref: str = "", att: int = 0):
        url = self.path.format(ref=ref, att=att)
        if self.body is None:
            return getattr(client, self.method)(url)
        return getattr(client, self.method)(url, self.body(), format=self.format)


COLLECTION_CALLS = {
    "list": Call("get", API),
    "create": Call("post", API, epoc_body),
    "check": Call("post", f"{API}check/", epoc_body),
}
REFERENCE_CALLS = {
    "detail": Call("get", API + "{ref}/"),
    "withdraw": Call("post", API + "{ref}/withdraw/", lambda: {"reason": "Case closed."}),
    "clarifications": Call("post", API + "{ref}/clarifications/",
                           lambda: {"message": "The order is attached.", "changes": {"case_reference": "PN-2"}}),
    "attachments_list": Call("get", API + "{ref}/attachments/"),
    "attachments_upload": Call("post", API + "{ref}/attachments/", lambda: {"file": upload(pdf_bytes())},
                               format="multipart"),
    "attachment_download": Call("get", API + "{ref}/attachments/{att}/"),
}
ALL_CALLS = {**COLLECTION_CALLS, **REFERENCE_CALLS}


def error_code(response) -> str:
    return response.json()["error"]["code"]


def to_clarification_requested(request: LegalRequest) -> LegalRequest:
    request = transition(lock_request(request), "validating", reason="test setup")
    return transition(lock_request(request), "clarification_requested", reason="test setup")


@pytest.fixture
def shared(api, own_request) -> tuple[LegalRequest, Attachment]:
    """The officer's request, with one attachment, waiting for a clarification: every
    reference endpoint would change something if it let the caller through."""
    response = api.post(f"{detail_url(own_request.reference)}attachments/", {"file": upload(pdf_bytes())},
                        format="multipart")
    assert response.status_code == 201, response.content
    return to_clarification_requested(own_request), Attachment.objects.get(pk=response.json()["id"])


# --- Anonymous, wrong method ------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_CALLS)
def test_anonymous_gets_401_not_authenticated_and_nothing_changes(name, anon_api, shared):
    request, attachment = shared
    before = counts()
    response = ALL_CALLS[name](anon_api, request.reference, attachment.pk)
    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"
    assert counts() == before
    request.refresh_from_db()
    assert request.status == "clarification_requested"


WRONG_METHODS = [
    ("put", API), ("patch", API), ("delete", API),
    ("get", f"{API}check/"), ("put", f"{API}check/"),
    ("post", API + "{ref}/"), ("put", API + "{ref}/"), ("patch", API + "{ref}/"), ("delete", API + "{ref}/"),
    ("get", API + "{ref}/withdraw/"), ("delete", API + "{ref}/withdraw/"),
    ("get", API + "{ref}/clarifications/"), ("put", API + "{ref}/clarifications/"),
    ("delete", API + "{ref}/attachments/"), ("put", API + "{ref}/attachments/"),
    ("post", API + "{ref}/attachments/{att}/"), ("delete", API + "{ref}/attachments/{att}/"),
]


@pytest.mark.parametrize(("method", "path"), WRONG_METHODS)
def test_wrong_method_gets_405_method_not_allowed(method, path, api, shared):
    request, attachment = shared
    before = counts()
    response = getattr(api, method)(path.format(ref=request.reference, att=attachment.pk))
    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"
    assert method.upper() not in response["Allow"]
    assert counts() == before
    assert Attachment.objects.filter(pk=attachment.pk).exists()


# --- Another authority (security.md Z1, Z2, Z4) -----------------------------------------------


@pytest.mark.parametrize("name", REFERENCE_CALLS)
def test_another_authority_gets_the_404_of_a_missing_reference_and_is_audited(
    name, other_api, other_officer, shared
):
    request, attachment = shared
    call = REFERENCE_CALLS[name]
    missing = call(other_api, MISSING_REFERENCE, attachment.pk)
    before = counts()

    response = call(other_api, request.reference, attachment.pk)

    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json() == {"error": {"code": "not_found", "message": "No such request."}}
    denied = AuditEvent.objects.filter(action="access.denied")
    assert denied.count() == 1  # the missing reference is not an event, the foreign one is
    event = denied.get()
    assert (event.actor_id, event.request_id, event.authority_id) == (
        other_officer.pk, request.pk, other_officer.authority_id)
    assert event.data["reference"] == request.reference
    # Nothing else was written and the request is untouched.
    assert counts() == {**before, "AuditEvent": before["AuditEvent"] + 1}
    request.refresh_from_db()
    assert (request.status, request.case_reference) == ("clarification_requested", "PN-2026-001")
    assert list(request.attachments.all()) == [attachment]
    assert not AuditEvent.objects.filter(action="attachment.downloaded").exists()


def test_a_missing_reference_is_404_and_not_an_access_denied_event(api):
    response = api.get(detail_url(MISSING_REFERENCE))
    assert response.status_code == 404 and error_code(response) == "not_found"
    assert not AuditEvent.objects.filter(action="access.denied").exists()


def test_a_colleague_of_the_same_authority_sees_the_request(colleague, own_request):
    response = client_for(colleague).get(detail_url(own_request.reference))
    assert response.status_code == 200
    assert response.json()["reference"] == own_request.reference


# --- Create -----------------------------------------------------------------------------------


def test_create_stores_the_request_its_targets_and_one_audit_event(api, officer):
    before = counts()
    response = api.post(API, epoc_body(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == detail_url(body["reference"])
    assert "Idempotent-Replayed" not in response
    stored = LegalRequest.objects.get(reference=body["reference"])
    assert (stored.authority_id, stored.submitted_by_id) == (officer.authority_id, officer.pk)
    assert (stored.status, stored.instrument, stored.channel) == ("received", "epoc", "api")
    assert stored.case_reference == "PN-2026-001" and stored.max_sentence_months == 60
    assert list(stored.targets.values_list("kind", "value")) == [
        ("username", "suspect_account"), ("phone", "+33612345678"), ("ip_address", "203.0.113.7")]
    assert stored.targets.get(kind="ip_address").timestamp is not None
    event = AuditEvent.objects.get(request_id=stored.pk)
    assert (event.action, event.actor_id, event.data["to"]) == ("request.submitted", officer.pk, "received")
    # Waiting in received is its validation's queue entry (validation_queue): no outbox row.
    assert not OutboxMessage.objects.filter(request=stored).exists()
    after = counts()
    assert after["LegalRequest"] == before["LegalRequest"] + 1
    assert after["Target"] == before["Target"] + 3


def test_issuer_type_and_country_come_from_the_authority_not_the_body(api, officer):
    response = api.post(API, {**epoc_body(), "authority": 999, "authority_type": "judge", "country": "DE"},
                        format="json")
    assert response.status_code == 201
    assert LegalRequest.objects.get(reference=response.json()["reference"]).authority_id == officer.authority_id


def _without(key: str) -> Callable[[], dict[str, Any]]:
    def body() -> dict[str, Any]:
        data = epoc_body()
        del data[key]
        return data

    return body


def _naive_ip_timestamp() -> dict[str, Any]:
    naive = (timezone.now() - timedelta(days=2)).replace(tzinfo=None).isoformat()
    return epoc_body(targets=[{"kind": "ip_address", "value": "203.0.113.7", "timestamp": naive}])


def _reversed_range() -> dict[str, Any]:
    now = timezone.now()
    return epoc_body(data_from=(now - timedelta(days=1)).isoformat(), data_to=(now - timedelta(days=5)).isoformat())


def _offence(**changes: Any) -> Callable[[], dict[str, Any]]:
    return lambda: epoc_body(offence={**epoc_body()["offence"], **changes})


BAD_BODIES: dict[str, tuple[Callable[[], dict[str, Any]], str, str]] = {
    # name: (body, field with the error, text expected somewhere in that field's errors)
    "unknown_instrument": (lambda: epoc_body(instrument="mutual_legal_assistance"), "instrument", "valid choice"),
    "unknown_data_category": (lambda: epoc_body(data_categories=["subscriber", "location"]), "data_categories",
                              "valid choice"),
    "duplicated_data_category": (lambda: epoc_body(data_categories=["traffic", "traffic"]), "data_categories",
                                 "once"),
    "naive_ip_timestamp": (_naive_ip_timestamp, "targets", "time zone"),
    "data_to_before_data_from": (_reversed_range, "data_to", "before"),
    "negative_max_sentence_months": (_offence(max_sentence_months=-1), "offence", "greater than or equal to 0"),
    "unknown_listed_offence": (_offence(listed_offence="jaywalking"), "offence", "valid choice"),
    "too_many_targets": (lambda: epoc_body(targets=[{"kind": "username", "value": f"user{i}"} for i in range(101)]),
                         "targets", "no more than 100"),
    "unknown_target_kind": (lambda: epoc_body(targets=[{"kind": "imei", "value": "35-209900-176148-1"}]), "targets",
                            "valid choice"),
    "blank_target_value": (lambda: epoc_body(targets=[{"kind": "username", "value": "   "}]), "targets", "blank"),
    "missing_case_reference": (_without("case_reference"), "case_reference", "required"),
    "missing_instrument": (_without("instrument"), "instrument", "required"),
    "unknown_language": (lambda: epoc_body(language="xx"), "language", "valid choice"),
}


@pytest.mark.parametrize("endpoint", ["create", "check"])
@pytest.mark.parametrize("case", BAD_BODIES)
def test_bad_body_is_400_with_field_errors_and_nothing_stored(case, endpoint, api):
    make_body, field, text = BAD_BODIES[case]
    before = counts()
    response = api.post(COLLECTION_CALLS[endpoint].path, make_body(), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert text in str(error["fields"][field])
    assert counts() == before


@pytest.mark.parametrize("endpoint", ["create", "check"])
def test_a_body_that_is_not_json_is_400_parse_error_and_nothing_stored(endpoint, api):
    before = counts()
    response = api.post(COLLECTION_CALLS[endpoint].path, '{"instrument": "epoc",', content_type="application/json")
    assert response.status_code == 400
    assert error_code(response) == "parse_error"
    assert counts() == before


def test_a_body_that_is_not_an_object_is_400_validation_error(api):
    before = counts()
    response = api.post(API, ["epoc"], format="json")
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert counts() == before


def test_a_dsa_removal_order_without_data_categories_is_accepted(api):
    body = epoc_body(
        instrument="dsa_removal_order", data_categories=[], data_from=None, data_to=None,
        targets=[{"kind": "message_url", "value": "https://t.me/somechannel/42"}],
        dsa={"legal_basis": "Art. 9 DSA", "statement_of_reasons": "Illegal content.",
             "redress_information": "Appeal to the court.", "territorial_scope": "FR",
             "content_urls": ["https://t.me/somechannel/42"]},
    )
    response = api.post(API, body, format="json")
    assert response.status_code == 201
    assert LegalRequest.objects.get(reference=response.json()["reference"]).data_categories == []


# --- Check ------------------------------------------------------------------------------------


ROUTES = {"accepted", "partially_accepted", "clarification_required", "not_executable", "rerouted"}
VALIDATED = {"authority_type": "prosecutor", "authority_name": "Parquet de Paris", "reference": "V-2026-1",
             "date": "2026-11-01"}


def assert_decision_shape(decision: dict[str, Any]) -> None:
    assert decision["route"] in ROUTES
    for finding in decision["findings"]:
        assert {"code", "severity", "data_category", "legal_basis", "message"} <= set(finding)
        assert finding["legal_basis"] and finding["message"]


def test_check_returns_a_decision_and_stores_nothing(api):
    before = counts()
    response = api.post(f"{API}check/", epoc_body(validation=VALIDATED), format="json")
    assert response.status_code == 200
    decision = response.json()
    assert_decision_shape(decision)
    assert decision["route"] == "accepted", decision
    assert not [f for f in decision["findings"] if f["severity"] == "error"]
    assert counts() == before


def test_check_reports_errors_as_clarification_required_and_stores_nothing(api):
    # A URL target on someone else's service is a structural error (PROVIDER_DOMAINS).
    body = epoc_body(validation=VALIDATED, targets=[{"kind": "channel_url", "value": "https://example.com/channel"}])
    before = counts()
    response = api.post(f"{API}check/", body, format="json")
    assert response.status_code == 200
    decision = response.json()
    assert_decision_shape(decision)
    assert decision["route"] == "clarification_required", decision
    assert any(f["severity"] == "error" for f in decision["findings"])
    assert counts() == before


def test_check_executes_the_valid_targets_and_says_which_target_is_not(api):
    """Partial execution (Reg. 2023/1543 Art. 10(8)): one target on another service does not
    suspend the valid one; the decision names the verdict per category and per target."""
    body = epoc_body(validation=VALIDATED, targets=[
        {"kind": "username", "value": "@suspect_account"},
        {"kind": "channel_url", "value": "https://example.com/channel"},
    ])
    response = api.post(f"{API}check/", body, format="json")
    assert response.status_code == 200
    decision = response.json()
    assert decision["route"] == "partially_accepted", decision
    assert decision["due_at"] is not None
    assert [(t["index"], t["allowed"], t["reason_code"]) for t in decision["targets"]] == [
        (0, True, "allowed"), (1, False, "TGT_FOREIGN_SERVICE")]
    assert all({"allowed", "reason_code", "legal_basis"} <= set(c) for c in decision["categories"])
    assert decision["categories"]


@pytest.mark.parametrize(("given", "stored"), [("EL", "GR"), ("UK", "GB"), ("GR", "GR"), ("DE", "DE")])
def test_country_codes_el_and_uk_are_stored_as_iso_3166(given, stored):
    from requests_app.api.serializers import RequestCreateSerializer

    serializer = RequestCreateSerializer(data=epoc_body(person_residence_country=given, addressee_country=given))
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["person_residence_country"] == stored
    assert serializer.validated_data["addressee_country"] == stored


def test_check_treats_another_authoritys_linked_reference_as_unknown(api, other_api, submit):
    theirs = submit(client=other_api, instrument="epoc_pr")["reference"]
    mine = submit(instrument="epoc_pr")["reference"]

    def outcome(linked: str) -> tuple[str, list[tuple[str, str]]]:
        body = epoc_body(instrument="preservation_extension", linked_reference=linked, validation=VALIDATED)
        response = api.post(f"{API}check/", body, format="json")
        assert response.status_code == 200
        return response.json()["route"], sorted((f["code"], f["severity"]) for f in response.json()["findings"])

    before = counts()
    assert outcome(theirs) == outcome(MISSING_REFERENCE)
    assert outcome(mine) != outcome(MISSING_REFERENCE)  # the link does matter to the decision
    assert counts() == before


# --- Detail -----------------------------------------------------------------------------------


def test_detail_shows_the_contract_fields_and_history(api, own_request):
    response = api.get(detail_url(own_request.reference))
    assert response.status_code == 200
    body = response.json()
    for field in ("reference", "status", "instrument", "received_at", "due_at", "deadline_explanation", "decision",
                  "history", "targets", "case_reference", "offence"):
        assert field in body, field
    assert (body["reference"], body["status"], body["instrument"]) == (own_request.reference, "received", "epoc")
    assert body["history"][0]["status"] == "received"
    assert body["history"][0]["from_status"] is None
    assert body["offence"]["max_sentence_months"] == 60
    assert [t["kind"] for t in body["targets"]] == ["username", "phone", "ip_address"]


def test_detail_history_lists_each_state_change(api, own_request):
    to_clarification_requested(own_request)
    history = api.get(detail_url(own_request.reference)).json()["history"]
    assert [(h["from_status"], h["status"]) for h in history] == [
        (None, "received"), ("received", "validating"), ("validating", "clarification_requested")]


def test_detail_never_shows_internal_fields(api, own_request):
    LegalRequest.objects.filter(pk=own_request.pk).update(
        validation_attempts=3,
        decision={"route": "clarification_required", "internal_notes": "reviewer says: weak case",
                  "findings": [{"code": "X", "severity": "error", "data_category": None, "legal_basis": "Art. 4",
                                "message": "Fix it.", "internal_note": "reviewer says: weak case"}]},
    )
    response = api.get(detail_url(own_request.reference))
    body = response.json()
    for internal in ("validation_attempts", "submitted_by", "lifecycle", "authority", "linked_request",
                     "status_changed_at", "updated_at"):
        assert internal not in body, internal
    assert body["decision"]["route"] == "clarification_required"
    assert body["decision"]["findings"][0]["code"] == "X"
    assert "reviewer says" not in response.content.decode()


def test_detail_data_categories_is_a_list(api, submit):
    reference = submit(data_categories=["traffic", "subscriber"])["reference"]
    assert api.get(detail_url(reference)).json()["data_categories"] == ["subscriber", "traffic"]


# --- List -------------------------------------------------------------------------------------


def test_list_shows_only_the_callers_authority(api, other_api, colleague, submit):
    mine = {submit()["reference"] for _ in range(2)}
    theirs = submit(client=other_api)["reference"]

    for client in (api, client_for(colleague)):
        response = client.get(API)
        assert response.status_code == 200
        assert {r["reference"] for r in response.json()["results"]} == mine
    assert [r["reference"] for r in other_api.get(API).json()["results"]] == [theirs]


@pytest.mark.parametrize("query", ["authority=1", "authority_id=1", "reference=", "ordering=id", "search=PN"])
def test_list_parameters_cannot_widen_the_scope(query, api, other_api, submit):
    theirs = submit(client=other_api)["reference"]
    mine = submit()["reference"]
    response = api.get(f"{API}?{query}")
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        references = {r["reference"] for r in response.json()["results"]}
        assert theirs not in references
        assert references <= {mine}


def test_list_is_cursor_paginated_newest_first_without_a_count(api, submit):
    references = [submit()["reference"] for _ in range(3)]

    first = api.get(f"{API}?page_size=2").json()
    assert set(first) == {"next", "previous", "results"}
    assert [r["reference"] for r in first["results"]] == references[::-1][:2]
    assert "cursor=" in first["next"] and first["previous"] is None

    second = api.get(first["next"]).json()
    assert [r["reference"] for r in second["results"]] == references[:1]
    assert second["next"] is None and "cursor=" in second["previous"]


def test_list_query_count_does_not_grow_with_rows(api, submit):
    submit()
    api.get(API)  # the first use of a token writes last_used_at

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(API).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(4):
        submit()
    assert queries() == few


def test_list_filters_by_status(api, submit):
    kept = LegalRequest.objects.get(reference=submit()["reference"])
    withdrawn = submit()["reference"]
    assert api.post(f"{detail_url(withdrawn)}withdraw/", {}, format="json").status_code == 200

    assert [r["reference"] for r in api.get(f"{API}?status=withdrawn").json()["results"]] == [withdrawn]
    assert [r["reference"] for r in api.get(f"{API}?status=received").json()["results"]] == [kept.reference]


def test_list_filters_by_instrument(api, submit):
    submit()
    preservation = submit(instrument="epoc_pr")["reference"]
    assert [r["reference"] for r in api.get(f"{API}?instrument=epoc_pr").json()["results"]] == [preservation]


def test_list_filters_by_received_after_and_before(api, submit):
    old, middle, new = (submit()["reference"] for _ in range(3))
    base = timezone.now() - timedelta(days=30)
    for days, reference in ((0, old), (10, middle), (20, new)):
        LegalRequest.objects.filter(reference=reference).update(received_at=base + timedelta(days=days))
    after = (base + timedelta(days=5)).isoformat().replace("+00:00", "Z")
    before = (base + timedelta(days=15)).isoformat().replace("+00:00", "Z")

    def listed(query: str) -> list[str]:
        response = api.get(API, {k: v for k, v in (p.split("=", 1) for p in query.split("&"))})
        assert response.status_code == 200, response.content
        return [r["reference"] for r in response.json()["results"]]

    assert listed(f"received_after={after}") == [new, middle]
    assert listed(f"received_before={before}") == [middle, old]
    assert listed(f"received_after={after}&received_before={before}") == [middle]


@pytest.mark.parametrize("query", ["status=bogus", "instrument=bogus", "received_after=yesterday"])
def test_list_rejects_an_invalid_filter_value(query, api, submit):
    submit()
    response = api.get(f"{API}?{query}")
    assert response.status_code == 400
    assert error_code(response) == "validation_error"


# --- Withdraw ---------------------------------------------------------------------------------


def test_withdraw_moves_to_withdrawn_with_one_audit_event_and_one_outbox_row(api, officer, own_request):
    outbox_before = OutboxMessage.objects.filter(request=own_request).count()
    response = api.post(f"{detail_url(own_request.reference)}withdraw/", {"reason": "Suspect identified."},
                        format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert [h["status"] for h in response.json()["history"]] == ["received", "withdrawn"]
    own_request.refresh_from_db()
    assert (own_request.status, own_request.resolution) == ("withdrawn", "withdrawn_by_authority")
    assert OutboxMessage.objects.filter(request=own_request).count() == outbox_before + 1
    event = AuditEvent.objects.get(request_id=own_request.pk, action="request.status_changed")
    assert (event.actor_id, event.data["from"], event.data["to"], event.data["reason"]) == (
        officer.pk, "received", "withdrawn", "Suspect identified.")


def test_withdrawing_twice_is_409_invalid_state_and_no_event(api, own_request):
    url = f"{detail_url(own_request.reference)}withdraw/"
    assert api.post(url, {}, format="json").status_code == 200
    before = counts()
    response = api.post(url, {}, format="json")
    assert response.status_code == 409
    assert error_code(response) == "invalid_state"
    assert counts() == before


def test_withdraw_with_a_bad_body_is_400_and_changes_nothing(api, own_request):
    before = counts()
    response = api.post(f"{detail_url(own_request.reference)}withdraw/", {"reason": "x" * 2001}, format="json")
    assert response.status_code == 400
    assert error_code(response) == "validation_error" and "reason" in response.json()["error"]["fields"]
    own_request.refresh_from_db()
    assert own_request.status == "received"
    assert counts() == before


# --- Clarifications ---------------------------------------------------------------------------


def test_clarification_answer_applies_changes_and_revalidates(api, officer, own_request):
    to_clarification_requested(own_request)
    outbox_before = OutboxMessage.objects.filter(request=own_request).count()
    events_before = AuditEvent.objects.filter(request_id=own_request.pk).count()

    response = api.post(f"{detail_url(own_request.reference)}clarifications/",
                        {"message": "Corrected case number.", "changes": {"case_reference": "PN-2026-777"}},
                        format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "validating"
    own_request.refresh_from_db()
    assert (own_request.status, own_request.case_reference) == ("validating", "PN-2026-777")
    message = Message.objects.get(request=own_request)
    assert (message.kind, message.body, message.author_id) == ("clarification_answer", "Corrected case number.",
                                                                 officer.pk)
    new_events = AuditEvent.objects.filter(request_id=own_request.pk).order_by("seq")[events_before:]
    assert [(e.action, e.data.get("to")) for e in new_events] == [
        ("request.clarification_answered", None), ("request.status_changed", "validating")]
    assert OutboxMessage.objects.filter(request=own_request).count() == outbox_before + 1
    assert OutboxMessage.objects.filter(request=own_request).last().topic == "request.validate"


def test_clarification_can_replace_the_targets(api, own_request):
    to_clarification_requested(own_request)
    response = api.post(f"{detail_url(own_request.reference)}clarifications/",
                        {"message": "Only this account.", "changes": {"targets": [
                            {"kind": "username", "value": "the_real_suspect"}]}}, format="json")
    assert response.status_code == 200
    assert list(Target.objects.filter(request=own_request).values_list("kind", "value")) == [
        ("username", "the_real_suspect")]


def test_clarification_when_none_was_asked_is_409_and_stores_nothing(api, own_request):
    before = counts()
    response = api.post(f"{detail_url(own_request.reference)}clarifications/", {"message": "Hello"}, format="json")
    assert response.status_code == 409
    assert error_code(response) == "invalid_state"
    assert counts() == before


CLARIFICATION_BAD_BODIES = {
    "missing_message": ({"changes": {"case_reference": "X"}}, "message"),
    "instrument_change": ({"message": "m", "changes": {"instrument": "epoc_pr"}}, "changes"),
    "invalid_change": ({"message": "m", "changes": {"data_categories": ["location"]}}, "changes"),
    "naive_timestamp_change": ({"message": "m", "changes": {"targets": [
        {"kind": "ip_address", "value": "203.0.113.9", "timestamp": "2026-01-05T10:00:00"}]}}, "changes"),
    "changes_not_an_object": ({"message": "m", "changes": ["case_reference"]}, "changes"),
}


@pytest.mark.parametrize("case", CLARIFICATION_BAD_BODIES)
def test_clarification_with_a_bad_body_is_400_and_changes_nothing(case, api, own_request):
    to_clarification_requested(own_request)
    body, field = CLARIFICATION_BAD_BODIES[case]
    before = counts()
    response = api.post(f"{detail_url(own_request.reference)}clarifications/", body, format="json")
    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["fields"]
    own_request.refresh_from_db()
    assert (own_request.status, own_request.instrument) == ("clarification_requested", "epoc")
    assert counts() == before


@pytest.mark.parametrize("changes", [{"emergency": True}, {"language": "de"}, {"instrument": "epoc_pr"}])
def test_clarification_cannot_change_fields_that_are_not_amendable(changes, api, own_request):
    to_clarification_requested(own_request)
    before = counts()
    response = api.post(f"{detail_url(own_request.reference)}clarifications/",
                        {"message": "Now urgent.", "changes": changes}, format="json")
    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "changes" in response.json()["error"]["fields"]
    own_request.refresh_from_db()
    assert (own_request.emergency, own_request.language, own_request.instrument) == (False, "fr", "epoc")
    assert own_request.status == "clarification_requested"
    assert counts() == before


@pytest.mark.parametrize("path", ["withdraw/", "clarifications/"])
def test_a_post_body_that_is_not_json_is_400_parse_error(path, api, own_request):
    to_clarification_requested(own_request)
    before = counts()
    response = api.post(f"{detail_url(own_request.reference)}{path}", "{oops", content_type="application/json")
    assert response.status_code == 400 and error_code(response) == "parse_error"
    assert counts() == before


# --- Attachments list (uploads and downloads: test_attachments_api.py) ------------------------


def test_attachments_list_shows_the_requests_attachments(api, shared):
    request, attachment = shared
    response = api.get(f"{detail_url(request.reference)}attachments/")
    assert response.status_code == 200
    assert [(a["id"], a["sha256"], a["original_name"]) for a in response.json()] == [
        (attachment.pk, attachment.sha256, "signed order.pdf")]
    assert "stored_name" not in response.json()[0]


# --- Tokens (security.md Z6) ------------------------------------------------------------------


def _expire(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def _revoke(token: ApiToken) -> None:
    token_revoke(actor=token.user, token=token)


def _deactivate(token: ApiToken) -> None:
    token.user.is_active = False
    token.user.save(update_fields=["is_active"])


@pytest.mark.parametrize("spoil", [_expire, _revoke, _deactivate], ids=["expired", "revoked", "deactivated_user"])
def test_unusable_tokens_get_401_authentication_failed(spoil, officer):
    token, raw = token_issue(user=officer, name="spoiled")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(API).status_code == 200
    spoil(token)
    before = counts()
    for response in (client.get(API), client.post(API, epoc_body(), format="json")):
        assert response.status_code == 401
        assert error_code(response) == "authentication_failed"
    assert counts() == before


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer lrp_not-a-real-token", "Bearer é"])
def test_malformed_or_unknown_tokens_get_401_authentication_failed(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(API)
    assert response.status_code == 401
    assert error_code(response) == "authentication_failed"


def test_an_officer_of_a_suspended_authority_gets_403(api, authority, own_request):
    authority.vetting_status = "suspended"
    authority.save(update_fields=["vetting_status"])
    before = counts()
    for response in (api.get(API), api.get(detail_url(own_request.reference)),
                     api.post(API, epoc_body(), format="json")):
        assert response.status_code == 403
        assert error_code(response) == "permission_denied"
    assert counts() == before


def test_token_use_sets_last_used_at(officer):
    token, raw = token_issue(user=officer)
    assert token.last_used_at is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    started = timezone.now()
    assert client.get(API).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at >= started


def test_tokens_are_stored_only_as_sha256(officer):
    token, raw = token_issue(user=officer)
    token.refresh_from_db()
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest() == hash_token(raw)
    assert raw.startswith(token.prefix) and len(token.prefix) < len(raw)
    secret = raw[len(token.prefix):]
    # No column of any table holds the token or its secret part.
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT count(*) FROM {quoted} t WHERE t::text LIKE %s", [f"%{secret}%"])
            assert cursor.fetchone()[0] == 0, table
