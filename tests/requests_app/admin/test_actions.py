"""Every action of the request page: its form (GET), and a POST that runs the service: the
new state after a reload and its audit event. Refusals change nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from requests_app.models import (
    AnnexIII,
    Approval,
    CallbackVerification,
    InternalNote,
    LegalRequest,
    Message,
    ResponsePackage,
)

from .conftest import act_url, change_url, login

pytestmark = pytest.mark.django_db


def events(obj: LegalRequest) -> list[str]:
    return list(AuditEvent.objects.filter(request_id=obj.pk).order_by("seq").values_list("action", flat=True))


HIDDEN = re.compile(r'<input type="hidden" name="(?!csrfmiddlewaretoken)([^"]+)" value="([^"]*)"')


def hidden_fields(page: str) -> dict[str, str]:
    """What a browser sends back unasked: the form's hidden inputs (e.g. the package an approver saw)."""
    return dict(HIDDEN.findall(page))


def post(client, obj, action, data=None):
    form = client.get(act_url(obj, action))
    assert form.status_code == 200, form.content
    assert 'name="csrfmiddlewaretoken"' in form.content.decode()
    response = client.post(act_url(obj, action), {**hidden_fields(form.content.decode()), **(data or {})})
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    return response, texts


def done(response, obj) -> None:
    assert response.status_code == 302 and response["Location"] == change_url(obj)


@pytest.mark.parametrize("action,data,status,audit,check", [
    ("note", {"body": "Internal reasoning."}, "in_review", "request.note_added",
     lambda o: InternalNote.objects.get(request=o).body == "Internal reasoning."),
    ("message", {"body": "Please send the order."}, "in_review", "request.message_sent",
     lambda o: Message.objects.get(request=o).kind == "to_authority"),
    # Signed by one person: an Annex III draft, the state unchanged until a second one approves.
    ("refuse", {"reason": "Abusive.", "sign": "on"}, "in_review", "annex_iii.drafted",
     lambda o: AnnexIII.objects.get(request=o).kind == "refusal"),
    ("reroute", {"reason": "Use MLA.", "sign": "on"}, "in_review", "annex_iii.drafted",
     lambda o: AnnexIII.objects.get(request=o).route_to == "Use MLA."),
    ("close", {"reason": ""}, "closed", "request.status_changed", None),
])
def test_simple_actions(as_reviewer, make_request, action, data, status, audit, check):
    lifecycle = {"close": ("preservation", "epoc_pr")}.get(action, ("production", "epoc"))
    obj = make_request(lifecycle=lifecycle[0], instrument=lifecycle[1])
    response, texts = post(as_reviewer, obj, action, data)
    done(response, obj)
    obj.refresh_from_db()
    assert obj.status == status and events(obj)[-1] == audit
    assert check is None or check(obj)
    assert texts and "error" not in " ".join(texts).lower()


def test_assign_to_me_and_to_a_reviewer(reviewer, reviewer2, make_request):
    client = login(reviewer)
    obj = make_request()
    done(post(client, obj, "assign_me")[0], obj)
    obj.refresh_from_db()
    assert obj.assigned_to == reviewer and events(obj) == ["request.assigned"]
    done(post(client, obj, "assign", {"reviewer": reviewer2.pk})[0], obj)
    obj.refresh_from_db()
    assert obj.assigned_to == reviewer2
    done(post(client, obj, "assign", {"reviewer": ""})[0], obj)
    obj.refresh_from_db()
    assert obj.assigned_to is None and events(obj).count("request.assigned") == 3


def test_assign_offers_only_the_legal_team(as_reviewer, reviewer, officer, make_request):
    obj = make_request()
    html = as_reviewer.get(act_url(obj, "assign")).content.decode()
    assert reviewer.email in html and officer.email not in html
    as_reviewer.post(act_url(obj, "assign"), {"reviewer": officer.pk})
    obj.refresh_from_db()
    assert obj.assigned_to is None


def test_clarification_with_annex_iii_reasons_per_identifier(as_reviewer, make_request):
    obj = make_request(targets=("suspect_account", "+33612345678"))
    html = as_reviewer.get(act_url(obj, "clarify")).content.decode()
    assert "Username: suspect_account" in html and "manifest errors" in html
    response, _ = post(as_reviewer, obj, "clarify", {
        "target_0_reasons": ["incomplete", "manifest_errors"], "target_0_explanation": "Which account?",
        "clarification_asked": "Give the exact username.", "data_preserved": "on"})
    done(response, obj)
    obj.refresh_from_db()
    form = AnnexIII.objects.get(request=obj)
    assert obj.status == "clarification_requested" and form.kind == "clarification"
    assert form.reasons == [{"identifier": "Username: suspect_account", "target": 0, "data_category": None,
                             "reasons": ["incomplete", "manifest_errors"], "explanation": "Which account?"}]
    assert form.signed_by_id is not None and form.signed_at is not None
    assert events(obj)[-1] == "request.status_changed"


