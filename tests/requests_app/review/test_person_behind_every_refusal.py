"""No refusal is one person's decision (issue 11 item 2, domain.md §13.12): the enforcing
authority's ground for refusal (Reg. (EU) 2023/1543 Art. 10(2), 12) and the refusal after an
emergency call-back the switchboard did not confirm go through the same four eyes as every
other refusal: one member of the legal team signs an Annex III draft, a different one approves
exactly that draft; only then is the request refused and the form shown to the officer."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from requests_app.models import AnnexIII
from requests_app.services import review
from requests_app.services.errors import InvalidState, ServiceError
from requests_app.states import Status
from tests.conftest import client_for
from tests.four_eyes import approve_annex

from .conftest import actions, last_seq, open_timers, topics
from .test_lifecycles import judge_validation

pytestmark = pytest.mark.django_db

API = "/api/v1/requests/"


@pytest.fixture
def awaiting_ea(submit):
    request = submit(data_categories=["traffic"], enforcing_authority_notified=True, validation=judge_validation())
    assert request.status == Status.AWAITING_ENFORCING_AUTHORITY, request.decision["findings"]
    return request


@pytest.fixture
def held(submit):
    request = submit(emergency=True, emergency_reason="Threat to life", validation=None)
    assert request.status == Status.VERIFICATION_HOLD
    return request


def _refuse_by_ea(request, actor):
    return review.ea_object(actor=actor, request=request, grounds="Art. 12(1)(a): immunity of the person.")


def _refuse_after_callback(request, actor):
    review.emergency_callback_record(actor=actor, request=request, outcome="not_confirmed")
    return review.pending_refusal(request)


CASES = {
    "enforcing_authority": ("awaiting_ea", _refuse_by_ea, Status.AWAITING_ENFORCING_AUTHORITY,
                            "refused_by_enforcing_authority", "enforcing_authority"),
    "callback_not_confirmed": ("held", _refuse_after_callback, Status.VERIFICATION_HOLD, "not_verified",
                               "callback_not_confirmed"),
}


@pytest.fixture(params=list(CASES.values()), ids=list(CASES.keys()))
def case(request):
    fixture, refuse, waiting, resolution, origin = request.param
    return request.getfixturevalue(fixture), refuse, waiting, resolution, origin


def test_one_person_cannot_finalise_the_refusal(case, approver):
    request, refuse, waiting, _, origin = case
    # An approver may also review: they record the refusal, then try to approve it themselves.
    form = refuse(request, approver)
    assert isinstance(form, AnnexIII)
    assert (form.kind, form.origin, form.signed_by, form.sent_at) == ("refusal", origin, approver, None)
    request.refresh_from_db()
    assert request.status == waiting and request.resolution == ""
    assert "notify.decision" not in topics(request)
    seq = last_seq()
    with pytest.raises(ServiceError) as refused:
        approve_annex(approver, form)
    assert refused.value.code == "four_eyes"
    request.refresh_from_db()
    form.refresh_from_db()
    assert request.status == waiting and form.sent_at is None and form.approved_by is None
    assert actions(request, seq) == ["approval.refused_four_eyes"]


def test_the_second_person_refuses_and_the_officer_sees_the_annex_iii(case, reviewer, approver, officer):
    request, refuse, _, resolution, origin = case
    seq = last_seq()
    form = refuse(request, reviewer)
    drafted = AuditEvent.objects.get(request_id=request.pk, seq__gt=seq, action="annex_iii.drafted")
    assert (drafted.actor_id, drafted.data["annex_iii_id"], drafted.data["origin"]) == (reviewer.pk, form.pk, origin)
    api = client_for(officer) if origin == "enforcing_authority" else None
    if api is not None:  # the officer's account is held after an unconfirmed call-back
        assert api.get(f"{API}{request.reference}/").json()["annex_iii"] == []

    seq = last_seq()
    approve_annex(approver, form)
    request.refresh_from_db()
    assert (request.status, request.resolution) == (Status.REFUSED, resolution)
    assert open_timers(request) == {}
    assert actions(request, seq)[:2] == ["annex_iii.approved", "request.status_changed"]
    approved = AuditEvent.objects.get(request_id=request.pk, seq__gt=seq, action="annex_iii.approved")
    assert (approved.actor_id, approved.data["signed_by"], approved.data["sha256"]) == (
        approver.pk, reviewer.pk, review.annex_iii_digest(form))
    moved = AuditEvent.objects.get(request_id=request.pk, seq__gt=seq, action="request.status_changed")
    assert (moved.actor_id, moved.data["to"], moved.data["annex_iii_id"]) == (approver.pk, "refused", form.pk)
    assert "notify.decision" in topics(request)

    if api is not None:
        body = api.get(f"{API}{request.reference}/").json()
        (entry,) = body["annex_iii"]
        assert (entry["id"], entry["kind"]) == (form.pk, "refusal")
        assert body["decision"]["person_decision"]["annex_iii_id"] == form.pk
        pdf = api.get(entry["pdf_url"])
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        web = Client()
        web.force_login(officer)
        page = web.get(reverse("portal:request_detail", args=[request.reference])).content.decode()
        assert 'id="annex-iii"' in page and "Refusal on grounds" in page


def test_the_ea_window_does_not_end_by_itself_while_its_objection_awaits_approval(awaiting_ea, reviewer):
    assert "ea_window_end" in open_timers(awaiting_ea)
    _refuse_by_ea(awaiting_ea, reviewer)
    assert "ea_window_end" not in open_timers(awaiting_ea)
    assert "notify.ea_window_ended" not in topics(awaiting_ea)


def test_a_confirmed_call_back_voids_the_unconfirmed_one_s_draft(held, reviewer, reviewer2, approver):
    form = _refuse_after_callback(held, reviewer)
    review.emergency_callback_record(actor=reviewer2, request=held, outcome="confirmed")
    form.refresh_from_db()
    held.refresh_from_db()
    assert held.status == Status.IN_REVIEW and form.superseded_at is not None
    assert review.pending_refusal(held) is None
    with pytest.raises(InvalidState):  # no draft is awaiting approval any more
        approve_annex(approver, form)
    held.refresh_from_db()
    assert held.status == Status.IN_REVIEW


def test_ea_object_outside_the_window_changes_nothing(submit, reviewer):
    request = submit()
    assert request.status == Status.IN_REVIEW
    seq = last_seq()
    with pytest.raises(ServiceError):
        _refuse_by_ea(request, reviewer)
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW and actions(request, seq) == []
    assert not AnnexIII.objects.filter(request=request).exists()
