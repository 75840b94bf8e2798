"""The new-request form, its live rule check and the confirmation page."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.zones import zone_for_country, zone_of
from requests_app.access import RequestNotFound, get_visible_request
from requests_app.models import AttachmentKind, Channel
from requests_app.services import validation
from requests_app.services.attachments import attachment_add
from requests_app.services.errors import ServiceError
from requests_app.services.submission import request_submit
from requests_app.uploads import UploadRejected

from ..decorators import client_ip, officer_required
from ..findings import attach_findings, by_reader, slot_names
from ..forms.request_form import SECTION_INSTRUMENTS, RequestForm, TargetFormSet
from ..forms.timezones import ZONE_CHOICES
from .summary import summary_for

# Outcomes of the rule check that ask the officer to confirm before submitting (issue 13 item 2).
CONFIRM_ROUTES = frozenset({"not_executable", "rerouted"})


def _forms(request: HttpRequest, data: Any = None, files: Any = None) -> tuple[RequestForm, Any]:
    # The officer's own zone (accounts/zones.py), if the form offers it; else the country's.
    zone = zone_of(request.user).key
    if zone not in dict(ZONE_CHOICES):
        zone = zone_for_country(request.user.authority.country)  # type: ignore[union-attr]
    targets = TargetFormSet(data, prefix="targets", form_kwargs={"default_zone": zone})
    initial = {"range_timezone": zone, "submission_key": uuid.uuid4().hex,
               "language": getattr(request, "LANGUAGE_CODE", "en")}
    form = RequestForm(data, files, targets=targets, initial=None if data is not None else initial)
    return form, targets


def _page(request: HttpRequest, form: RequestForm, targets: Any, *, decision: dict[str, Any] | None = None,
          findings: list[dict[str, Any]] | None = None, checked: bool = False, status: int = 200,
          confirm_error: str = "") -> HttpResponse:
    return render(request, "portal/request_form.html", {
        "form": form, "targets": targets, "decision": decision, **by_reader(findings or []), "checked": checked,
        "confirm_error": confirm_error,
        "error_summary": summary_for(form, targets), "sections": SECTION_INSTRUMENTS,
        "authority": request.user.authority,  # type: ignore[union-attr]
    }, status=status)


@never_cache
@officer_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form, targets = _forms(request)
        return _page(request, form, targets)
    data: Any = request.POST
    if data.get("action") == "more_targets":
        # Without JavaScript, "Add another target" comes back here with three more rows.
        data = data.copy()
        rows = data.get("targets-TOTAL_FORMS") or "0"
        data["targets-TOTAL_FORMS"] = str(min((int(rows) if rows.isdigit() else 0) + 3, 100))
        form, targets = _forms(request, data)
        return _page(request, form, targets)
    form, targets = _forms(request, data, request.FILES)
    if not form.validate_with_api():
        return _page(request, form, targets, status=400)
    assert form.api_data is not None
    if request.POST.get("action") == "check":
        decision = validation.request_check(actor=request.user, data=form.api_data)
        findings = attach_findings(form, targets, decision["findings"])
        return _page(request, form, targets, decision=decision, findings=findings, checked=True)
    decision = validation.request_check(actor=request.user, data=form.api_data)
    if decision.get("route") in CONFIRM_ROUTES and request.POST.get("confirm_not_executable") != "yes":
        # The officer is told before a request the check calls unexecutable is stored; the legal
        # team still decides (a person decides every refusal), so it can be sent on purpose.
        findings = attach_findings(form, targets, decision["findings"])
        return _page(request, form, targets, decision=decision, findings=findings, checked=True, status=400,
                     confirm_error=_("The check says this request cannot be executed as it stands. Correct it, "
                                     "or confirm that you want to submit it anyway."))
    key = form.cleaned_data.get("submission_key") or None
    try:
        with transaction.atomic():
            legal_request, _created = request_submit(
                actor=request.user, data=form.api_data, channel=Channel.WEB,
                idempotency_key=f"web:{key}" if key else None, ip_address=client_ip(request))
            upload = form.cleaned_data.get("order_file")
            if upload and _created:
                attachment_add(actor=request.user, request=legal_request, upload=upload, kind=AttachmentKind.ORDER,
                               ip_address=client_ip(request), checked=form.checked_order)
    except UploadRejected as rejected:
        form.add_error("order_file", rejected.message)
        return _page(request, form, targets, status=400)
    except ServiceError as error:
        placed = False
        for name, problems in (error.fields or {}).items():
            if name in form.fields:
                for problem in problems:
                    form.add_error(name, problem)
                placed = True
        if not placed:
            form.add_error(None, error.message)
        return _page(request, form, targets, status=400)
    return redirect("portal:request_receipt", reference=legal_request.reference)


@officer_required
@require_POST
def request_check(request: HttpRequest) -> HttpResponse:
    """The live check (htmx): the findings panel plus out-of-band updates of every field's slot."""
    form, targets = _forms(request, request.POST)
    form.fields["order_file"].required = False
    decision = None
    findings: list[dict[str, Any]] = []
    if form.validate_with_api():
        assert form.api_data is not None
        decision = validation.request_check(actor=request.user, data=form.api_data)
        findings = attach_findings(form, targets, decision["findings"])
    else:
        attach_findings(form, targets, [])
    by_slot = getattr(form, "findings_by_field", {})
    slots = [(name, by_slot.get(name, [])) for name in slot_names(form, targets)]
    return render(request, "portal/includes/check_result.html", {
        "decision": decision, **by_reader(findings), "error_summary": summary_for(form, targets),
        "slots": slots, "checked": True, "oob": True,
    })


@officer_required
def request_receipt(request: HttpRequest, reference: str) -> HttpResponse:
    try:
        legal_request = get_visible_request(request.user, reference, ip_address=client_ip(request))
    except RequestNotFound as exc:
        raise Http404(_("No such request.")) from exc
    return render(request, "portal/request_receipt.html", {"req": legal_request})
