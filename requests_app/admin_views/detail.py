"""What the change page shows besides the request's own fields: the decision, related rows
and the audit timeline, each loaded with one query."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from audit.models import AuditEvent

from ..models import LegalRequest, ResponseFile, ResponsePackage
from ..services.dead_letters import undelivered_emergency_alerts
from .timeline import timeline


def deadline_kind_label(kind: str) -> str:
    """A deadline's kind as the legal team reads it (``production_due`` → "Production period
    ends (Reg. 2023/1543 Art. 10(2)-(4))"): the timer kinds carry the labels."""
    from ..models.timers import TimerKind

    return str(TimerKind(kind).label) if kind in TimerKind.values else code_words(kind)


def code_words(value: str | None) -> str:
    return value.replace("_", " ").capitalize() if value else "—"


def decision_context(decision: dict[str, Any] | None) -> dict[str, Any]:
    """The stored decision with a label beside each code the page shows (the codes stay, in
    ``<code>``, where the legal team searches them: finding codes, reason codes)."""
    decision = decision or {}
    deadlines = [{**d, "kind_label": deadline_kind_label(d.get("kind", ""))} for d in decision.get("deadlines") or []]
    return {
        "route": decision.get("route", ""),
        "route_label": code_words(decision.get("route")),
        "rulebook_version": decision.get("rulebook_version", ""),
        "findings": decision.get("findings") or [],
        "verdicts": decision.get("verdicts") or [],
        "deadlines": deadlines,
    }


def related_context(obj: LegalRequest) -> dict[str, Any]:
    packages = ResponsePackage.objects.filter(request=obj).select_related(
        "prepared_by", "approval__approved_by"
    ).prefetch_related(Prefetch("files", queryset=ResponseFile.objects.order_by("id")))
    events = AuditEvent.objects.filter(request_id=obj.pk).order_by("seq").only(
        "occurred_at", "actor_label", "action", "data"
    )
    return {
        "decision": decision_context(obj.decision),
        "targets": list(obj.targets.all()),
        "attachments": list(obj.attachments.select_related("uploaded_by")),
        "authority_messages": list(obj.messages.select_related("author")),
        "notes": list(obj.internal_notes.select_related("author")),
        "callbacks": list(obj.callbacks.select_related("called_by")),
        "approvals": list(obj.approvals.select_related("prepared_by", "approved_by")),
        "annex_iii": list(obj.annex_iii.select_related("created_by", "approved_by")),
        "packages": list(packages),
        # Delivery state of every e-mail about this request (retry/discard in the Notifications admin).
        "notifications": list(obj.notifications.only("event", "recipient", "status", "attempts", "last_error",
                                                     "sent_at", "created_at").order_by("created_at", "id")),
        "timeline": timeline(events),
        # Emergency alerts of this request still being retried (the warning at the top of the page).
        "undelivered_alerts": undelivered_emergency_alerts(request=obj),
    }
