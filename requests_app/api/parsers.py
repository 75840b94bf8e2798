"""JSON bodies read within bounds (issue 14 item 9; OWASP API4:2023 Unrestricted Resource Consumption).

DRF's own parser reads the whole stream, whatever its size, and ``json.loads`` answers a body
nested a hundred thousand levels deep with a ``RecursionError`` (a 500). Here the body is read
up to ``API_MAX_JSON_BYTES`` (413 beyond it), and a body nested deeper than
``API_MAX_JSON_DEPTH`` is refused with 400 before any serializer sees it. No request body of
the API is deeper than a handful of levels, so the limit costs nothing to a real client.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "body_too_large"


class BodyTooDeep(ParseError):
    default_detail = "The request body is nested too deeply."
    default_code = "body_too_deep"


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """True if ``value`` nests lists/objects deeper than ``limit``; iterative, so it cannot recurse."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        limit = settings.API_MAX_JSON_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and str(declared).isdigit() and int(declared) > limit:
            raise BodyTooLarge()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise BodyTooLarge()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding) if raw else "{}"  # an empty body is an empty object
            data = json.loads(text)
        except RecursionError as exc:
            raise BodyTooDeep() from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        depth = settings.API_MAX_JSON_DEPTH
        # Each list and object opens with a bracket of the text (a bracket inside a string only
        # adds to the count), so a text with at most ``depth`` of them cannot nest deeper: the
        # walk, which cost more than the parse of a request body, is for the others.
        if text.count("{") + text.count("[") > depth and json_depth_exceeds(data, depth):
            raise BodyTooDeep()
        return data
