"""What each role of the provider's legal team may do with requests (the roles and their
predicates are ``accounts.roles``).

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

from accounts.roles import ADMIN, APPROVER, REVIEWER, ROLES, is_approver, is_legal_admin, is_legal_staff, is_reviewer

from .services.errors import ServiceError

__all__ = ["ADMIN", "APPROVER", "REVIEWER", "ROLES", "can", "is_approver", "is_legal_admin", "is_legal_staff",
           "is_reviewer", "require"]


# Django model permissions of each role, for the admin (app label → model → actions). The
# business rules are the predicates above; these only let the admin show the pages.
_REQUEST_MODELS = ["legalrequest", "target", "attachment", "message", "timer",
                   "internalnote", "callbackverification", "approval", "annexiii", "responsepackage",
                   "responsefile", "notification", "idempotencyrecord"]
ROLE_PERMISSIONS: dict[str, dict[str, dict[str, list[str]]]] = {
    REVIEWER: {"requests_app": {m: ["view"] for m in _REQUEST_MODELS}, "accounts": {"authority": ["view"]},
               "audit": {"auditevent": ["view"]}, "outbox": {"outboxmessage": ["view"]}},
    APPROVER: {"requests_app": {m: ["view"] for m in _REQUEST_MODELS}, "accounts": {"authority": ["view"]},
               "audit": {"auditevent": ["view"]}, "outbox": {"outboxmessage": ["view"]}},
    ADMIN: {
        "requests_app": {m: ["view", "change"] for m in _REQUEST_MODELS},
        "audit": {"auditevent": ["view", "change"]}, "outbox": {"outboxmessage": ["view", "change"]},
        "accounts": {"authority": ["view", "change"], "user": ["view", "change"],
                     "authorityregistrationrequest": ["view", "change"], "apitoken": ["view", "change"],
                     "rootoftrustchange": ["view", "change"]},
    },
}


def ensure_role_groups(group_model: Any, permission_model: Any) -> None:
    """Create the role groups with their admin permissions (idempotent). Runs after every
    ``migrate`` and database flush (post_migrate), so the roles can never go missing."""
    for role, apps in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        for app_label, models in apps.items():
            codenames = [f"{action}_{model}" for model, actions in models.items() for action in actions]
            group.permissions.add(*permission_model.objects.filter(content_type__app_label=app_label,
                                                                   codename__in=codenames))


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
