"""The landing page, the officer's request list and the "awaiting approval" page."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from accounts.models import ApprovalStatus
from accounts.standing import standing_problem
from requests_app.access import visible_requests
from requests_app.states import Instrument, Status

from ..decorators import officer_required
from ..forms.misc import RequestFilterForm

PAGE_SIZE = 25
LIST_FIELDS = ("reference", "status", "instrument", "case_reference", "emergency", "received_at", "due_at")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.is_authenticated:
        return render(request, "portal/landing.html")
    if user.authority_id is None:
        return render(request, "portal/staff_home.html")
    if not user.is_approved_officer:
        return redirect("portal:awaiting_approval")
    recent = visible_requests(user).only(*LIST_FIELDS).order_by("-received_at", "-id")[:10]
    open_count = visible_requests(user).exclude(status__in=[Status.CLOSED, Status.WITHDRAWN]).count()
    return render(request, "portal/home.html", {"recent": recent, "open_count": open_count})


@require_GET
def awaiting_approval(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.is_authenticated:
        return redirect("account_login")
    if user.is_approved_officer:
        return redirect("portal:home")
    problem = standing_problem(user) or ""
    rejected = user.approval_status == ApprovalStatus.REJECTED or not user.is_active
    # The authority's own state is shown neutrally: "under review", never why.
    authority_held = problem.startswith("authority_")
    return render(request, "portal/awaiting_approval.html", {"rejected": rejected, "authority_held": authority_held})


@officer_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    filters = RequestFilterForm(request.GET or None)
    queryset = visible_requests(request.user).only(*LIST_FIELDS).order_by("-received_at", "-id")
    if filters.is_valid():
        if filters.cleaned_data.get("status"):
            queryset = queryset.filter(status=filters.cleaned_data["status"])
        if filters.cleaned_data.get("instrument"):
            queryset = queryset.filter(instrument=filters.cleaned_data["instrument"])
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "portal/request_list.html", {
        "page": page, "filters": filters, "query": query.urlencode(),
        "statuses": Status.choices, "instruments": Instrument.choices,
    })
