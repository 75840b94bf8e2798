"""The legal team's admin: the queue, the request page with its actions, and read-only views
of the audit trail, the outbox, notifications and timers (retry/discard of dead letters).

States never change here except through the services (``admin_views/actions.py``); every
field is read-only. Built for a million requests: a fixed urgency order matching the
``queue_*`` indexes, choice-only filters, no full COUNT(*) (reference/performance.md §6).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.db.models import F
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.templatetags.local_time import when_short
from audit import trail as audit
from audit.models import AuditEvent
from outbox.models import OutboxMessage

from .admin_views import records, registration, views  # noqa: F401  (records registers its admins)
from .admin_views.actions import available
from .admin_views.detail import related_context
from .admin_views.queue import (
    AssignedFilter,
    AwaitingApprovalFilter,
    CountryFilter,
    EstimatedCountPaginator,
    OpenFilter,
    OverdueFilter,
    badges,
    deadline_level,
    search_queue,
    time_left,
)
from .admin_views.timeline import KNOWN_ACTIONS
from .models import LegalRequest, Notification, Timer
from .permissions import can
from .services import dead_letters
from .services.dashboard import awaiting_approval_q
from .web.decorators import client_ip


def can_review(request: Any) -> bool:
    """``can(user, "review")``, asked once per request: every admin page asks it of each
    registered model (the navigation sidebar, the index) and of each permission check, and
    the answer (the person's groups) does not change within a request."""
    cached = getattr(request, "_lrp_can_review", None)
    if cached is None:
        cached = request._lrp_can_review = can(request.user, "review")
    return cached


class LegalTeamAdmin(admin.ModelAdmin):
    """Read-only, visible to the whole legal team (the roles of requests_app.permissions)."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    # No "Show counts": Django's facets COUNT every choice of every filter over the whole table.
    show_facets = admin.ShowFacets.NEVER
    sortable_by = ()

    def has_view_permission(self, request, obj=None):
        return can_review(request)

    def has_module_permission(self, request):
        return can_review(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_administer_permission(self, request):
        return can(request.user, "administer")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


# Long text and JSON columns the queue never shows stay in the database.
QUEUE_DEFERRED = ("decision", "dsa", "summary", "deadline_explanation", "offence_description",
                  "offence_legal_provisions", "emergency_reason", "confidentiality_reason")


class QueueChangeList(ChangeList):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each row links to its request page with the queue's filters preserved. Django builds
        # that link per row with a reverse() and, on a filtered queue, a resolve() of the link
        # it just reversed (add_preserved_filters): a fifth of the page's Python time at 100
        # rows. The same link is built here from one reverse() and the filters encoded once;
        # Django's add_preserved_filters then has no filters to add and keeps the link as is.
        prefix, _sep, suffix = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                                       args=["0"], current_app=self.model_admin.admin_site.name).rpartition("/0/")
        self._row_link = (prefix + "/", "/" + suffix)
        self._row_query = urlencode(dict(parse_qsl(self.preserved_filters))) if self.preserved_filters else ""
        self.preserved_filters = ""

    def get_queryset(self, request, exclude_parameters=None):
        return (super().get_queryset(request, exclude_parameters).defer(*QUEUE_DEFERRED)
                .annotate(awaiting_approval=awaiting_approval_q()))

    def url_for_result(self, result: Any) -> str:
        head, tail = self._row_link
        url = f"{head}{quote(getattr(result, self.pk_attname))}{tail}"
        return f"{url}?{self._row_query}" if self._row_query else url


def code_label(value: str | None) -> str:
    """A stored code as words: ``investigating_judge`` → "Investigating judge"; a state's
    own label when the code is a state (``not_executed`` → "Not executed")."""
    from .states import Status

    if not value:
        return "—"
    if value in Status.values:
        return str(Status(value).label)
    return value.replace("_", " ").capitalize()


def language_label(code: str | None) -> str:
    from django.utils.translation import get_language_info

    if not code:
        return "—"
    try:
        return f"{get_language_info(code)['name']} ({code})"
    except KeyError:
        return code


@admin.register(LegalRequest)
class LegalRequestAdmin(LegalTeamAdmin):
    # Fits 1280 px beside the filters without scrolling (tests/e2e: the queue's width).
    list_display = ["reference", "badge", "status", "instrument", "authority", "assigned_to", "due", "left"]
    list_filter = ["status", OpenFilter, AwaitingApprovalFilter, "lifecycle", CountryFilter, "instrument", "emergency",
                   AssignedFilter, OverdueFilter]
    list_select_related = ["authority", "assigned_to"]
    list_per_page = 100
    # Emergencies first, then the nearest deadline: the order of the queue_urgency index.
    ordering = [F("emergency").desc(), F("due_at").asc(nulls_last=True), "id"]  # type: ignore[list-item]
    search_fields = ["=reference", "=case_reference", "=targets__value"]
    search_help_text = ("A reference (LRP-2026-000042) or its beginning, a case reference or a target value, "
                        "exactly or by its beginning.")
    fieldsets = [
        (None, {"fields": ["reference", "status", "resolution_label", "lifecycle", "instrument", "authority", "country",
                           "assigned_to", "emergency", "emergency_reason", "channel", "late_registration"]}),
        ("Deadlines", {"fields": ["received_at", "due_at", "deadline_explanation_text", "warn_at", "breach_at",
                                  "hold_until", "status_changed_at"]}),
        ("Request", {"fields": ["case_reference", "summary", "data_categories_label", "data_from", "data_to",
                                "language_label", "linked_reference", "confidential", "confidentiality_reason"]}),
        ("Offence", {"fields": ["offence_description", "offence_legal_provisions", "max_sentence_months",
                                "listed_offence", "via_information_system", "sentence_months"]}),
        ("Validation", {"fields": ["validation_authority_type_label", "validation_authority_name",
                                   "validation_reference", "validation_date", "enforcing_authority_notified",
                                   "enforcing_authority_email",
                                   "art_8_2_exception"]}),
    ]
    change_form_template = "admin/requests_app/legalrequest/change_form.html"
    change_list_template = "admin/requests_app/legalrequest/change_list.html"

    class Media:
        css = {"all": ["admin_queue/queue.css"]}

    def get_changelist(self, request, **kwargs):
        return QueueChangeList

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "resolution_label", "language_label",
                "validation_authority_type_label", "data_categories_label", "deadline_explanation_text"]

    @admin.display(description="deadline explanation")
    def deadline_explanation_text(self, obj):
        # The stored text is the rule's English in the zone the rule counts in (Brussels); the legal
        # team reads it in the page's language with its own zone's equivalent beside it (issue 13 item 1),
        # the same rendering as the officer's page (deadline_texts.primary_deadline_text).
        from django.utils import timezone as tz

        from .deadline_texts import primary_deadline_text

        decision = obj.decision if isinstance(obj.decision, dict) else None
        return primary_deadline_text(decision, obj.deadline_explanation or "",
                                     tz.get_current_timezone_name()) or "—"

    @admin.display(description="data categories")
    def data_categories_label(self, obj):
        from .templatetags.findings import category_labels

        return category_labels(obj.data_categories) or "—"

    @admin.display(description="resolution")
    def resolution_label(self, obj):
        return code_label(obj.resolution)

    @admin.display(description="language")
    def language_label(self, obj):
        return language_label(obj.language)

    @admin.display(description="validation authority type")
    def validation_authority_type_label(self, obj):
        return code_label(obj.validation_authority_type)

    def get_search_results(self, request, queryset, search_term):
        if search_term.strip():
            # Who looked for whom: a search for a target is a read of personal data (issue 14 item 11).
            audit.record("request.searched", actor=request.user, ip_address=client_ip(request),
                         data={"term": search_term.strip()[:200]})
        return search_queue(queryset, search_term), False

    @admin.display(description="")
    def badge(self, obj):
        found = badges(obj, timezone.now())
        return format_html_join(" ", '<span class="lrp-badge lrp-badge-{}">{}</span>',
                                ((b.replace(" ", "-"), b) for b in found))

    @admin.display(description="due")
    def due(self, obj):
        # In the viewer's zone, labelled, zone name and UTC on hover; short to fit 1280 px.
        return when_short(obj.due_at) if obj.due_at else "—"

    @admin.display(description="time left")
    def left(self, obj):
        now = timezone.now()
        level = deadline_level(obj, now)
        text = time_left(obj, now)
        if not level:
            return text
        return format_html('<span class="lrp-badge lrp-badge-{}">{}</span>', level, text)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("provider-configuration/", wrap(self.provider_config_view), name="requests_app_provider_config"),
            path("register/", wrap(self.register_view), name="requests_app_legalrequest_register"),
            path("register/check/", wrap(self.register_check_view), name="requests_app_legalrequest_register_check"),
            path("transparency/", wrap(self.transparency_view), name="requests_app_transparency"),
            path("<path:object_id>/act/<slug:action_name>/", wrap(self.act_view),
                 name="requests_app_legalrequest_act"),
            path("<path:object_id>/draft-file/<int:file_id>/", wrap(views.draft_file),
                 name="requests_app_legalrequest_draft_file"),
            *super().get_urls(),
        ]

    def act_view(self, request, object_id, action_name):
        return views.act(self, request, object_id, action_name)

    def register_view(self, request):
        return registration.register_view(self, request)

    def register_check_view(self, request):
        return registration.register_check_view(self, request)

    def provider_config_view(self, request):
        return views.provider_config(self, request)

    def transparency_view(self, request):
        from .admin_views.transparency import transparency

        return transparency(self, request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra: dict[str, Any] = dict(extra_context or {})
        if obj is not None:
            extra.update(related_context(obj), lrp_actions=available(request.user, obj))
            if request.method == "GET" and self.has_view_permission(request, obj):
                audit.record("request.viewed", actor=request.user, request=obj, authority_id=obj.authority_id,
                             ip_address=client_ip(request))
        return super().change_view(request, object_id, form_url, extra)


class AuditActionFilter(admin.SimpleListFilter):
    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [(a, a) for a in KNOWN_ACTIONS]

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(LegalTeamAdmin):
    list_display = ["seq", "chain", "chain_seq", "occurred_at", "action", "actor_label", "object_type", "object_id",
                    "request_id"]
    list_filter = [AuditActionFilter]
    search_fields = ["=request_id", "=actor_label"]
    search_help_text = "A request id (number) or an actor's exact e-mail."
    ordering = ["-seq"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(request_id=int(term)), False
        return queryset.filter(actor_label=term.lower()), False


class RetryDiscardAdmin(LegalTeamAdmin):
    """Retry and discard, for legal admins only; each row changed is an audit event."""

    actions = ["retry", "discard"]
    @admin.action(description="Retry the selected rows", permissions=["administer"])
    def retry(self, request, queryset):
        count = self.requeue(list(queryset), actor=request.user)
        messages.success(request, f"{count} row(s) queued again.")

    @admin.action(description="Discard the selected rows", permissions=["administer"])
    def discard(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        count = dead_letters.discard(actor=request.user, model=queryset.model, ids=ids)
        messages.success(request, f"{count} row(s) discarded.")

    def requeue(self, rows, *, actor) -> int:
        raise NotImplementedError


@admin.register(OutboxMessage)
class OutboxMessageAdmin(RetryDiscardAdmin):
    """Internal plumbing: off the legal team's index (superusers see it); the legal admins
    reach its dead letters by URL (/admin/outbox/outboxmessage/)."""

    def has_module_permission(self, request):
        return bool(request.user.is_active and request.user.is_superuser)

    list_display = ["id", "topic", "status", "request", "attempts", "available_at", "sent_at", "last_error"]
    list_filter = ["status"]
    list_select_related = ["request"]
    ordering = ["-id"]
    change_list_template = "admin/outbox/outboxmessage/change_list.html"

    class Media:
        css = {"all": ["admin_queue/queue.css"]}

    def changelist_view(self, request, extra_context=None):
        # The e-mails behind an alert.* row: an emergency alert not yet delivered is shown here too.
        extra = {**(extra_context or {}), "undelivered_alerts": dead_letters.undelivered_emergency_alerts()}
        return super().changelist_view(request, extra)

    def requeue(self, rows, *, actor) -> int:
        return dead_letters.outbox_retry(actor=actor, ids=[r.pk for r in rows])


@admin.register(Notification)
class NotificationAdmin(RetryDiscardAdmin):
    list_display = ["id", "event", "recipient", "status", "delivery", "request", "attempts", "created_at", "sent_at",
                    "last_error"]
    list_filter = ["status"]
    list_select_related = ["request"]
    ordering = ["-created_at", "-id"]
    change_list_template = "admin/requests_app/notification/change_list.html"

    class Media:
        css = {"all": ["admin_queue/queue.css"]}

    @admin.display(description="delivery")
    def delivery(self, obj):
        text = dead_letters.delivery_state(obj)
        if not text:
            return "—"
        level = "overdue" if text.startswith("emergency") else "warn"
        return format_html('<span class="lrp-badge lrp-badge-{}">{}</span>', level, text)

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "undelivered_alerts": dead_letters.undelivered_emergency_alerts()}
        return super().changelist_view(request, extra)

    def requeue(self, rows, *, actor) -> int:
        return dead_letters.notification_retry(actor=actor, ids=[r.pk for r in rows])


class TimerStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("retrying", "Retrying"), ("dead", "Dead letter"), ("fired", "Fired"),
                ("cancelled", "Cancelled")]

    def queryset(self, request, queryset):
        live = {"fired_at__isnull": True, "cancelled_at__isnull": True}
        return {
            "open": lambda: queryset.filter(**live, dead_at__isnull=True),
            "retrying": lambda: queryset.filter(**live, dead_at__isnull=True, attempts__gt=0),
            "dead": lambda: queryset.filter(**live, dead_at__isnull=False),
            "fired": lambda: queryset.filter(fired_at__isnull=False),
            "cancelled": lambda: queryset.filter(cancelled_at__isnull=False),
        }.get(self.value() or "", lambda: queryset)()


@admin.register(Timer)
class TimerAdmin(RetryDiscardAdmin):
    """Timers; a dead one (its handler failed every try) is retried or discarded by a legal admin."""

    list_display = ["id", "request", "kind", "due_at", "fired_at", "cancelled_at", "attempts", "next_attempt_at",
                    "dead_at", "last_error"]
    list_filter = [TimerStateFilter, "kind"]
    list_select_related = ["request"]
    ordering = ["due_at", "id"]

    @admin.action(description="Discard the selected rows", permissions=["administer"])
    def discard(self, request, queryset):
        count = dead_letters.timer_discard(actor=request.user, ids=list(queryset.values_list("pk", flat=True)))
        messages.success(request, f"{count} dead timer(s) discarded.")

    def requeue(self, rows, *, actor) -> int:
        return dead_letters.timer_retry(actor=actor, ids=[r.pk for r in rows])


from .mailbox import admin as mailbox_admin  # noqa: E402,F401  (registers the inbox)
