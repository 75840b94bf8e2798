"""What an officer does on a request: write, withdraw, add and download documents."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit import trail as audit
from requests_app import annex_iii_pdf
from requests_app.models import AnnexIII
from requests_app.services.attachments import (
    attachment_add,
    attachment_find,
    attachment_from_link,
    attachment_link_token,
    attachment_open,
)
from requests_app.services.delivery import response_file_read
from requests_app.services.errors import ServiceError
from requests_app.services.review import message_from_authority
from requests_app.services.submission import request_withdraw
from requests_app.uploads import UploadRejected

from ..decorators import client_ip, download_returns_to_request, officer_required
from ..forms.misc import AttachmentForm, MessageForm, WithdrawForm
from .detail import render_detail
from .lookup import find_request

R = TypeVar("R", bound=HttpResponseBase)


def _detail_url(reference: str, anchor: str = "") -> str:
    url = reverse("portal:request_detail", kwargs={"reference": reference})
    return f"{url}#{anchor}" if anchor else url


@officer_required
@require_POST
def message_create(request: HttpRequest, reference: str) -> HttpResponse:
    legal_request = find_request(request, reference)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            message_from_authority(actor=request.user, request=legal_request, body=form.cleaned_data["body"],
                                   ip_address=client_ip(request))
        except ServiceError as error:
            form.add_error("body", error.message)
        else:
            messages.success(request, _("Your message has been sent to the legal team."))
            return redirect(_detail_url(reference, "messages"))
    return render_detail(request, find_request(request, reference, detail=True), message_form=form, status=400)


@never_cache
@officer_required
@require_http_methods(["GET", "POST"])
def request_withdraw_view(request: HttpRequest, reference: str) -> HttpResponse:
    legal_request = find_request(request, reference)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            request_withdraw(actor=request.user, request=legal_request, reason=form.cleaned_data["reason"],
                             ip_address=client_ip(request))
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The request has been withdrawn."))
            return redirect(_detail_url(reference))
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/request_withdraw.html", {"req": legal_request, "form": form}, status=status)


@officer_required
@require_POST
def attachment_upload(request: HttpRequest, reference: str) -> HttpResponse:
    legal_request = find_request(request, reference)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment_add(actor=request.user, request=legal_request, upload=form.cleaned_data["file"],
                           kind=form.cleaned_data["kind"], ip_address=client_ip(request))
        except UploadRejected as rejected:
            form.add_error("file", rejected.message)
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The document has been added."))
            return redirect(_detail_url(reference, "documents"))
    return render_detail(request, find_request(request, reference, detail=True), attachment_form=form, status=400)


def _download_headers(response: R) -> R:
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@officer_required
@require_GET
def attachment_download(request: HttpRequest, reference: str, attachment_id: int) -> HttpResponseBase:
    legal_request = find_request(request, reference)
    attachment = attachment_find(actor=request.user, request=legal_request, attachment_id=attachment_id,
                                 ip_address=client_ip(request))
    if attachment is None:
        raise Http404(_("No such document."))
    origin = settings.ATTACHMENT_DOWNLOAD_ORIGIN
    if origin:
        # Served from a separate origin that never sees the portal's cookies, through a signed
        # link valid for ATTACHMENT_LINK_SECONDS; the download is audited when it is served.
        token = attachment_link_token(actor=request.user, attachment=attachment)
        response = redirect(origin.rstrip("/") + reverse("portal:attachment_file", args=[token]))
        response["Cache-Control"] = "no-store"
        return response
    handle = attachment_open(actor=request.user, attachment=attachment, ip_address=client_ip(request))
    return _download_headers(FileResponse(handle, as_attachment=True, filename=attachment.original_name,
                                          content_type="application/pdf"))


@require_GET
def attachment_file(request: HttpRequest, token: str) -> HttpResponseBase:
    """The cookieless origin: the served copy for a valid signed link, nothing else."""
    origin = settings.ATTACHMENT_DOWNLOAD_ORIGIN
    if not origin or request.get_host() != urlsplit(origin).netloc:
        raise Http404(_("No such document."))
    found = attachment_from_link(token)
    if found is None:
        raise Http404(_("No such document."))
    user, attachment = found
    handle = attachment_open(actor=user, attachment=attachment, ip_address=client_ip(request))
    return _download_headers(FileResponse(handle, as_attachment=True, filename=attachment.original_name,
                                          content_type="application/pdf"))


def _bytes_response(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename) or ""
    return _download_headers(response)


@officer_required
@download_returns_to_request
@require_GET
def response_download(request: HttpRequest, reference: str, file_id: int) -> HttpResponse:
    legal_request = find_request(request, reference)
    try:
        item, data = response_file_read(actor=request.user, request=legal_request, file_id=file_id,
                                        ip_address=client_ip(request))
    except ServiceError as error:
        if error.code == "not_found":
            raise Http404(error.message) from error
        messages.error(request, error.message)
        return redirect(_detail_url(reference, "response"))
    return _bytes_response(data, item.original_name, "application/octet-stream")


@officer_required
@download_returns_to_request
@require_GET
def annex_iii_download(request: HttpRequest, reference: str, form_id: int) -> HttpResponse:
    legal_request = find_request(request, reference)
    form = (AnnexIII.objects.filter(request=legal_request, pk=form_id, sent_at__isnull=False)
                .select_related("request__authority").first())
    if form is None:
        raise Http404(_("No such Annex III form."))
    audit.record("annex_iii.downloaded", actor=request.user, request=legal_request, obj=form,
                 ip_address=client_ip(request))
    return _bytes_response(annex_iii_pdf.render(form), f"annex-iii-{reference}-{form.pk}.pdf", "application/pdf")
