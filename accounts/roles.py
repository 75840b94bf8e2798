"""Roles of the provider's legal team, as ``rules`` predicates over Django groups.

| role (group)     | may                                                              |
|------------------|------------------------------------------------------------------|
| legal_reviewer   | work requests: assign, notes, messages, Annex III, call-backs,   |
|                  | prepare responses                                                |
| legal_approver   | all of the above, and approve a response someone else prepared  |
| legal_admin      | all of the above, configuration, retry/discard failed messages,  |
|                  | propose and decide root-of-trust changes                         |

They live here, with the accounts they describe, so that ``accounts`` (root-of-trust changes,
staff accounts) checks them without importing ``requests_app``; ``requests_app.permissions``
maps them to what each role may do with requests. Authority users are never members: the
User model forbids an officer to be staff.
"""

from __future__ import annotations

from typing import Any

import rules

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
