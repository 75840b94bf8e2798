"""Automatic validation of a request: structural checks now, jurisdiction rules next.

Called by the Celery task; idempotent. It claims the request (``received`` → ``validating``)
in one transaction, assesses it outside any lock, then stores the outcome in a second
transaction, after checking the request is still ``validating`` (a withdrawal or a second
delivery of the same task may have happened meanwhile). A worker killed between the two
leaves the request in ``validating``; the sweeper re-queues it and the task resumes.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from .. import audit
from ..checks import structural_findings
from ..facts import facts_from_request
from ..models import LegalRequest
from ..rules.result import Finding
from ..states import Status
from ..workflow import transition

log = logging.getLogger(__name__)

# After this many claims the request goes to a human instead of looping on a poison message.
MAX_ATTEMPTS = 5
CHECKS_VERSION = "structural-1"


def request_claim_for_validation(*, request_id: int) -> LegalRequest | None:
    """Move a received request to validating; None when there is nothing to do."""
    with transaction.atomic():
        request = LegalRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None or request.status not in {Status.RECEIVED, Status.VALIDATING}:
            return None
        request.validation_attempts += 1
        request.save(update_fields=["validation_attempts", "updated_at"])
        if request.status == Status.RECEIVED:
            request = transition(request, Status.VALIDATING, reason="automatic validation started")
        return request


def assess(request: LegalRequest) -> dict[str, Any]:
    """The decision for a request: findings and the state it should move to."""
    facts = facts_from_request(request)
    findings: list[Finding] = structural_findings(facts, provider_domains=settings.PROVIDER_DOMAINS)
    errors = [f for f in findings if f.severity == "error"]
    return {
        "route": "clarification_required" if errors else "accepted",
        "target_status": Status.CLARIFICATION_REQUESTED if errors else Status.IN_REVIEW,
        "rulebook_version": CHECKS_VERSION,
        "findings": [f.to_dict() for f in findings],
        "verdicts": [],
        "deadlines": [],
        "due_at": None,
        "deadline_explanation": "",
    }


def request_validate(*, request_id: int) -> LegalRequest | None:
    """Validate one request end to end (the body of the Celery task)."""
    request = request_claim_for_validation(request_id=request_id)
    if request is None:
        return None
    if request.validation_attempts > MAX_ATTEMPTS:
        decision: dict[str, Any] = {"route": "clarification_required", "target_status": Status.IN_REVIEW, "findings": [{
            "code": "validation_failed_repeatedly", "severity": "warning", "data_category": None,
            "legal_basis": "", "message": "Automatic validation failed repeatedly; assess manually.",
        }], "rulebook_version": CHECKS_VERSION}
    else:
        request = LegalRequest.objects.select_related("authority", "linked_request").get(pk=request.pk)
        decision = assess(request)
    with transaction.atomic():
        current = LegalRequest.objects.select_for_update().get(pk=request.pk)
        if current.status != Status.VALIDATING:
            return None
        audit.record("request.validated", request=current, authority_id=current.authority_id, data={
            "route": decision["route"], "codes": [f["code"] for f in decision["findings"]],
            "rulebook_version": decision["rulebook_version"],
        })
        return transition(
            current,
            decision["target_status"],
            reason="automatic validation",
            extra_fields={"decision": decision},
        )
