"""The admin inbox of the public mailbox: verdicts read-only, actions through services.

Imported by ``requests_app/admin.py``. Link to a request and close with a reason are POST
forms on the message page (``<id>/link/``, ``<id>/close/``); the raw message downloads as
``.eml`` through ``<id>/raw/``. Each calls a service in ``mailbox.inbox`` that audits it.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from audit import trail as audit

from .. import codec
from ..admin import LegalTeamAdmin
from ..admin_views.queue import EstimatedCountPaginator
from ..models import InboundAttachment, InboundMessage, InboundStatus, LegalRequest
from ..services.errors import ServiceError
from ..web.decorators import client_ip
from . import inbox
from .store import describe


def prefill(message: InboundMessage) -> dict[str, Any]:
    """The request body to complete, with what the message tells: the emergency claim."""
    body = codec.empty_body(instrument="epoc", emergency=message.emergency)
    body["offence"] = codec.offence_body({}, always=True)
    return body


class AttachmentInline(admin.TabularInline):
    model = InboundAttachment
    extra = 0
    can_delete = False
    fields = ("position", "filename", "content_type", "size", "sha256", "accepted", "rejection_code", "page_count")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(LegalTeamAdmin):
    list_display = ["received_at", "from_address", "subject", "dkim_summary", "dmarc", "authority",
                    "authority_verified", "emergency", "flag_list", "status"]
    list_filter = ["status", "emergency", "authority_verified", "ack_status"]
    list_select_related = ["authority"]
    list_per_page = 100
    paginator = EstimatedCountPaginator
    ordering = ["-received_at", "-id"]
    search_fields = ["=from_address", "=raw_sha256", "=message_id"]
    search_help_text = "A sender address, a SHA-256 or a Message-ID, exactly as written."
    inlines = [AttachmentInline]
    fieldsets = [
        (None, {"fields": ["status", "received_at", "from_address", "from_domain", "subject", "message_id",
                           "envelope_from", "envelope_to", "peer", "emergency", "flag_descriptions"]}),
        ("Authenticity", {"fields": ["dkim", "dkim_aligned_pass", "auth_results_trusted", "spf", "dmarc", "arc",
                                     "authority", "authority_verified"]}),
        ("Evidence", {"fields": ["raw_sha256", "raw_size", "raw_link"]}),
        ("Handling", {"fields": ["ack_status", "ack_reason", "request", "close_reason", "handled_by",
                                 "handled_at"]}),
    ]
    change_form_template = "admin/requests_app/inboundmessage/change_form.html"

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "flag_descriptions", "raw_link"]

    @admin.display(description="DKIM")
    def dkim_summary(self, obj: InboundMessage) -> str:
        return ", ".join(f"{v.get('domain')}={v.get('result')}" for v in obj.dkim) or "none"

    @admin.display(description="flags")
    def flag_list(self, obj: InboundMessage) -> str:
        return ", ".join(obj.flags)

    @admin.display(description="flags")
    def flag_descriptions(self, obj: InboundMessage) -> str:
        return format_html_join("", "<div><code>{}</code> {}</div>", describe(obj.flags)) or "-"

    @admin.display(description="raw message")
    def raw_link(self, obj: InboundMessage) -> str:
        url = reverse("admin:requests_app_inboundmessage_raw", args=[obj.pk])
        return format_html('<a href="{}">download .eml (audited)</a>', url)

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/link/", wrap(self.link_view), name="requests_app_inboundmessage_link"),
            path("<int:object_id>/close/", wrap(self.close_view), name="requests_app_inboundmessage_close"),
            path("<int:object_id>/raw/", wrap(self.raw_view), name="requests_app_inboundmessage_raw"),
            path("<int:object_id>/convert/", wrap(self.convert_view), name="requests_app_inboundmessage_convert"),
            *super().get_urls(),
        ]

    def change_view(self, request: Any, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> Any:
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            extra["inbox_open"] = obj.status == InboundStatus.NEW
            extra["convert_body"] = json.dumps(prefill(obj), indent=2, ensure_ascii=False)
            if request.method == "GET" and self.has_view_permission(request, obj):
                audit.record("mailbox.viewed", actor=request.user, obj=obj, ip_address=client_ip(request))
        return super().change_view(request, object_id, form_url, extra)

    def _back(self, object_id: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:requests_app_inboundmessage_change", args=[object_id]))

    def _message(self, request: Any, object_id: int) -> InboundMessage:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(InboundMessage, pk=object_id)

    def link_view(self, request: Any, object_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        message = self._message(request, object_id)
        reference = (request.POST.get("reference") or "").strip()
        target = LegalRequest.objects.filter(reference=reference).first()
        if target is None:
            self.message_user(request, f"No request with the reference {reference!r}.", messages.ERROR)
            return self._back(object_id)
        try:
            inbox.inbound_link(actor=request.user, message=message, request=target, ip_address=client_ip(request))
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"Linked to {target.reference}.", messages.SUCCESS)
        return self._back(object_id)

    def close_view(self, request: Any, object_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        message = self._message(request, object_id)
        try:
            inbox.inbound_close(actor=request.user, message=message, reason=request.POST.get("reason", ""),
                                ip_address=client_ip(request))
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, "Closed.", messages.SUCCESS)
        return self._back(object_id)

    def convert_view(self, request: Any, object_id: int) -> HttpResponse:
        """The request body as JSON (the API contract), checked by the API serializer, then the service.

        The inbox page links to the registration page instead (``legalrequest/register/?inbound=<id>``:
        the portal's request form and live check, prefilled); this endpoint stays for scripted use."""
        from ..api.serializers import RequestCreateSerializer

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        message = self._message(request, object_id)
        try:
            body = json.loads(request.POST.get("body") or "")
        except ValueError:
            self.message_user(request, "The request body is not valid JSON; nothing was stored.", messages.ERROR)
            return self._back(object_id)
        serializer = RequestCreateSerializer(data=body)
        if not isinstance(body, dict) or not serializer.is_valid():
            errors = serializer.errors if isinstance(body, dict) else {"body": ["not an object"]}
            self.message_user(request, f"Nothing was stored: {json.dumps(errors, ensure_ascii=False)[:1500]}",
                              messages.ERROR)
            return self._back(object_id)
        try:
            created = inbox.inbound_convert(actor=request.user, message=message, data=serializer.validated_data,
                                            ip_address=client_ip(request))
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return self._back(object_id)
        self.message_user(request, f"Registered as {created.reference}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:requests_app_legalrequest_change", args=[created.pk]))

    def raw_view(self, request: Any, object_id: int) -> HttpResponse:
        message = self._message(request, object_id)
        raw = inbox.inbound_raw(actor=request.user, message=message, ip_address=client_ip(request))
        response = HttpResponse(raw, content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="inbound-{message.pk}.eml"'
        return response
