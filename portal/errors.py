"""Error views with a side effect the default ones lack: a refused admin page is an audit
event (issue 14 item 11), so an insider trying pages beyond their role leaves a trace."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views import defaults


def permission_denied(request: HttpRequest, exception: Any) -> HttpResponse:
    user = getattr(request, "user", None)
    if request.path.startswith("/admin/") and user is not None and user.is_authenticated:
        from audit import trail as audit
        from requests_app.web.decorators import client_ip

        audit.record("access.admin_forbidden", actor=user, ip_address=client_ip(request),
                     data={"path": request.path[:300], "method": request.method})
    return defaults.permission_denied(request, exception)
