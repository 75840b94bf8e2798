"""The legal team's admin. States and the audit trail are read-only here: states change only
through services (the legal-review workflow adds its actions), audit rows never change."""

from __future__ import annotations

from django.contrib import admin

from .models import Attachment, AuditEvent, LegalRequest, Message, OutboxMessage, Target, Timer


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TargetInline(ReadOnlyInline):
    model = Target
    fields = ["kind", "value", "timestamp"]


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ["kind", "original_name", "sha256", "size", "uploaded_at"]


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ["kind", "body", "author", "created_at"]


@admin.register(LegalRequest)
class LegalRequestAdmin(admin.ModelAdmin):
    list_display = ["reference", "status", "instrument", "authority", "emergency", "received_at", "due_at"]
    list_filter = ["status", "lifecycle", "instrument", "emergency"]
    search_fields = ["=reference", "case_reference", "targets__value"]
    list_select_related = ["authority"]
    show_full_result_count = False
    ordering = ["-received_at"]
    inlines = [TargetInline, AttachmentInline, MessageInline]
    readonly_fields = [f.name for f in LegalRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["seq", "occurred_at", "action", "actor_label", "object_type", "object_id", "request_id"]
    list_filter = ["action"]
    search_fields = ["=request_id", "actor_label", "=object_id"]
    show_full_result_count = False
    ordering = ["-seq"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "topic", "status", "request", "attempts", "available_at", "sent_at", "last_error"]
    list_filter = ["status", "topic"]
    show_full_result_count = False
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Timer)
class TimerAdmin(admin.ModelAdmin):
    list_display = ["request", "kind", "due_at", "fired_at", "cancelled_at"]
    list_filter = ["kind"]
    list_select_related = ["request"]
    readonly_fields = [f.name for f in Timer._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
