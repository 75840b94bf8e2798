"""Errors raised by services; the API maps each ``code`` to an HTTP answer."""

from __future__ import annotations

# HTTP status of the codes that are not plain bad input.
STATUS_BY_CODE = {
    "not_found": 404,
    "permission_denied": 403,
    "four_eyes": 403,
    "conflict": 409,
    "response_expired": 410,
    "integrity_error": 500,
}


class ServiceError(Exception):
    code = "invalid"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
            self.status = STATUS_BY_CODE.get(code, self.status)
        self.fields = fields or {}


class IdempotencyKeyReused(ServiceError):
    """The same Idempotency-Key came with a different body (IETF httpapi draft: 422)."""

    code = "idempotency_key_reused"
    status = 422


class InvalidState(ServiceError):
    code = "invalid_state"
    status = 409
