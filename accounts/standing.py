"""Whether an officer is in good standing: the one check every face uses.

An officer may use the portal (web pages, htmx fragments, downloads, the API) and the
services (submit, approve a colleague, issue a token, download) only while the account is
active and approved *and* the authority is verified by the legal team. An officer of a
pending, suspended or revoked authority, or a deactivated officer, reaches only the notice
page (``portal:awaiting_approval``); the API answers 403. Security obligations: NIS2
(Directive (EU) 2022/2555) Art. 21(2)(i) access control; GDPR Art. 32(1)(b).

``User.is_approved_officer`` delegates here, so callers of either see the same answer.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied


class NotInGoodStanding(PermissionDenied):
    """The account or its authority may not act (deactivated, unapproved, authority not verified)."""


def standing_problem(user: Any) -> str | None:
    """``None`` for an officer in good standing, else why not (a short code, never shown as "fraud")."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    if not user.is_active:
        return "deactivated"
    if user.authority_id is None:
        return "not_an_officer"
    from .models import ApprovalStatus, VettingStatus

    if user.approval_status != ApprovalStatus.APPROVED:
        return "not_approved"
    if user.authority.vetting_status != VettingStatus.VERIFIED:
        return f"authority_{user.authority.vetting_status}"
    return None


def in_good_standing(user: Any) -> bool:
    return standing_problem(user) is None


def require_standing(user: Any) -> None:
    """For services: an officer actor must be in good standing. Staff (no authority) and
    automatic actors (``None``) are judged by the service's own rules."""
    if user is None or getattr(user, "authority_id", None) is None:
        return
    problem = standing_problem(user)
    if problem is not None:
        raise NotInGoodStanding(f"This account may not act now ({problem.replace('_', ' ')}).")
