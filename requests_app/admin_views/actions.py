"""The queue's actions: one entry per service call, with its role, the states it applies in
and its form. The admin view (``views.act``) only looks an action up here and runs it; the
service re-checks the role and the state, so a forged POST changes nothing either way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..models import LegalRequest
from ..permissions import can
from ..services import delivery, review
from ..states import TERMINAL_STATES, Status
from ..workflow import allowed_targets
from . import forms as f

Run = Callable[[Any, LegalRequest, dict[str, Any], Any], str]
Applies = Callable[[LegalRequest], bool]


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    permission: str  # a rule of requests_app.permissions
    form: type[f.ActionForm]
    applies: Applies
    run: Run  # (actor, request, cleaned_data, form) -> success message
    danger: bool = False


def _can_move_to(target: str) -> Applies:
    return lambda r: target in allowed_targets(r.lifecycle, r.status)


def _in(*states: str) -> Applies:
    return lambda r: r.status in states


def _open(r: LegalRequest) -> bool:
    return r.status not in TERMINAL_STATES


def _always(r: LegalRequest) -> bool:
    return True


def _assign_me(actor, req, data, form):
    review.review_assign(actor=actor, request=req, reviewer=actor)
    return "The request is assigned to you."


def _assign(actor, req, data, form):
    review.review_assign(actor=actor, request=req, reviewer=data["reviewer"])
    return "The assignee was changed."


def _note(actor, req, data, form):
    review.note_add(actor=actor, request=req, body=data["body"])
    return "The note was added."


def _message(actor, req, data, form):
    review.message_to_authority(actor=actor, request=req, body=data["body"])
    return "The message was sent to the authority."


def _clarify(actor, req, data, form):
    review.clarification_request(actor=actor, request=req, clarification_asked=data["clarification_asked"],
                                 reasons=form.reasons(), data_preserved=data["data_preserved"])
    return "Clarification requested (Annex III)."


_AWAITS = " A second member of the legal team must approve it before it is sent."


def _not_executed(actor, req, data, form):
    draft = review.not_executed(actor=actor, request=req, reasons=form.reasons(),
                                conflicting_obligations=data["conflicting_obligations"],
                                data_preserved=data["data_preserved"])
    what = "partial non-execution" if draft.partial else "non-execution"
    return f"Annex III ({what}) signed." + _AWAITS


def _refuse(actor, req, data, form):
    review.request_refuse(actor=actor, request=req, reason=data["reason"], reasons=form.reasons(),
                          conflicting_obligations=data["conflicting_obligations"])
    return "Annex III (refusal) signed." + _AWAITS


def _reroute(actor, req, data, form):
    review.request_reroute(actor=actor, request=req, where=data["reason"], reasons=form.reasons())
    return "Annex III (rerouting) signed." + _AWAITS


def _approve_annex(actor, req, data, form):
    approved = review.refusal_approve(actor=actor, request=req, annex_iii_id=data["annex_iii_id"] or 0,
                                      digest=data["digest"] or "", note=data["note"])
    if approved.partial:
        return "The partial non-execution was approved and sent; the rest of the request continues."
    return "The Annex III was approved and sent to the authority; the request is closed."


def _has_draft(r: LegalRequest) -> bool:
    return review.pending_refusal(r) is not None


def _callback(actor, req, data, form):
    call = review.emergency_callback_record(actor=actor, request=req, outcome=data["outcome"],
                                            person_reached=data["person_reached"], notes=data["notes"])
    if call.outcome == "not_confirmed":
        return (f"Call-back recorded: {call.get_outcome_display()}. The submitting account is held; the refusal "
                f"(Annex III) is signed by you." + _AWAITS)
    return f"Call-back recorded: {call.get_outcome_display()}."


def _ea_confirm(actor, req, data, form):
    review.ea_confirm(actor=actor, request=req, note=data["reason"])
    return "The enforcing authority's confirmation was recorded."


def _ea_object(actor, req, data, form):
    review.ea_object(actor=actor, request=req, grounds=data["reason"])
    return ("The enforcing authority's ground for refusal was recorded and the refusal (Annex III) signed; nothing "
            "is transferred." + _AWAITS)


def _ea_contact(actor, req, data, form):
    review.enforcing_authority_contact(actor=actor, request=req, email=data["email"])
    return "The enforcing authority's e-mail address was recorded; it receives a copy of every Annex III sent."


def _notified(r: LegalRequest) -> bool:
    return bool(r.enforcing_authority_notified) and r.status not in TERMINAL_STATES


def _prepare(actor, req, data, form):
    package = delivery.response_prepare(actor=actor, request=req, files=data["documents"],
                                        cover_note=data["cover_note"])
    return f"Response prepared ({package.files.count()} file(s)); a second person must approve it."


def _approve(actor, req, data, form):
    review.review_approve(actor=actor, request=req, package_id=data["package_id"] or 0, digests=form.digest_list(),
                          note=data["note"])
    req.refresh_from_db()
    if req.status == Status.APPROVED:
        return "The response was approved; it is released to the authority when the hold ends."
    return "The response was approved and released to the authority."


def _release(actor, req, data, form):
    review.preservation_release(actor=actor, request=req, reason=data["reason"])
    return "The preservation was released."


def _close(actor, req, data, form):
    review.request_close(actor=actor, request=req, reason=data["reason"])
    return "The request was closed."


S = Status
ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("assign_me", "Assign to me", "assign", f.ConfirmForm, _open, _assign_me),
    Action("assign", "Assign to a reviewer", "assign", f.AssignForm, _open, _assign),
    Action("note", "Add an internal note", "review", f.BodyForm, _always, _note),
    Action("message", "Message the authority", "review", f.BodyForm, _always, _message),
    Action("clarify", "Request clarification (Annex III)", "review", f.ClarificationForm,
           _can_move_to(S.CLARIFICATION_REQUESTED), _clarify),
    Action("callback", "Record the call-back", "verify_emergency", f.CallbackForm, _in(S.VERIFICATION_HOLD),
           _callback),
    Action("ea_confirm", "Enforcing authority confirmed", "review", f.OptionalReasonForm,
           _in(S.AWAITING_ENFORCING_AUTHORITY), _ea_confirm),
    Action("ea_object", "Enforcing authority objected", "review", f.ReasonForm,
           _in(S.AWAITING_ENFORCING_AUTHORITY), _ea_object, danger=True),
    Action("ea_contact", "Enforcing authority's e-mail (Art. 8)", "review", f.EnforcingAuthorityContactForm,
           _notified, _ea_contact),
    Action("prepare", "Prepare the response", "prepare_response", f.PrepareForm, _in(*delivery.PREPARABLE),
           _prepare),
    Action("approve", "Approve the response (four eyes)", "approve", f.ApproveForm, _can_move_to(S.APPROVED),
           _approve),
    Action("release", "Release the preservation", "review", f.OptionalReasonForm, _can_move_to(S.RELEASED),
           _release),
    Action("not_executed", "Not executed (Annex III)", "review", f.NotExecutedForm,
           _can_move_to(S.NOT_EXECUTED), _not_executed, danger=True),
    Action("refuse", "Refuse (Annex III)", "review", f.RefuseForm, _can_move_to(S.REFUSED), _refuse, danger=True),
    Action("reroute", "Reroute (Annex III)", "review", f.RerouteForm, _can_move_to(S.REROUTED), _reroute,
           danger=True),
    Action("approve_annex_iii", "Approve the Annex III (four eyes)", "approve", f.ApproveAnnexIIIForm, _has_draft,
           _approve_annex, danger=True),
    Action("close", "Close", "review", f.OptionalReasonForm, _can_move_to(S.CLOSED), _close),
)}


def available(user: Any, request: LegalRequest) -> list[Action]:
    """The actions ``user``'s role allows on ``request`` in its current state."""
    return [a for a in ACTIONS.values() if can(user, a.permission, request) and a.applies(request)]
