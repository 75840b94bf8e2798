"""One id per HTTP request in every log line it causes (issue 10 item 7; structlog).

The id comes from the front proxy's ``X-Request-ID`` when it is well formed (so the proxy's
access log and ours join up), otherwise a new UUID; it is bound in structlog's context
variables, returned in the response header, and unbound when the response is done. Log lines
of the standard library (Django, Celery, our ``logging.getLogger``) go through structlog's
``ProcessorFormatter`` (portal/settings.py, ``LOGGING``), so they carry it too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        request_id = given if _WELL_FORMED.match(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = self.get_response(request)
        finally:
            structlog.contextvars.clear_contextvars()
        response[HEADER] = request_id
        return response
