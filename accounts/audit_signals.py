"""Security events of people's accounts, as audit events (issue 14 item 11; ASVS 16.3.1–16.3.3:
log authentication successes and failures, and changes of authentication factors).

| event                        | when                                                        |
|------------------------------|-------------------------------------------------------------|
| ``auth.signed_in``           | a sign-in succeeded (web or admin)                          |
| ``auth.sign_in_failed``      | a password was wrong or the account unknown (the name tried)|
| ``auth.second_factor_failed``| a wrong TOTP/recovery code or passkey                       |
| ``mfa.added`` / ``mfa.removed`` / ``mfa.reset`` | a second factor enrolled, removed, recovery codes renewed |
| ``auth.password_changed`` / ``auth.password_reset`` | the password changed (by the person or by reset link) |
| ``auth.email_changed``       | the primary e-mail address changed                          |

Signals run inside the request; each event is its own small transaction on the chain.
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from audit import trail as audit

from .client_ip import client_ip


def _ip(request: Any) -> str | None:
    if request is None:
        return None
    return client_ip(request)


def _record(action: str, request: Any, user: Any, **data: Any) -> None:
    audit.record(action, actor=user, obj=user, ip_address=_ip(request),
                 authority_id=getattr(user, "authority_id", None), data=data or None)


@receiver(user_logged_in, dispatch_uid="accounts.audit.signed_in")
def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _record("auth.signed_in", request, user, backend=getattr(user, "backend", "") or "")


@receiver(user_login_failed, dispatch_uid="accounts.audit.sign_in_failed")
def _sign_in_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django already masks the password in ``credentials``; keep only the name that was tried.
    tried = str(credentials.get("email") or credentials.get("username") or credentials.get("login") or "")[:254]
    audit.record("auth.sign_in_failed", ip_address=_ip(request), data={"login": tried})


@receiver(mfa_signals.authentication_failed, dispatch_uid="accounts.audit.mfa_failed")
def _second_factor_failed(sender: Any, request: Any, user: Any, authenticator: Any = None, **kwargs: Any) -> None:
    _record("auth.second_factor_failed", request, user, type=getattr(authenticator, "type", ""))


def _factor_receiver(action: str) -> Any:
    def handler(sender: Any, request: Any, user: Any, authenticator: Any = None, **kwargs: Any) -> None:
        _record(action, request, user, type=getattr(authenticator, "type", ""))

    return handler


_MFA_EVENTS = {
    "mfa.added": mfa_signals.authenticator_added,
    "mfa.removed": mfa_signals.authenticator_removed,
    "mfa.reset": mfa_signals.authenticator_reset,
}
for _action, _signal in _MFA_EVENTS.items():
    _signal.connect(_factor_receiver(_action), dispatch_uid=f"accounts.audit.{_action}", weak=False)


@receiver(account_signals.password_changed, dispatch_uid="accounts.audit.password_changed")
@receiver(account_signals.password_set, dispatch_uid="accounts.audit.password_set")
def _password_changed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _record("auth.password_changed", request, user)


@receiver(account_signals.password_reset, dispatch_uid="accounts.audit.password_reset")
def _password_reset(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _record("auth.password_reset", request, user)


@receiver(account_signals.email_changed, dispatch_uid="accounts.audit.email_changed")
def _email_changed(sender: Any, request: Any, user: Any, from_email_address: Any = None,
                   to_email_address: Any = None, **kwargs: Any) -> None:
    _record("auth.email_changed", request, user, old=str(getattr(from_email_address, "email", "") or ""),
            new=str(getattr(to_email_address, "email", "") or ""))
