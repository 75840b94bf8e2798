"""Beat tasks of the audit trail."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import trail


@shared_task
def write_audit_anchor() -> int | None:
    """Beat, every ``AUDIT_ANCHOR_INTERVAL_SECONDS``: a signed anchor of the audit chain head,
    appended to ``AUDIT_ANCHOR_FILE`` (checked by ``verify_audit --anchors``). Off unless both
    the key and the file are configured; returns the anchored seq."""
    if not (settings.AUDIT_ANCHOR_KEY and settings.AUDIT_ANCHOR_FILE):
        return None
    return int(trail.append_anchor(settings.AUDIT_ANCHOR_FILE, settings.AUDIT_ANCHOR_KEY)["seq"])


@shared_task
def seal_audit() -> int | None:
    """Beat, every ``AUDIT_SEAL_INTERVAL_SECONDS``: the chain heads that moved, hashed into the
    seal chain (``audit.trail.seal``); returns the new seal's seq, None when nothing moved."""
    new = trail.seal()
    return new.seq if new else None
