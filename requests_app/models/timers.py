"""Timers: deadlines, windows and expiries as rows (DESIGN.md §4.4).

Only ``requests_app.timers`` creates, cancels, fires or retries them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class TimerKind(models.TextChoices):
    """Every kind of timer: those the rules engine emits (its ``Deadline.kind``) and the
    portal's own (queue levels, preservation notice, release at the end of a hold, purge).
    Labels are for the legal team's admin only (English, not translated)."""

    # Regulation (EU) 2023/1543 (e-Evidence)
    PRODUCTION_DUE = "production_due", "Production period ends (Reg. 2023/1543 Art. 10(2)-(4))"
    EMERGENCY_TRIAGE_DUE = "emergency_triage_due", "Emergency triage: internal target (18 U.S.C. § 2702(b)(8), (c)(4))"
    ANNEX_III_DUE = "annex_iii_due", "Annex III due (Reg. 2023/1543 Art. 10(8))"
    EA_WINDOW_END = "ea_window_end", "Enforcing authority's window ends (Reg. 2023/1543 Art. 10(2), 12)"
    EA_OBJECTION_WINDOW_END = ("ea_objection_window_end",
        "Enforcing authority's emergency window ends (Reg. 2023/1543 Art. 10(4))")
    CLARIFICATION_REMINDER = "clarification_reminder", "Clarification reminder (Reg. 2023/1543 Art. 10(6))"
    EX_POST_VALIDATION_MARK = "ex_post_validation_mark", "Ex-post validation within 48 hours (Reg. 2023/1543 Art. 4(5))"
    PRESERVATION_EXPIRY = "preservation_expiry", "Preservation ends (Reg. 2023/1543 Art. 11(1))"
    PRESERVATION_RELEASE = ("preservation_release",
        "Preservation no longer necessary: release (Reg. 2023/1543 Art. 10(9), 11(3))")
    ART17_OBJECTION_WARN = "art17_objection_warn", "Reasoned objection: warning (Reg. 2023/1543 Art. 17)"
    ART17_OBJECTION_DUE = "art17_objection_due", "Reasoned objection due (Reg. 2023/1543 Art. 17)"
    # Regulation (EU) 2022/2065 (DSA)
    DSA_RECEIPT_ACK_DUE = "dsa_receipt_ack_due", "Acknowledge receipt (Reg. 2022/2065 Art. 10(1))"
    DSA_EFFECT_REPORT_DUE = "dsa_effect_report_due", "Report the effect given (Reg. 2022/2065 Art. 9(1), 10(1))"
    DSA_ART18_REFERRAL_DUE = "dsa_art18_referral_due", "Notify the suspicion (Reg. 2022/2065 Art. 18(1))"
    # The portal's own
    PRESERVATION_EXPIRY_NOTICE = ("preservation_expiry_notice",
        "Tell the authority the preservation ends (Reg. 2023/1543 Art. 11(1))")
    DEADLINE_WARN = "deadline_warn", "Queue level: warn"
    DEADLINE_BREACH = "deadline_breach", "Queue level: breach"
    DEADLINE_DUE = "deadline_due", "Queue level: due"
    RELEASE_DUE = "release_due", "Release at the end of the hold (Reg. 2023/1543 Art. 10(2))"
    RESPONSE_PURGE = "response_purge", "Purge the released response"


class Timer(models.Model):
    """A deadline, window or expiry as a row with ``due_at``, fired by a beat sweep.

    Never a long-ETA Celery task: Redis re-delivers unacknowledged ETA tasks after the
    visibility timeout (security.md §2.2). A timer is *open* until it fired or was cancelled;
    a handler that raises is retried at ``next_attempt_at`` and, after the last try, parked
    as a dead letter (``dead_at``) for the legal admin to retry or discard.
    """

    request = models.ForeignKey("requests_app.LegalRequest", on_delete=models.PROTECT, related_name="timers")
    kind = models.CharField(max_length=48, choices=TimerKind.choices)
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["due_at", "id"],
                condition=Q(fired_at__isnull=True, cancelled_at__isnull=True, dead_at__isnull=True),
                name="timer_open_due",
            ),
            models.Index(fields=["id"], condition=Q(dead_at__isnull=False, fired_at__isnull=True,
                                                    cancelled_at__isnull=True), name="timer_dead"),
        ]
        constraints = [
            # Cancelled rows do not count: a timer cancelled and scheduled again at the same
            # instant (a clarification round, a recompute) must exist again. Fired rows do
            # count, so re-scheduling never fires a deadline twice.
            models.UniqueConstraint(fields=["request", "kind", "due_at"], condition=Q(cancelled_at__isnull=True),
                                    name="timer_unique_live_per_request"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.request_id} at {self.due_at:%Y-%m-%d %H:%M}"
