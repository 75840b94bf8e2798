"""The provider's staff accounts (issue 14 item 4).

A staff account reaches every authority's requests, so its credentials and roles are guarded
like the root of trust: only a superuser changes another staff member's password, e-mail
address or groups (the admin calls these services; a legal administrator cannot), every such
change is an audit event whatever path made it (the model signals below see the admin, the
shell, allauth and any future code alike), and a new e-mail address takes effect only once
its owner confirmed it from that mailbox (allauth e-mail confirmation) (OWASP ASVS 4.0.3
V2.5.x / V3.7.1; NIS2 Directive (EU) 2022/2555 Art. 21(2)(i)).
"""

from __future__ import annotations

import contextvars
from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

from audit import trail as audit

from .models import User

# Who is changing staff accounts right now (set by the services; None from other paths).
_actor: contextvars.ContextVar[Any] = contextvars.ContextVar("staff_change_actor", default=None)


def is_staff_account(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


def may_change_staff(actor: Any, target: Any) -> bool:
    """A superuser may; nobody else changes a staff member's credentials or roles."""
    if not is_staff_account(target):
        return True
    return bool(getattr(actor, "is_active", False) and getattr(actor, "is_superuser", False))


def require_may_change_staff(actor: Any, target: Any) -> None:
    if not may_change_staff(actor, target):
        raise PermissionDenied("Only a superuser changes a staff member's password, e-mail address or groups.")


def staff_set_password(*, actor: Any, user: User, password: str) -> User:
    require_may_change_staff(actor, user)
    token = _actor.set(actor)
    try:
        with transaction.atomic():
            user.set_password(password)
            user.save(update_fields=["password"])
    finally:
        _actor.reset(token)
    from .services import revoke_tokens_on_credential_change

    revoke_tokens_on_credential_change(user=user, event="password_set_by_admin")
    return user


def staff_set_groups(*, actor: Any, user: User, groups: Any) -> User:
    require_may_change_staff(actor, user)
    token = _actor.set(actor)
    try:
        with transaction.atomic():
            user.groups.set(groups)
    finally:
        _actor.reset(token)
    return user


def staff_email_change_request(*, actor: Any, user: User, email: str, request: Any = None) -> EmailAddress:
    """Ask for a staff member's new address: it is stored unverified and a confirmation link
    goes to it; ``User.email`` changes only when the link is followed (``_confirmed`` below)."""
    require_may_change_staff(actor, user)
    email = (email or "").strip().lower()
    validate_email(email)
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists() or \
            EmailAddress.objects.filter(email__iexact=email).exclude(user=user).exists():
        raise ValidationError("This address belongs to another account.")
    with transaction.atomic():
        address, _ = EmailAddress.objects.get_or_create(user=user, email=email,
                                                        defaults={"verified": False, "primary": False})
        audit.record("staff.email_change_requested", actor=actor, obj=user,
                     data={"from": user.email, "to": email})
    if not address.verified:
        transaction.on_commit(lambda: _send_confirmation(address, request))
    else:
        _make_primary(address)
    return address


def _send_confirmation(address: EmailAddress, request: Any) -> None:
    if request is None:
        address.send_confirmation(None, signup=False)
        return
    from allauth.core.context import request_context

    with request_context(request):
        address.send_confirmation(request, signup=False)


def _make_primary(address: EmailAddress) -> None:
    address.set_as_primary(conditional=False)  # also sets and saves User.email (audited by the signal)


@receiver(email_confirmed, dispatch_uid="accounts.staff.email_confirmed")
def _confirmed(sender: Any, request: Any = None, email_address: Any = None, **kwargs: Any) -> None:
    user = getattr(email_address, "user", None)
    if user is not None and is_staff_account(user) and not email_address.primary:
        _make_primary(email_address)


# --- every change, whatever the path, is an audit event ---------------------------------------


@receiver(pre_save, sender=User, dispatch_uid="accounts.staff.pre_save")
def _remember(sender: Any, instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    instance._staff_changes = {}  # type: ignore[attr-defined]
    if instance.pk is None:
        return
    old = User.objects.filter(pk=instance.pk).values("email", "password", "is_staff", "is_superuser").first()
    if old is None or not (is_staff_account(instance) or old["is_staff"] or old["is_superuser"]):
        return
    fields = set(update_fields) if update_fields is not None else {"email", "password", "is_staff", "is_superuser"}
    changes: dict[str, Any] = {}
    if "email" in fields and old["email"] != instance.email:
        changes["email"] = {"from": old["email"], "to": instance.email}
    if "password" in fields and old["password"] != instance.password:
        changes["password"] = "changed"  # never the hash
    for flag in ("is_staff", "is_superuser"):
        if flag in fields and old[flag] != getattr(instance, flag):
            changes[flag] = {"from": old[flag], "to": getattr(instance, flag)}
    instance._staff_changes = changes  # type: ignore[attr-defined]


@receiver(post_save, sender=User, dispatch_uid="accounts.staff.post_save")
def _audit_saved(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    changes = getattr(instance, "_staff_changes", None) or {}
    if changes:
        audit.record("staff.account_changed", actor=_actor.get(), obj=instance,
                     data={"user": instance.email, "changes": changes})
    instance._staff_changes = {}  # type: ignore[attr-defined]


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="accounts.staff.groups")
def _audit_groups(sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any = None,
                  **kwargs: Any) -> None:
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    from django.contrib.auth.models import Group

    users = User.objects.filter(pk__in=pk_set or []) if reverse else [instance]
    for user in users:
        if not is_staff_account(user):
            continue
        names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True)) if not reverse \
            else [instance.name]
        audit.record("staff.groups_changed", actor=_actor.get(), obj=user,
                     data={"user": user.email, "operation": action.removeprefix("post_"), "groups": names})
