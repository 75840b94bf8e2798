"""What the officer can do next on a request page (issue 13 item 2).

The rule check's findings say what is wrong; an officer reading them must also know what to
do about it. The next step follows from the request's state and from the *kind* of the
blocking findings (``rules.catalogue``: clarify, refuse, reroute), so a new rule gets a
sensible next step without an edit here; a few codes have a more precise one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from requests_app.models import LegalRequest
from requests_app.rules import catalogue
from requests_app.states import Status

# Orders that needed prior validation by a judge, court or prosecutor and lack it
# (Reg. (EU) 2023/1543 Art. 4(1)(b), 4(2)(b), 4(3)(b), 4(4)(b)).
VALIDATION_CODES = frozenset({"EE_VALIDATION_REQUIRED", "EE_VALIDATOR_NOT_COMPETENT", "EE_VALIDATION_INCOMPLETE"})


@dataclass(frozen=True)
class NextStep:
    code: str  # stable, for tests and styling
    text: str
    link_text: str = ""
    href: str = ""


def _kind(code: str) -> str:
    try:
        return catalogue.kind_of(code)
    except KeyError:
        return catalogue.REVIEW


def next_steps(legal_request: LegalRequest, decision: dict[str, Any]) -> list[NextStep]:
    reference = legal_request.reference
    detail = reverse("portal:request_detail", args=[reference])
    status = legal_request.status
    if status == Status.CLARIFICATION_REQUESTED:
        return [NextStep("answer_clarification",
                         _("Answer the legal team's clarification request: the deadline is paused until you do."),
                         _("Answer the clarification request"), reverse("portal:clarification", args=[reference]))]
    if not legal_request.is_open:
        if status in {Status.NOT_EXECUTED, Status.REFUSED}:
            return [NextStep("closed_not_executed",
                             _("The order was not executed; the reasons are in the Annex III form below. If you "
                               "can address them, submit a new request."),
                             _("Submit a new request"), reverse("portal:request_new"))]
        if status == Status.REROUTED:
            return [NextStep("closed_rerouted",
                             _("This request has to go through another legal route; the findings and the legal "
                               "team's message name it. Nothing more can be done here."))]
        return []
    if status == Status.VERIFICATION_HOLD and legal_request.emergency:
        return [NextStep("await_callback",
                         _("The legal team will call your authority's switchboard to confirm the emergency. "
                           "Make sure the switchboard can reach the officer in charge."))]
    if status == Status.AWAITING_ENFORCING_AUTHORITY:
        return [NextStep("await_enforcing_authority",
                         _("The provider waits for the enforcing authority's answer (Art. 10(2) of Regulation "
                           "(EU) 2023/1543). Nothing is needed from you."))]
    steps: list[NextStep] = []
    errors = [f for f in decision.get("findings", []) if f.get("severity") == "error"]
    codes = {f.get("code", "") for f in errors}
    kinds = {_kind(code) for code in codes}
    if codes & VALIDATION_CODES:
        steps.append(NextStep(
            "upload_validated_order",
            _("Upload the order as validated by a judge or a court (for subscriber and identification data, "
              "a public prosecutor may also validate: Art. 4(1)(b) and 4(2)(b) of Regulation (EU) 2023/1543), "
              "and send the validation details as a message."),
            _("Add a document"), f"{detail}#attachment-form"))
    if catalogue.CLARIFY in kinds and not codes <= VALIDATION_CODES:
        steps.append(NextStep(
            "complete_request",
            _("Complete or correct what the findings name: send the missing information to the legal team as "
              "a message, or upload a corrected order."),
            _("Write to the legal team"), f"{detail}#message-form"))
    if catalogue.REROUTE in kinds:
        steps.append(NextStep(
            "other_route",
            _("The check finds that this request belongs to another legal route (see the findings). The legal "
              "team confirms it; you may withdraw the request and use that route.")))
    if catalogue.REFUSE in kinds and not codes <= VALIDATION_CODES:
        steps.append(NextStep(
            "await_decision",
            _("The check finds a ground on which the order may not be executed. The legal team decides; if it "
              "is not executed, you receive the reasons in an Annex III form on this page and by e-mail.")))
    return steps
