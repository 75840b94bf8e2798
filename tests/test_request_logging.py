"""Log lines carry the request id, and production writes them as JSON (structlog)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

pytestmark = pytest.mark.django_db


def json_formatter() -> logging.Formatter:
    formatters: dict[str, Any] = settings.LOGGING["formatters"]  # type: ignore[assignment]
    spec: dict[str, Any] = dict(formatters["json"])
    factory = spec.pop("()")
    return factory(**spec)


def test_every_response_names_its_request_id_and_a_proxys_id_is_kept():
    client = Client()
    fresh = client.get("/healthz")
    assert len(fresh["X-Request-ID"]) == 32
    assert client.get("/healthz")["X-Request-ID"] != fresh["X-Request-ID"]
    assert client.get("/healthz", HTTP_X_REQUEST_ID="proxy-1234abcd")["X-Request-ID"] == "proxy-1234abcd"
    # A malformed id (log injection) is replaced, not echoed.
    assert client.get("/healthz", HTTP_X_REQUEST_ID="x\\n{evil}")["X-Request-ID"] != "x\\n{evil}"


def _logging_view(request: HttpRequest) -> HttpResponse:
    logging.getLogger("requests_app.probe").info("probe handled")
    return HttpResponse("ok")


urlpatterns = [path("probe/", _logging_view)]


@pytest.mark.urls("tests.test_request_logging")
def test_a_standard_library_log_line_inside_a_request_is_json_with_the_request_id():
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    handler = Collect()
    handler.setFormatter(json_formatter())
    logger = logging.getLogger("requests_app.probe")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        response = Client().get("/probe/", HTTP_X_REQUEST_ID="req-abcdef12")
    finally:
        logger.removeHandler(handler)
    assert response["X-Request-ID"] == "req-abcdef12"
    line = json.loads(seen[-1])
    assert line["event"] == "probe handled" and line["request_id"] == "req-abcdef12" and line["level"] == "info"
    assert line["logger"] == "requests_app.probe" and line["timestamp"].endswith("Z")
    # Outside a request nothing is bound: the id does not leak into the next line.
    record = logging.LogRecord("requests_app.probe", logging.INFO, __file__, 1, "later", None, None)
    assert "request_id" not in json.loads(json_formatter().format(record))
