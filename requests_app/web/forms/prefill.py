"""The request form filled from a stored request (to correct it when answering a clarification),
and the corrections an officer made, as the ``changes`` of ``clarification_submit``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.serializers.json import DjangoJSONEncoder

from requests_app import codec
from requests_app.api.serializers import RequestCreateSerializer
from requests_app.models import LegalRequest

from .timezones import zone_for_country


def _wall(value: datetime | None, zone: str) -> datetime | None:
    return value.astimezone(ZoneInfo(zone)).replace(tzinfo=None, microsecond=0) if value else None


def initial_for(legal_request: LegalRequest) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The form's initial data: the codec's flat shape, times on the wall clock of the issuer."""
    zone = zone_for_country(legal_request.country or legal_request.authority.country)
    flat = codec.flat_from_request(legal_request)
    targets = [{**t, "timestamp": _wall(t["timestamp"], zone), "timezone": zone} for t in flat.pop("targets")]
    initial = {
        **flat,
        "data_from": _wall(flat["data_from"], zone),
        "data_to": _wall(flat["data_to"], zone),
        "range_timezone": zone,
        "sentence_in_absentia": bool(flat["sentence_in_absentia"]),
        "sentence_absconded": bool(flat["sentence_absconded"]),
        "dsa_content_urls": "\n".join(flat["dsa_content_urls"]),
    }
    for name in ("dsa", "dsa_given"):
        initial.pop(name)
    return initial, targets


def _plain(value: Any) -> Any:
    """JSON-comparable, at the form's precision (whole seconds)."""
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder)) if value is not None else None


def corrections(legal_request: LegalRequest, new_data: dict[str, Any]) -> dict[str, Any]:
    """The amendable fields whose value differs from the stored request."""
    stored = codec.request_body(legal_request)
    serializer = RequestCreateSerializer(data=json.loads(json.dumps(stored, cls=DjangoJSONEncoder)))
    current = dict(serializer.validated_data) if serializer.is_valid() else stored
    return {name: new_data.get(name) for name in codec.AMENDABLE
            if _plain(new_data.get(name)) != _plain(current.get(name))}