def test_not_executed_needs_a_reason(as_reviewer, make_request):
    obj = make_request(targets=("suspect_account", "+33612345678"))
    response = as_reviewer.post(act_url(obj, "not_executed"), {"conflicting_obligations": "", "sign": "on"})
    assert response.status_code == 200 and "Tick at least one Annex III reason" in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == "in_review" and events(obj) == []
    # Unsigned: nothing happens either.
    response = as_reviewer.post(act_url(obj, "not_executed"), {"target_0_reasons": ["data_not_stored"]})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == "in_review" and events(obj) == []
    response, _ = post(as_reviewer, obj, "not_executed", {"target_0_reasons": ["data_not_stored"], "sign": "on"})
    done(response, obj)
    obj.refresh_from_db()
    # Only some identifiers: a partial non-execution, signed, awaiting a second person.
    form = AnnexIII.objects.get(request=obj)
    assert obj.status == "in_review" and form.kind == "non_execution" and form.partial and form.sent_at is None


@pytest.mark.parametrize("operation,data,status", [
    ("refuse", {"reason": "Manifestly abusive.", "sign": "on"}, "refused"),
    ("reroute", {"reason": "The MLA route.", "sign": "on"}, "rerouted"),
    ("not_executed", {"order_reasons": ["data_not_stored"], "sign": "on"}, "not_executed"),
])
def test_a_second_person_approves_the_annex_iii_draft_they_see(as_reviewer, as_approver, make_request, operation,
                                                               data, status):
    obj = make_request()
    done(post(as_reviewer, obj, operation, data)[0], obj)
    draft = AnnexIII.objects.get(request=obj)
    page = as_approver.get(change_url(obj)).content.decode()
    assert act_url(obj, "approve_annex_iii") in page and "draft awaiting a second person" in page
    assert "signed an Annex III draft" in page
    form_page = as_approver.get(act_url(obj, "approve_annex_iii")).content.decode()
    assert f"Annex III #{draft.pk}" in form_page and "reviewer@provider.example" in form_page
    assert hidden_fields(form_page)["annex_iii_id"] == str(draft.pk)
    response, texts = post(as_approver, obj, "approve_annex_iii", {"note": "Checked."})
    done(response, obj)
    obj.refresh_from_db()
    draft.refresh_from_db()
    assert obj.status == status and draft.sent_at is not None and texts == [
        "The Annex III was approved and sent to the authority; the request is closed."]
    assert events(obj)[-2:] == ["annex_iii.approved", "request.status_changed"]
    page = as_approver.get(change_url(obj)).content.decode()
    assert "approved by approver@provider.example" in page and act_url(obj, "approve_annex_iii") not in page


def test_the_signer_is_refused_as_approver_in_the_admin(as_approver, make_request):
    obj = make_request()
    done(post(as_approver, obj, "refuse", {"reason": "Abusive.", "sign": "on"})[0], obj)
    page = as_approver.get(act_url(obj, "approve_annex_iii")).content.decode()
    assert "You signed this Annex III" in page
    response, texts = post(as_approver, obj, "approve_annex_iii")
    done(response, obj)
    obj.refresh_from_db()
    assert obj.status == "in_review" and AnnexIII.objects.get(request=obj).sent_at is None
    assert texts == ["Four eyes: the approver cannot be the person who signed the Annex III."]
    assert events(obj)[-1] == "approval.refused_four_eyes"


def test_an_approval_of_a_page_opened_before_a_new_draft_is_refused(as_reviewer, as_approver, make_request):
    obj = make_request()
    done(post(as_reviewer, obj, "refuse", {"reason": "Abusive.", "sign": "on"})[0], obj)
    seen = hidden_fields(as_approver.get(act_url(obj, "approve_annex_iii")).content.decode())
    done(post(as_reviewer, obj, "reroute", {"reason": "Use MLA.", "sign": "on"})[0], obj)
    response = as_approver.post(act_url(obj, "approve_annex_iii"), seen)
    done(response, obj)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    obj.refresh_from_db()
    assert obj.status == "in_review" and events(obj)[-1] == "approval.refused_stale"
    assert texts == ["The Annex III draft changed since you opened it: review the newest draft and approve again."]


