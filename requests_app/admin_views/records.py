"""Read-only admin lists of the records around a request (targets, documents, messages, notes,
call-backs, approvals, Annex III forms, response packages, idempotency keys).

They are written only by services; here the legal team can search and inspect them across
requests. Nothing can be added, changed or deleted, and the lists never count whole tables.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.http import content_disposition_header

from ..models import (
    AnnexIII,
    Approval,
    Attachment,
    CallbackVerification,
    IdempotencyRecord,
    InternalNote,
    Message,
    ResponseFile,
    ResponsePackage,
    Target,
)
from ..permissions import is_legal_admin
from ..services.attachments import attachment_export_original
from ..services.errors import ServiceError
from ..web.decorators import client_ip
from .queue import EstimatedCountPaginator


class ReadOnlyRecordAdmin(admin.ModelAdmin):
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Target)
class TargetAdmin(ReadOnlyRecordAdmin):
    list_display = ["value", "kind", "timestamp", "request"]
    list_filter = ["kind"]
    search_fields = ["=value", "=request__reference"]
    list_select_related = ["request"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyRecordAdmin):
    """Documents: the served copy's facts, the original's hash and signatures, what was removed.

    The original (evidence) is never shown here; the legal administrator exports it on purpose
    with the "Export the original" action, which asks why and is audited.
    """

    list_display = ["original_name", "kind", "size", "sha256", "original_sha256", "request", "uploaded_by",
                    "uploaded_at"]
    list_filter = ["kind"]
    search_fields = ["=sha256", "=original_sha256", "=request__reference"]
    list_select_related = ["request", "uploaded_by"]
    exclude = ["stored_name", "original_stored_name"]
    actions = ["export_original"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name not in ("stored_name", "original_stored_name")]

    def get_actions(self, request: Any) -> Any:
        actions = super().get_actions(request)
        if not is_legal_admin(request.user):
            actions.pop("export_original", None)
        return actions

    @admin.action(description="Export the original (evidence, audited)")
    def export_original(self, request: Any, queryset: Any) -> Any:
        if not is_legal_admin(request.user):
            raise PermissionDenied
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one document to export.", messages.ERROR)
            return None
        attachment = queryset.select_related("request").get()
        reason = (request.POST.get("reason") or "").strip()
        if not reason:
            return TemplateResponse(request, "admin/requests_app/attachment/export_original.html", {
                **self.admin_site.each_context(request), "attachment": attachment, "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME, "title": "Export the original",
            })
        try:
            data = attachment_export_original(actor=request.user, attachment=attachment, reason=reason,
                                              ip_address=client_ip(request))
        except ServiceError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        response = HttpResponse(data, content_type="application/octet-stream")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"original-{attachment.original_sha256[:16]}.pdf.evidence") or ""
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return response


@admin.register(Message)
class MessageAdmin(ReadOnlyRecordAdmin):
    list_display = ["request", "kind", "author", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=request__reference"]
    list_select_related = ["request", "author"]


@admin.register(InternalNote)
class InternalNoteAdmin(ReadOnlyRecordAdmin):
    list_display = ["request", "author", "created_at"]
    search_fields = ["=request__reference"]
    list_select_related = ["request", "author"]


@admin.register(CallbackVerification)
class CallbackVerificationAdmin(ReadOnlyRecordAdmin):
    list_display = ["request", "outcome", "phone_called", "called_by", "called_at"]
    list_filter = ["outcome"]
    search_fields = ["=request__reference"]
    list_select_related = ["request", "called_by"]


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyRecordAdmin):
    list_display = ["request", "prepared_by", "approved_by", "approved_at"]
    search_fields = ["=request__reference"]
    list_select_related = ["request", "prepared_by", "approved_by"]


@admin.register(AnnexIII)
class AnnexIIIAdmin(ReadOnlyRecordAdmin):
    list_display = ["request", "kind", "data_preserved", "created_by", "created_at"]
    list_filter = ["kind", "data_preserved"]
    search_fields = ["=request__reference"]
    list_select_related = ["request", "created_by"]


@admin.register(ResponsePackage)
class ResponsePackageAdmin(ReadOnlyRecordAdmin):
    list_display = ["request", "prepared_by", "released_at", "available_until", "purged_at"]
    search_fields = ["=request__reference"]
    list_select_related = ["request", "prepared_by"]


@admin.register(ResponseFile)
class ResponseFileAdmin(ReadOnlyRecordAdmin):
    list_display = ["original_name", "size", "sha256", "package"]
    search_fields = ["=sha256"]
    list_select_related = ["package"]
    exclude = ["stored_name"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name != "stored_name"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyRecordAdmin):
    def has_module_permission(self, request: Any) -> bool:
        # Internal plumbing, off the legal team's admin index.
        return bool(request.user.is_active and request.user.is_superuser)

    list_display = ["key", "authority", "request", "created_at"]
    search_fields = ["=key", "=request__reference"]
    list_select_related = ["authority", "request"]
