"""Branded error pages (403, 404, 500) for the portal and the admin, and a side effect the
default 403 lacks: a refused admin page is an audit event (issue 14 item 11), so an insider
trying pages beyond their role leaves a trace.

The pages say what happened and where to go, never why in detail: no traceback, no list of
URL patterns (``DEBUG`` is off unless asked for, in every mode), no path echoed back.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import loader
from django.utils.translation import gettext as _

TEMPLATE = "errors/page.html"


def _admin_area(request: HttpRequest | None) -> bool:
    return request is not None and request.path.startswith("/admin/")


def _page(request: HttpRequest | None, status: int, title: str, message: str) -> HttpResponse:
    admin_area = _admin_area(request)
    context = {"status": status, "title": title, "message": message, "admin_area": admin_area,
               "home": "/admin/" if admin_area else "/"}
    try:
        body = loader.get_template(TEMPLATE).render(context)
    except Exception:  # the 500 page must render whatever is broken
        body = f"<!doctype html><title>{status}</title><h1>{status}</h1>"
    return HttpResponse(body, status=status)


def permission_denied(request: HttpRequest, exception: Any) -> HttpResponse:
    user = getattr(request, "user", None)
    if request.path.startswith("/admin/") and user is not None and user.is_authenticated:
        from audit import trail as audit
        from requests_app.web.decorators import client_ip

        audit.record("access.admin_forbidden", actor=user, ip_address=client_ip(request),
                     data={"path": request.path[:300], "method": request.method})
    return _page(request, 403, _("Access refused"),
                 _("Your account may not open this page. If you need it, ask an administrator of the portal."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused by the CSRF check (``CSRF_FAILURE_VIEW``): most often a page left open past
    the session, or a form posted from another site. Say what to do; the reason is logged by
    Django's CSRF middleware, never shown."""
    return _page(request, 403, _("The form could not be accepted"),
                 _("It was sent from another site, or the page had been open too long (security check, CSRF). "
                   "Go back, reload the page and try again; nothing was changed."))


def page_not_found(request: HttpRequest, exception: Any) -> HttpResponse:
    return _page(request, 404, _("Page not found"),
                 _("There is no page at this address, or it is not visible to your account."))


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(request, 500, _("Something went wrong"),
                 _("The portal could not complete this page. Nothing was changed by the failed step; try again "
                   "in a few minutes. The error has been logged for the provider's operators."))


def bad_request(request: HttpRequest, exception: Any) -> HttpResponse:
    return _page(request, 400, _("Bad request"), _("The portal could not understand this request."))


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says: send them to the static icon."""
    from django.templatetags.static import static

    return HttpResponseRedirect(static("favicon.svg"))
