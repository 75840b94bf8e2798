"""Second-factor enrolment without detours (issue 13 item 3).

Everyone signed in must enrol a second factor before seeing anything else
(``SessionPolicyMiddleware``); GDPR Art. 32(1)(b) asks for the ongoing confidentiality of the
processing, and a stolen police password is a documented way into portals like this one. Two
things made the enrolment a journey with questions:

* allauth asks for the password again before an authenticator is added
  (``MFA_REAUTHENTICATION_REQUIRED``) and only counts an explicit re-authentication as recent,
  so a person who signed in seconds ago typed the password twice. A sign-in *is* an
  authentication: here it counts as recent for ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds,
  exactly like a re-authentication would (OWASP ASVS 6.3: re-authenticate for sensitive
  actions after a period, not right after sign-in).
* the redirect to the enrolment page forgot where the person was going, and the recovery-codes
  page, the last step, had no way on. The destination is kept in the session and the
  "Continue" button (``mfa_continue``) returns to it, the admin included.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

DESTINATION_SESSION_KEY = "mfa_enrolment_destination"

# An authentication record older than this at sign-in is not the one that just happened.
_SIGN_IN_RECORD_MAX_AGE = 60


@receiver(user_logged_in, dispatch_uid="accounts.enrolment.sign_in_is_recent_authentication")
def _sign_in_is_recent_authentication(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Mark the authentication step of this sign-in as a (re-)authentication."""
    if request is None or not hasattr(request, "session"):
        return
    records = list(request.session.get(AUTHENTICATION_METHODS_SESSION_KEY) or [])
    if not records:
        return
    newest = dict(records[-1])
    if time.time() - float(newest.get("at", 0)) > _SIGN_IN_RECORD_MAX_AGE:
        return
    newest["reauthenticated"] = True
    records[-1] = newest
    request.session[AUTHENTICATION_METHODS_SESSION_KEY] = records


def remember_destination(request: HttpRequest) -> None:
    """Keep the page the person asked for before being sent to enrol (GET pages only)."""
    if request.method != "GET" or request.headers.get("HX-Request"):
        return
    request.session[DESTINATION_SESSION_KEY] = request.get_full_path()


def _default_destination(user: Any) -> str:
    if getattr(user, "is_staff", False) and getattr(user, "authority_id", None) is None:
        return reverse("admin:index")
    return reverse("portal:home")


def destination(request: HttpRequest) -> str:
    """Where Continue leads: the remembered page if it is ours, else the person's home."""
    remembered = request.session.get(DESTINATION_SESSION_KEY) or ""
    if remembered and url_has_allowed_host_and_scheme(
            remembered, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return str(remembered)
    return _default_destination(request.user)


@login_required
def mfa_continue(request: HttpRequest) -> HttpResponse:
    """The last step of enrolment: on to where the person was going."""
    target = destination(request)
    request.session.pop(DESTINATION_SESSION_KEY, None)
    return redirect(target)


def enrolment_context(request: HttpRequest) -> dict[str, Any]:
    """Template context: whether enrolment is still required and where Continue leads."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from allauth.mfa.utils import is_mfa_enabled

    return {
        "mfa_required": bool(settings.REQUIRE_MFA),
        "mfa_enrolled": is_mfa_enabled(user),
        "mfa_continue_to": destination(request),
    }
