"""The request page: status, deadlines, decision, messages, documents and the response."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views.decorators.http import require_GET

from accounts.models import AuthorityType
from audit.trail import request_history
from requests_app.models import LegalRequest
from requests_app.services.delivery import released_package
from requests_app.states import DataCategory, Status
from requests_app.workflow import allowed_targets

from ..decorators import officer_required
from ..findings import by_reader
from ..forms.misc import AttachmentForm, MessageForm
from ..next_step import next_steps
from .lookup import find_request

STATUS_LABELS = dict(Status.choices)
CATEGORY_LABELS = dict(DataCategory.choices)


def _parse(value: str | None) -> datetime | str | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return value


def _category_rows(legal_request: LegalRequest, decision: dict[str, Any],
                   findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The decision per requested data category, with the finding that blocks it (if any).

    A finding about the whole order (no data category) blocks every category: it is written
    out in the first row it blocks, and the later rows name that row instead of repeating it.
    """
    verdicts = {row.get("data_category"): row for row in decision.get("categories") or decision.get("verdicts") or []}
    rows: list[dict[str, Any]] = []
    for category in legal_request.data_categories or []:
        verdict = verdicts.get(category)
        blocking = None
        if verdict and not verdict.get("allowed"):
            blocking = next((f for f in findings if f.get("code") == verdict.get("reason_code")
                             and f.get("data_category") in (None, category)), None)
        first = next((row for row in rows if blocking is not None and row["finding"] is blocking), None)
        rows.append({"category": category, "label": CATEGORY_LABELS.get(category, category), "verdict": verdict,
                     "finding": None if first else blocking, "same_as": first["label"] if first else None})
    return rows


# The pages a request page may start a download of after the re-authentication that
# interrupted it (``decorators.download_returns_to_request``).
_DOWNLOADS = {"response_download", "annex_iii_download"}


def _download_to_start(request: HttpRequest, legal_request: LegalRequest) -> str:
    path = request.GET.get("download", "")
    if not path:
        return ""
    try:
        match = resolve(path)
    except Resolver404:
        return ""
    if match.namespace != "portal" or match.url_name not in _DOWNLOADS:
        return ""
    if match.kwargs.get("reference") != legal_request.reference:
        return ""
    return path


def render_detail(request: HttpRequest, legal_request: LegalRequest, *, status: int = 200,
                  **forms: Any) -> HttpResponse:
    decision = legal_request.decision or {}
    # A closed request (and one whose data were produced) has no running deadline: never show
    # a due date or a preservation to act on (domain.md §13.12; the timers were cancelled).
    deadlines_run = legal_request.is_open and legal_request.status != Status.PRODUCED
    # The provider's own duties (preserve, acknowledge, produce within 8 h) are what the
    # provider does, never the officer's next step; once the request is closed they are moot
    # and not shown at all.
    read = by_reader(decision.get("findings", []))
    findings, provider_duties = read["findings"], read["provider_duties"]
    categories = _category_rows(legal_request, decision, findings)
    # A finding that blocks a category is shown in that category's row; listing it again
    # below the table showed every blocking finding twice (issue 13 item 2).
    in_rows = [row["finding"] for row in categories if row["finding"] is not None] if decision.get("categories") else []
    findings = [f for f in findings if not any(f is shown for shown in in_rows)]
    package = released_package(legal_request)
    context = {
        "req": legal_request,
        "history": [{**entry, "label": STATUS_LABELS.get(entry["status"], entry["status"])}
                    for entry in request_history(legal_request.pk)],
        "decision": decision,
        "findings": findings,
        "blocking_in_rows": bool(in_rows),
        "provider_duties": provider_duties if deadlines_run else [],
        "deadlines_run": deadlines_run,
        "deadlines": [{**d, "due_at": _parse(d.get("due_at"))} for d in decision.get("deadlines", [])
                      if not d.get("informational")] if deadlines_run else [],
        # The engine's refusal or reroute is a recommendation until a person decides it.
        "outcome_pending": legal_request.is_open and decision.get("route") in {"not_executable", "rerouted"},
        "package": package,
        "package_downloadable": package.is_downloadable() if package else False,
        "can_withdraw": Status.WITHDRAWN in allowed_targets(legal_request.lifecycle, legal_request.status),
        "can_clarify": legal_request.status == Status.CLARIFICATION_REQUESTED,
        "next_steps": next_steps(legal_request, decision),
        "validation_type_label": dict(AuthorityType.choices).get(legal_request.validation_authority_type,
                                                                 legal_request.validation_authority_type),
        "categories": categories,
        "start_download": _download_to_start(request, legal_request),
        "message_form": forms.get("message_form") or MessageForm(),
        "attachment_form": forms.get("attachment_form") or AttachmentForm(),
    }
    return render(request, "portal/request_detail.html", context, status=status)


@officer_required
@require_GET
def request_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return render_detail(request, find_request(request, reference, detail=True))
