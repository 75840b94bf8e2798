"""Roles of the provider's legal team, as ``rules`` predicates over Django groups.

| role (group)     | may                                                              |
|------------------|------------------------------------------------------------------|
| legal_reviewer   | work requests: assign, notes, messages, Annex III, call-backs,   |
|                  | prepare responses                                                |
| legal_approver   | all of the above, and approve a response someone else prepared  |
| legal_admin      | all of the above, configuration, retry/discard failed messages  |

Authority users are never members: the User model forbids an officer to be staff.
"""

from __future__ import annotations

from typing import Any

import rules

from .services.errors import ServiceError

REVIEWER, APPROVER, ADMIN = "legal_reviewer", "legal_approver", "legal_admin"
ROLES = (REVIEWER, APPROVER, ADMIN)


@rules.predicate
def is_legal_staff(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff and user.authority_id is None)


_in_reviewer_group: Any = rules.is_group_member(REVIEWER)
_in_approver_group: Any = rules.is_group_member(APPROVER)
_in_admin_group: Any = rules.is_group_member(ADMIN)
_superuser: Any = rules.is_superuser

is_reviewer = is_legal_staff & (_in_reviewer_group | _in_approver_group | _in_admin_group | _superuser)
is_approver = is_legal_staff & (_in_approver_group | _in_admin_group | _superuser)
is_legal_admin = is_legal_staff & (_in_admin_group | _superuser)

PERMISSIONS = rules.RuleSet()
PERMISSIONS.add_rule("review", is_reviewer)
PERMISSIONS.add_rule("assign", is_reviewer)
PERMISSIONS.add_rule("verify_emergency", is_reviewer)
PERMISSIONS.add_rule("prepare_response", is_reviewer)
PERMISSIONS.add_rule("approve", is_approver)
PERMISSIONS.add_rule("administer", is_legal_admin)


def can(user: Any, action: str, obj: Any = None) -> bool:
    return PERMISSIONS.test_rule(action, user, obj)


def require(user: Any, action: str, obj: Any = None) -> None:
    if not can(user, action, obj):
        raise ServiceError(f"Your role does not allow this action ({action}).", code="permission_denied")
