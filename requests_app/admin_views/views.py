"""Custom admin views: one action on one request, and the provider's configuration.

Both are wrapped by ``admin_site.admin_view`` (staff login, CSRF, never cached). A role that
may not run an action gets 403; an action the state no longer allows, or a ServiceError
from the service (four eyes, invalid state...), becomes an error message and nothing changes.
"""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import content_disposition_header

from ..models import LegalRequest
from ..permissions import can
from ..provider import config_as_dict
from ..services.delivery import draft_file_read, pending_package
from ..services.errors import ServiceError
from ..services.review import refusal_proposal
from ..web.decorators import client_ip
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
    pending = pending_package(obj)
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
        "pending_package": pending,
        "pending_files": list(pending.files.order_by("pk")) if pending is not None else [],
        # The Annex III draft a second person approves (four eyes bound to this id and digest).
        "pending_annex": getattr(form, "draft", None),
        "pending_annex_digest": getattr(form, "draft_digest", ""),
    }
    return TemplateResponse(request, f"{TEMPLATES}/act.html", context)


@reauthentication_required
def draft_file(request: HttpRequest, object_id: str, file_id: int) -> HttpResponse:
    """A file of a prepared, unreleased response, for the approver to see what they approve.

    Re-authenticated (allauth: a password or second factor within the last
    ``ACCOUNT_REAUTHENTICATION_TIMEOUT``) and audited by the service; served as an attachment
    that the browser may not sniff, cache or run.
    """
    obj = get_object_or_404(LegalRequest, pk=object_id)
    try:
        item, data = draft_file_read(actor=request.user, request=obj, file_id=file_id, ip_address=client_ip(request))
    except ServiceError as exc:
        if exc.code == "permission_denied":
            raise PermissionDenied from exc
        raise Http404(exc.message) from exc
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, item.original_name) or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


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
