"""Session rules for people (the API uses tokens and is not affected).

* Everyone signed in — officers and the legal team — must enrol a second factor (TOTP or a
  passkey) before seeing anything else.
* An officer who is not in good standing (``accounts.standing``) sees only the notice page.
* Idle sessions end after ``SESSION_IDLE_TIMEOUT`` seconds; the absolute lifetime is
  ``SESSION_COOKIE_AGE`` from sign-in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils import translation
from django.utils.cache import patch_cache_control

from .standing import in_good_standing

# Paths reachable before MFA enrolment: the account pages themselves (sign-in, e-mail
# confirmation, MFA set-up, sign-out), static files, health and the API (token-authenticated).
OPEN_PREFIXES = ("/accounts/", "/static/", "/healthz", "/api/", "/i18n/", "/register-authority/",
                 "/awaiting-approval/")


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/api/"):
            now = int(time.time())
            last_seen = request.session.get("last_seen", now)
            if now - last_seen > settings.SESSION_IDLE_TIMEOUT:
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
                return redirect("mfa_index")
            # An officer not in good standing (authority pending/suspended/revoked, account
            # unapproved) reaches only the notice page, whatever portal page or fragment it asks.
            if (getattr(user, "authority_id", None) is not None and not request.path.startswith(OPEN_PREFIXES)
                    and not in_good_standing(user)):
                return redirect("portal:awaiting_approval")
        response = self.get_response(request)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            # Pages of a signed-in person carry case data: never in a shared or browser cache.
            patch_cache_control(response, private=True, no_store=True)
        return response