def test_callback_shows_the_registry_number_read_only(as_reviewer, authority, make_request):
    obj = make_request(emergency=True, status="verification_hold", due_at=timezone.now() + timedelta(hours=8))
    html = as_reviewer.get(act_url(obj, "callback")).content.decode()
    assert authority.switchboard_phone in html
    assert 'name="phone' not in html
    response, _ = post(as_reviewer, obj, "callback", {
        "outcome": "confirmed", "person_reached": "Duty officer", "notes": "ok", "phone_called": "+1555000"})
    done(response, obj)
    obj.refresh_from_db()
    call = CallbackVerification.objects.get(request=obj)
    assert call.phone_called == authority.switchboard_phone and obj.status == "in_review"
    assert events(obj)[-2:] == ["emergency.callback", "request.status_changed"]


def test_callback_not_confirmed_refuses(as_reviewer, as_approver, make_request):
    obj = make_request(emergency=True, status="verification_hold")
    done(post(as_reviewer, obj, "callback", {"outcome": "not_confirmed"})[0], obj)
    obj.refresh_from_db()
    assert obj.status == "verification_hold", "the caller alone does not refuse"
    done(post(as_approver, obj, "approve_annex_iii", {"note": "Second pair of eyes."})[0], obj)
    obj.refresh_from_db()
    assert obj.status == "refused" and obj.resolution == "not_verified"


def test_callback_refused_outside_the_hold(as_reviewer, make_request):
    obj = make_request()
    response = as_reviewer.post(act_url(obj, "callback"), {"outcome": "confirmed"})
    done(response, obj)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("not possible" in t for t in texts)
    assert not CallbackVerification.objects.exists() and events(obj) == []


def test_enforcing_authority_confirms(as_reviewer, make_request):
    obj = make_request(status="awaiting_enforcing_authority", hold_until=timezone.now() + timedelta(days=5))
    done(post(as_reviewer, obj, "ea_confirm", {"reason": "No grounds."})[0], obj)
    obj.refresh_from_db()
    assert obj.status == "in_review" and events(obj)[-1] == "request.status_changed"


def test_enforcing_authority_objects_under_four_eyes(as_reviewer, as_approver, make_request):
    obj = make_request(status="awaiting_enforcing_authority", hold_until=timezone.now() + timedelta(days=5))
    done(post(as_reviewer, obj, "ea_object", {"reason": "Art. 12(1)(a) immunity."})[0], obj)
    obj.refresh_from_db()
    assert obj.status == "awaiting_enforcing_authority"
    assert events(obj)[-2:] == ["annex_iii.drafted", "enforcing_authority.objected"]
    done(post(as_approver, obj, "approve_annex_iii", {"note": ""})[0], obj)
    obj.refresh_from_db()
    assert (obj.status, obj.resolution) == ("refused", "refused_by_enforcing_authority")
    assert events(obj)[-1] == "request.status_changed"


def test_release_preservation(as_reviewer, make_request):
    obj = make_request(lifecycle="preservation", instrument="epoc_pr", status="preserving")
    done(post(as_reviewer, obj, "release", {"reason": "No longer needed."})[0], obj)
    obj.refresh_from_db()
    assert obj.status == "released"


def prepare(client, obj) -> None:
    files = [SimpleUploadedFile("a.csv", b"one\n"), SimpleUploadedFile("b.csv", b"two\n")]
    response, _ = post(client, obj, "prepare", {"documents": files, "cover_note": "Subscriber data."})
    done(response, obj)


def test_prepare_with_several_files_then_approve_by_a_second_person(reviewer, approver, make_request):
    obj = make_request()
    prepare(login(reviewer), obj)
    package = ResponsePackage.objects.get(request=obj)
    assert package.files.count() == 2 and package.prepared_by == reviewer
    assert events(obj)[-1] == "response.prepared"
    response, _ = post(login(approver), obj, "approve", {"note": "Checked."})
    done(response, obj)
    obj.refresh_from_db()
    assert Approval.objects.get(request=obj).approved_by == approver
    assert obj.status == "produced" and "response.approved" in events(obj)


def test_four_eyes_the_preparer_cannot_approve(approver, make_request):
    client = login(approver)
    obj = make_request()
    prepare(client, obj)
    page = client.get(act_url(obj, "approve")).content.decode()
    assert "You prepared this response" in page
    before = events(obj)
    response = client.post(act_url(obj, "approve"), {**hidden_fields(page), "note": "self"})
    done(response, obj)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Four eyes" in t for t in texts)
    obj.refresh_from_db()
    assert obj.status == "in_review" and not Approval.objects.exists()
    assert events(obj) == [*before, "approval.refused_four_eyes"]


