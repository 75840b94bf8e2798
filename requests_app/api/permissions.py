from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission


class IsVettedOfficer(BasePermission):
    """An active, approved officer of an authority the legal team has verified."""

    message = "Only officers of a verified authority may use the API."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(
            user is not None
            and user.is_authenticated
            and user.is_approved_officer
            and user.authority.is_verified
        )
