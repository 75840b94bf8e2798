"""An authority that is not registered yet asks to be (anonymous, rate-limited).

Nothing here grants access: the legal team vets the request out of band (official registry,
call-back to the switchboard) before it creates the authority (security.md §1.6, R1).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.services import authority_registration_request_create

from ...api.throttling import over_limit
from ..decorators import client_ip
from ..forms.misc import AuthorityRegistrationForm

# Per client address; a registration request is rare, so a tight limit costs nobody anything.
RATE_LIMIT = getattr(settings, "PORTAL_REGISTRATION_RATE_LIMIT", 5)
RATE_WINDOW_SECONDS = getattr(settings, "PORTAL_REGISTRATION_RATE_WINDOW", 3600)


def _over_limit(request: HttpRequest) -> bool:
    # Without Redis the count falls back to this process's own (api/throttling.py).
    key = f"portal:authority-registration:{client_ip(request) or 'unknown'}"
    return over_limit(key, RATE_LIMIT, RATE_WINDOW_SECONDS)


@require_http_methods(["GET", "POST"])
def authority_registration(request: HttpRequest) -> HttpResponse:
    form = AuthorityRegistrationForm(request.POST or None)
    if request.method == "POST":
        if _over_limit(request):
            return render(request, "portal/rate_limited.html", status=429)
        if form.is_valid():
            authority_registration_request_create(data=form.cleaned_data, ip_address=client_ip(request))
            return redirect("portal:authority_registration_done")
    return render(request, "portal/authority_registration.html", {"form": form},
                  status=400 if request.method == "POST" else 200)


@require_GET
def authority_registration_done(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/authority_registration_done.html")
