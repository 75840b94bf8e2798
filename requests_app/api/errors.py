"""One JSON error shape for the whole API, with stable codes.

    {"error": {"code": "validation_error", "message": "...", "fields": {"targets": ["..."]}}}
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..access import ProbesThrottled, RequestNotFound
from ..services.errors import ServiceError
from ..uploads import UploadRejected
from .parsers import BodyTooDeep, BodyTooLarge

_CODES: dict[type[Exception], str] = {
    BodyTooDeep: "body_too_deep",
    BodyTooLarge: "body_too_large",
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "parse_error",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def error_response(code: str, message: str, http_status: int, fields: dict | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return Response({"error": body}, status=http_status)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ProbesThrottled):
        exc = exceptions.Throttled(wait=exc.retry_after, detail="Too many requests for unknown references.")
    if isinstance(exc, RequestNotFound | Http404):
        exc = exceptions.NotFound("No such request.") if isinstance(exc, RequestNotFound) else exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, ServiceError):
        return error_response(exc.code, exc.message, exc.status, exc.fields)
    if isinstance(exc, UploadRejected):
        return error_response(exc.code, exc.message, status.HTTP_400_BAD_REQUEST, {"file": [exc.message]})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for t, c in _CODES.items() if isinstance(exc, t)), "error")
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"error": {"code": code, "message": "The request body is invalid.", "fields": fields}}
    else:
        detail = getattr(exc, "detail", str(exc))
        response.data = {"error": {"code": code, "message": str(detail)}}
    return response
