"""Who may see which request: the one place where authority users' queries are scoped.

An officer sees the requests of their own authority. Anything else answers exactly like a
request that does not exist (404), and the attempt is an audit event (DESIGN.md §4.6).

Probing references is throttled per account before it reaches the audit trail (issue 14
item 9): after ``API_PROBE_LIMIT`` misses (unknown or foreign references) within
``API_PROBE_WINDOW_SECONDS``, further misses answer 429 with one ``access.probes_throttled``
event for the window instead of one event per guess, so enumeration neither succeeds nor
floods the trail. If the cache is unreachable every miss is audited (the safe side).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from audit import trail as audit

from .models import LegalRequest


class RequestNotFound(Exception):
    """Raised for a missing request and for one the user may not see: the same answer."""


class ProbesThrottled(RequestNotFound):
    """Too many misses from one account: answered 429 (API) and no longer audited one by one."""

    def __init__(self, reference: str, retry_after: int) -> None:
        super().__init__(reference)
        self.retry_after = retry_after


def _count_miss(user: Any) -> tuple[int | None, int]:
    """This account's misses in the current window (None if the cache is down), and the seconds left."""
    window = max(1, settings.API_PROBE_WINDOW_SECONDS)
    now = int(timezone.now().timestamp())
    bucket = f"access-probe:{getattr(user, 'pk', 'anonymous')}:{now // window}"
    retry_after = window - now % window
    try:
        if cache.add(bucket, 1, timeout=window + 1):
            return 1, retry_after
        return cache.incr(bucket), retry_after
    except Exception:  # a cache outage must not hide a probe: audit it
        return None, retry_after


def visible_requests(user: Any) -> QuerySet[LegalRequest]:
    if user is None or not user.is_authenticated or not user.is_active:
        return LegalRequest.objects.none()
    if getattr(user, "is_approved_officer", False):
        own = LegalRequest.objects.filter(authority_id=user.authority_id)
        if getattr(user, "is_authority_admin", False):
            return own
        # A confidential request (Art. 13(2): the person must not learn of it) is need-to-know
        # inside the authority too: its submitter, the authority's administrators and the
        # colleagues named on it (issue 14 item 10).
        delegated = LegalRequest.delegates.through.objects.filter(legalrequest_id=OuterRef("pk"), user_id=user.pk)
        return own.filter(Q(confidential=False) | Q(submitted_by_id=user.pk) | Exists(delegated))
    return LegalRequest.objects.none()


def get_visible_request(user: Any, reference: str, *, ip_address: str | None = None,
                        queryset: QuerySet[LegalRequest] | None = None) -> LegalRequest:
    qs = queryset if queryset is not None else visible_requests(user)
    found = qs.filter(reference=reference).first()
    if found is not None:
        return found
    misses, retry_after = _count_miss(user)
    if misses is not None and misses > settings.API_PROBE_LIMIT:
        if misses == settings.API_PROBE_LIMIT + 1:  # once per window
            audit.record("access.probes_throttled", actor=user, ip_address=ip_address,
                         data={"limit": settings.API_PROBE_LIMIT, "window_seconds": settings.API_PROBE_WINDOW_SECONDS})
        raise ProbesThrottled(reference, retry_after)
    other = LegalRequest.objects.filter(reference=reference).only("pk", "authority_id").first()
    if other is not None:
        same_authority = other.authority_id == getattr(user, "authority_id", None)
        audit.record(
            "access.denied",
            actor=user,
            request=other,
            data={"reference": reference, "reason": "confidential" if same_authority else "other_authority"},
            ip_address=ip_address,
        )
    raise RequestNotFound(reference)
