from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from accounts.standing import in_good_standing


class IsVettedOfficer(BasePermission):
    """An active, approved officer of an authority the legal team has verified."""

    message = "Only officers of a verified authority may use the API."

    def has_permission(self, request: Any, view: Any) -> bool:
        return in_good_standing(request.user)
