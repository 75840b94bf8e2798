"""Who may open a portal page.

* Anonymous visitors are sent to the sign-in page.
* Officers whose account is not (or no longer) approved see only the "awaiting approval" page.
* Staff of the provider (no authority) work in the admin; the portal answers 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

from accounts.client_ip import client_ip

__all__ = ["authority_admin_required", "client_ip", "download_returns_to_request", "officer_required"]

View = Callable[..., HttpResponseBase]


def officer_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user: Any = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_approved_officer:
            if user.authority_id is not None:
                return redirect("portal:awaiting_approval")
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def authority_admin_required(view: View) -> View:
    @officer_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not getattr(request.user, "is_authority_admin", False):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper



def download_returns_to_request(view: View) -> View:
    """Re-authentication before a download, coming back to the request page afterwards.

    allauth's ``reauthentication_required`` returns to the download's own URL after the
    password step; its answer is a file, so the browser stays on the password page. Here the
    step returns to the request page with ``?download=<this path>``, which starts the download
    (a meta refresh: no script under the strict CSP) and leaves the officer on the request.
    """
    @wraps(view)
    def wrapper(request: HttpRequest, reference: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        from allauth.account.internal.flows.reauthentication import is_reauthentication_required

        if is_reauthentication_required(request, app=""):
            back = f"{reverse('portal:request_detail', args=[reference])}?{urlencode({'download': request.path})}"
            return redirect(f"{reverse('account_reauthenticate')}?{urlencode({'next': back})}")
        return view(request, reference, *args, **kwargs)

    return wrapper
