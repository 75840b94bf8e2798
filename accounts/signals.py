"""allauth signals that revoke the person's API tokens (issue 14 item 5)."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset
from allauth.mfa.signals import authenticator_removed
from django.dispatch import receiver

from .services import revoke_tokens_on_credential_change


@receiver(password_reset, dispatch_uid="accounts.revoke_tokens.password_reset")
def _on_password_reset(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    revoke_tokens_on_credential_change(user=user, event="password_reset")


@receiver(password_changed, dispatch_uid="accounts.revoke_tokens.password_changed")
def _on_password_changed(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    revoke_tokens_on_credential_change(user=user, event="password_changed")


@receiver(authenticator_removed, dispatch_uid="accounts.revoke_tokens.authenticator_removed")
def _on_authenticator_removed(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    revoke_tokens_on_credential_change(user=user, event="authenticator_removed")
