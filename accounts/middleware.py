"""Session rules for people (the API uses tokens and is not affected).

* Everyone signed in — officers and the legal team — must enrol a second factor (TOTP or a
  passkey) before seeing anything else.
* An officer who is not in good standing (``accounts.standing``) sees only the notice page.
* Idle sessions end after ``SESSION_IDLE_TIMEOUT`` seconds; the absolute lifetime is
  ``SESSION_COOKIE_AGE`` from sign-in, and activity does not extend it (OWASP Session
  Management Cheat Sheet, "Absolute Timeout"): Django's own expiry moves with every save of
  the session, so the sign-in instant is kept in the session and checked here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

from .enrolment import remember_destination
from .standing import in_good_standing
from .zones import zone_of

# Paths reachable before MFA enrolment: the account pages themselves (sign-in, e-mail
# confirmation, MFA set-up, sign-out), static files, health and the API (token-authenticated).
OPEN_PREFIXES = ("/accounts/", "/static/", "/healthz", "/api/", "/i18n/", "/register-authority/",
                 "/awaiting-approval/")


@receiver(user_logged_in, dispatch_uid="accounts.session_signed_in_at")
def _note_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """The absolute lifetime runs from here (see the module docstring)."""
    if request is not None and hasattr(request, "session"):
        request.session["signed_in_at"] = int(time.time())


@receiver(user_logged_in, dispatch_uid="accounts.session_language")
def _use_their_language(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """From the sign-in on, the person's own language: allauth writes its "signed in" message
    right after this, and it must read in the language of the page that shows it."""
    language = getattr(user, "language", "")
    if request is not None and language in dict(settings.LANGUAGES):
        translation.activate(language)
        request.LANGUAGE_CODE = language


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        # The API authenticates by token (DRF), never by this session: its requests do not load
        # the session's user at all (``request.user`` is lazy; evaluated, it read the session for
        # every API call, ~1.3 % of the web's time per submission, issue 9 item 5).
        api = request.path.startswith("/api/")
        if not api and user is not None and user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get("last_seen", now)
            signed_in_at = request.session.setdefault("signed_in_at", now)
            if now - last_seen > settings.SESSION_IDLE_TIMEOUT or now - signed_in_at > settings.SESSION_COOKIE_AGE:
                logout(request)
                return redirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.get_full_path()})}")
            if now - last_seen > 60:  # write the session at most once a minute
                request.session["last_seen"] = now
            request.session.setdefault("last_seen", now)
            # The signed-in person's own language, whatever the browser says.
            language = getattr(user, "language", "")
            if language in dict(settings.LANGUAGES) and language != translation.get_language():
                translation.activate(language)
                request.LANGUAGE_CODE = language
            if settings.REQUIRE_MFA and not request.path.startswith(OPEN_PREFIXES) and not is_mfa_enabled(user):
                remember_destination(request)  # the enrolment's Continue returns here
                return redirect("mfa_index")
            # An officer not in good standing (authority pending/suspended/revoked, account
            # unapproved) reaches only the notice page, whatever portal page or fragment it asks.
            if (getattr(user, "authority_id", None) is not None and not request.path.startswith(OPEN_PREFIXES)
                    and not in_good_standing(user)):
                return redirect("portal:awaiting_approval")
        # Every time shown to this person in their own zone (accounts/zones.py), the admin
        # included; the API keeps UTC. Deactivated afterwards: the zone is thread-local.
        zoned = not api and user is not None and user.is_authenticated
        if zoned:
            timezone.activate(zone_of(user))
        try:
            response = self.get_response(request)
        finally:
            if zoned:
                timezone.deactivate()
        if (api or (user is not None and user.is_authenticated)) and "Cache-Control" not in response:
            # Pages of a signed-in person and every API answer (token-authenticated, so
            # ``request.user`` is not known here) carry case data: never in a shared or browser cache.
            patch_cache_control(response, private=True, no_store=True)
        return response