def test_a_reviewer_posting_approve_directly_is_refused(reviewer, reviewer2, make_request):
    obj = make_request()
    prepare(login(reviewer2), obj)
    client = login(reviewer)
    assert client.get(act_url(obj, "approve")).status_code == 403
    assert client.post(act_url(obj, "approve"), {"note": "x"}).status_code == 403
    obj.refresh_from_db()
    assert obj.status == "in_review" and not Approval.objects.exists()


def test_approve_without_a_prepared_response_is_an_error(as_approver, make_request):
    obj = make_request()
    response, texts = post(as_approver, obj, "approve", {})
    done(response, obj)
    assert any("no prepared response" in t for t in texts)
    obj.refresh_from_db()
    assert obj.status == "in_review"


def test_unknown_action_is_404(as_reviewer, make_request):
    assert as_reviewer.get(act_url(make_request(), "explode")).status_code == 404


def test_an_action_the_state_no_longer_allows_changes_nothing(as_reviewer, make_request):
    obj = make_request(status="closed")
    response = as_reviewer.post(act_url(obj, "refuse"), {"reason": "late"})
    done(response, obj)
    obj.refresh_from_db()
    assert obj.status == "closed" and events(obj) == []


def test_a_post_without_csrf_token_is_refused(reviewer, make_request):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer, backend="django.contrib.auth.backends.ModelBackend")
    obj = make_request()
    assert client.post(act_url(obj, "refuse"), {"reason": "x"}).status_code == 403
    obj.refresh_from_db()
    assert obj.status == "in_review"


def test_the_approve_page_shows_the_package_and_binds_the_approval_to_it(reviewer, reviewer2, approver,
                                                                         make_request):
    """Issue 14 item 2: the approver sees the files, their SHA-256 and the cover note, and
    approves that package only; a new draft meanwhile voids the page they saw."""
    import hashlib

    obj = make_request()
    prepare(login(reviewer), obj)
    seen = ResponsePackage.objects.get(request=obj)
    client = login(approver)
    page = client.get(act_url(obj, "approve")).content.decode()
    for content in (b"one\n", b"two\n"):
        assert hashlib.sha256(content).hexdigest() in page
    assert "Subscriber data." in page and "a.csv" in page and f"#{seen.pk}" in page
    # A colleague prepares another package while the approver is reading.
    files = [SimpleUploadedFile("swapped.csv", b"other data\n")]
    response, _ = post(login(reviewer2), obj, "prepare", {"documents": files, "cover_note": "Swapped."})
    done(response, obj)
    response = client.post(act_url(obj, "approve"), {**hidden_fields(page), "note": "Looks right."})
    done(response, obj)
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("changed since you opened it" in t for t in texts)
    obj.refresh_from_db()
    assert obj.status == "in_review" and not Approval.objects.exists()
    assert events(obj)[-1] == "approval.refused_stale"
    # Approving the newest package, as now shown, works.
    response, texts = post(client, obj, "approve", {"note": "Checked the new one."})
    done(response, obj)
    obj.refresh_from_db()
    assert obj.status == "produced" and any("released" in t for t in texts)
    assert Approval.objects.get(request=obj).approved_by == approver


def test_a_draft_file_opens_for_the_approver_after_reauthentication_and_is_audited(reviewer, approver,
                                                                                   make_request):
    from audit.models import AuditEvent

    obj = make_request()
    prepare(login(reviewer), obj)
    item = ResponsePackage.objects.get(request=obj).files.get(original_name="a.csv")
    url = f"{change_url(obj).removesuffix('change/')}draft-file/{item.pk}/"
    approver.set_password("correct-horse-battery")  # a password to re-enter (allauth)
    approver.save()
    client = login(approver)
    first = client.get(url)
    assert first.status_code == 302 and "reauthenticate" in first["Location"]
    assert not AuditEvent.objects.filter(action="response.draft_viewed").exists()
    again = client.post(first["Location"], {"password": "correct-horse-battery"})
    assert again.status_code == 302
    opened = client.get(url)
    assert opened.status_code == 200 and opened.content == b"one\n"
    assert opened["Content-Disposition"].startswith("attachment")
    assert opened["X-Content-Type-Options"] == "nosniff" and "no-store" in opened["Cache-Control"]
    viewed = AuditEvent.objects.get(action="response.draft_viewed")
    assert viewed.actor_id == approver.pk and viewed.data["sha256"] == item.sha256
