"""Custom admin views: one action on one request, and the provider's configuration.

Both are wrapped by ``admin_site.admin_view`` (staff login, CSRF, never cached). A role that
may not run an action gets 403; an action the state no longer allows, or a ServiceError
from the service (four eyes, invalid state...), becomes an error message and nothing changes.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from ..models import LegalRequest
from ..permissions import can
from ..provider import config_as_dict
from ..services.errors import ServiceError
from ..services.review import refusal_proposal
from .actions import ACTIONS
from .detail import decision_context

# Actions by which a person decides (or asks before deciding) from the engine's proposal.
DECISION_ACTIONS = frozenset({"clarify", "not_executed", "refuse", "reroute"})

TEMPLATES = "admin/requests_app/legalrequest"


def change_url(obj: LegalRequest) -> str:
    return reverse("admin:requests_app_legalrequest_change", args=[obj.pk])


def act(model_admin: Any, request: HttpRequest, object_id: str, action_name: str) -> HttpResponse:
    action = ACTIONS.get(action_name)
    if action is None:
        raise Http404("No such action.")
    obj = get_object_or_404(LegalRequest.objects.select_related("authority", "assigned_to"), pk=object_id)
    if not can(request.user, action.permission, obj):
        raise PermissionDenied
    if not action.applies(obj):
        messages.error(request, f"“{action.label}” is not possible while the request is {obj.get_status_display()}.")
        return HttpResponseRedirect(change_url(obj))
    if request.method == "POST":
        form = action.form(request.POST, request.FILES, request_obj=obj)
        if form.is_valid():
            try:
                done = action.run(request.user, obj, form.cleaned_data, form)
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, done)
            return HttpResponseRedirect(change_url(obj))
    else:
        form = action.form(request_obj=obj)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": obj,
        "action": action,
        "form": form,
        "title": f"{action.label}: {obj.reference}",
        # The engine's findings and its drafted Annex III, shown to the person who decides.
        "decision": decision_context(obj.decision) if action.name in DECISION_ACTIONS else None,
        "proposal": refusal_proposal(obj) if action.name in DECISION_ACTIONS else None,
        "pending_package": obj.responses.filter(approval__isnull=True, released_at__isnull=True,
                                                purged_at__isnull=True).select_related("prepared_by").last(),
    }
    return TemplateResponse(request, f"{TEMPLATES}/act.html", context)


def _rows(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A nested configuration as (dotted key, value) rows, sorted."""
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        for key in sorted(value):
            rows.extend(_rows(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return rows
    if isinstance(value, list):
        return [(prefix, ", ".join(str(v) for v in value) or "—")]
    return [(prefix, "—" if value in (None, "") else str(value))]


def provider_config(model_admin: Any, request: HttpRequest) -> HttpResponse:
    if not can(request.user, "review"):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Provider configuration",
        "rows": _rows(config_as_dict()),
    }
    return TemplateResponse(request, f"{TEMPLATES}/provider_config.html", context)
