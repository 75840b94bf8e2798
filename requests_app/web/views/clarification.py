"""Answering a clarification request (Annex III): a message, optional corrections, a PDF."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from requests_app.models import AnnexIIIKind, AttachmentKind, LegalRequest
from requests_app.services.attachments import attachment_add
from requests_app.services.errors import ServiceError
from requests_app.services.submission import clarification_submit
from requests_app.states import Status
from requests_app.uploads import UploadRejected

from ..decorators import client_ip, officer_required
from ..forms.misc import ClarificationForm
from ..forms.prefill import corrections, initial_for
from ..forms.request_form import SECTION_INSTRUMENTS, RequestForm, TargetFormSet
from .lookup import find_request
from .summary import summary_for

FIXED = ("instrument", "emergency", "language")  # a different order or an escalation is a new request


def _forms(legal_request: LegalRequest, data: Any = None, files: Any = None) -> tuple[Any, RequestForm, Any]:
    initial, target_initial = initial_for(legal_request)
    targets = TargetFormSet(data, prefix="targets", initial=target_initial)
    form = RequestForm(data, targets=targets, initial=initial)
    for name in FIXED:
        form.fields[name].disabled = True
    form.fields["order_file"].disabled = True
    return ClarificationForm(data, files), form, targets


@never_cache
@officer_required
@require_http_methods(["GET", "POST"])
def clarification_answer(request: HttpRequest, reference: str) -> HttpResponse:
    legal_request = find_request(request, reference, detail=True)
    if legal_request.status != Status.CLARIFICATION_REQUESTED:
        messages.info(request, _("This request is not waiting for a clarification."))
        return redirect("portal:request_detail", reference=reference)
    answer, form, targets = _forms(legal_request, request.POST or None, request.FILES or None)
    if request.method == "POST" and answer.is_valid():
        correcting = answer.cleaned_data["correct"]
        if not correcting or form.validate_with_api():
            changes = corrections(legal_request, form.api_data or {}) if correcting else {}
            try:
                with transaction.atomic():
                    document = answer.cleaned_data.get("document")
                    if document:
                        attachment_add(actor=request.user, request=legal_request, upload=document,
                                       kind=AttachmentKind.CLARIFICATION, ip_address=client_ip(request))
                    clarification_submit(actor=request.user, request=legal_request,
                                         message=answer.cleaned_data["message"], changes=changes,
                                         ip_address=client_ip(request))
            except UploadRejected as rejected:
                answer.add_error("document", rejected.message)
            except ServiceError as error:
                answer.add_error(None, error.message)
            else:
                messages.success(request, _("Your answer has been sent; the request is checked again."))
                return redirect("portal:request_detail", reference=reference)
    asked = [a for a in legal_request.annex_iii.all() if a.kind == AnnexIIIKind.CLARIFICATION]
    errors = summary_for(answer) + (summary_for(form, targets) if answer.is_bound and
                                    answer.data.get("correct") else [])
    return render(request, "portal/clarification.html", {
        "req": legal_request, "answer": answer, "form": form, "targets": targets, "asked": asked[-1] if asked else None,
        "error_summary": errors, "sections": SECTION_INSTRUMENTS, "authority": legal_request.authority,
    }, status=400 if request.method == "POST" else 200)
