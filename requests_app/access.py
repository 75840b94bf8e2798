"""Who may see which request: the one place where authority users' queries are scoped.

An officer sees the requests of their own authority. Anything else answers exactly like a
request that does not exist (404), and the attempt is an audit event (DESIGN.md §4.6).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from . import audit
from .models import LegalRequest


class RequestNotFound(Exception):
    """Raised for a missing request and for one the user may not see: the same answer."""


def visible_requests(user: Any) -> QuerySet[LegalRequest]:
    if user is None or not user.is_authenticated or not user.is_active:
        return LegalRequest.objects.none()
    if getattr(user, "is_approved_officer", False):
        return LegalRequest.objects.filter(authority_id=user.authority_id)
    return LegalRequest.objects.none()


def get_visible_request(user: Any, reference: str, *, ip_address: str | None = None,
                        queryset: QuerySet[LegalRequest] | None = None) -> LegalRequest:
    qs = queryset if queryset is not None else visible_requests(user)
    found = qs.filter(reference=reference).first()
    if found is not None:
        return found
    other = LegalRequest.objects.filter(reference=reference).only("pk", "authority_id").first()
    if other is not None:
        audit.record(
            "access.denied",
            actor=user,
            request=other,
            data={"reference": reference, "reason": "other_authority"},
            ip_address=ip_address,
        )
    raise RequestNotFound(reference)
