"""An authority administrator approves and deactivates the officers of their own authority."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.services import officer_approve, officer_deactivate

from ..decorators import authority_admin_required
from ..forms.misc import DeactivateForm


def _officer(request: HttpRequest, officer_id: int) -> User:
    admin: Any = request.user
    officer = User.objects.filter(authority_id=admin.authority_id, pk=officer_id).first()
    if officer is None:
        raise Http404(_("No such officer."))
    return officer


@authority_admin_required
@require_GET
def officer_list(request: HttpRequest) -> HttpResponse:
    admin: Any = request.user
    officers = User.objects.filter(authority_id=admin.authority_id).order_by("-is_active", "approval_status", "email")
    return render(request, "portal/officers.html", {"officers": officers, "deactivate_form": DeactivateForm()})


@authority_admin_required
@require_POST
def officer_approve_view(request: HttpRequest, officer_id: int) -> HttpResponse:
    officer = _officer(request, officer_id)
    try:
        officer_approve(actor=request.user, officer=officer)
    except PermissionDenied:
        messages.error(request, _("You may not approve this officer."))
    else:
        messages.success(request, _("%(email)s has been approved.") % {"email": officer.email})
    return redirect("portal:officers")


@authority_admin_required
@require_POST
def officer_deactivate_view(request: HttpRequest, officer_id: int) -> HttpResponse:
    officer = _officer(request, officer_id)
    form = DeactivateForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        officer_deactivate(actor=request.user, officer=officer, reason=reason)
    except PermissionDenied:
        messages.error(request, _("You may not deactivate this officer."))
    else:
        messages.success(request, _("%(email)s has been deactivated; their sessions and API tokens have ended.")
                         % {"email": officer.email})
    return redirect("portal:officers")
