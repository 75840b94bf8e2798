"""Who may open a portal page.

* Anonymous visitors are sent to the sign-in page.
* Officers whose account is not (or no longer) approved see only the "awaiting approval" page.
* Staff of the provider (no authority) work in the admin; the portal answers 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect

from accounts.client_ip import client_ip

__all__ = ["authority_admin_required", "client_ip", "officer_required"]

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

