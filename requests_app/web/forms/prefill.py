"""The request form filled from a stored request (to correct it when answering a clarification),
and the corrections an officer made, as the ``changes`` of ``clarification_submit``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.serializers.json import DjangoJSONEncoder

from requests_app.api.serializers import RequestCreateSerializer
from requests_app.facts import request_data
from requests_app.models import LegalRequest
from requests_app.services.submission import AMENDABLE

from .timezones import zone_for_country


def _wall(value: datetime | None, zone: str) -> datetime | None:
    return value.astimezone(ZoneInfo(zone)).replace(tzinfo=None, microsecond=0) if value else None


def initial_for(legal_request: LegalRequest) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    zone = zone_for_country(legal_request.country or legal_request.authority.country)
    dsa = legal_request.dsa or {}
    initial = {
        "instrument": legal_request.instrument,
        "case_reference": legal_request.case_reference,
        "language": legal_request.language,
        "summary": legal_request.summary,
        "validation_authority_type": legal_request.validation_authority_type,
        "validation_authority_name": legal_request.validation_authority_name,
        "validation_reference": legal_request.validation_reference,
        "validation_date": legal_request.validation_date,
        "data_from": _wall(legal_request.data_from, zone),
        "data_to": _wall(legal_request.data_to, zone),
        "range_timezone": zone,
        "data_categories": list(legal_request.data_categories),
        "offence_description": legal_request.offence_description,
        "offence_legal_provisions": legal_request.offence_legal_provisions,
        "max_sentence_months": legal_request.max_sentence_months,
        "listed_offence": legal_request.listed_offence,
        "via_information_system": legal_request.via_information_system,
        "sentence_execution": legal_request.sentence_months is not None,
        "sentence_months": legal_request.sentence_months,
        "sentence_in_absentia": bool(legal_request.sentence_in_absentia),
        "sentence_absconded": bool(legal_request.sentence_absconded),
        "emergency": legal_request.emergency,
        "emergency_reason": legal_request.emergency_reason,
        "confidential": legal_request.confidential,
        "confidentiality_reason": legal_request.confidentiality_reason,
        "enforcing_authority_notified": legal_request.enforcing_authority_notified,
        "art_8_2_exception": legal_request.art_8_2_exception,
        "person_residence_country": legal_request.person_residence_country,
        "addressee_country": legal_request.addressee_country,
        "suspect_named": legal_request.suspect_named,
        "linked_reference": legal_request.linked_reference,
        "dsa_legal_basis": dsa.get("legal_basis", ""),
        "dsa_statement_of_reasons": dsa.get("statement_of_reasons", ""),
        "dsa_redress_information": dsa.get("redress_information", ""),
        "dsa_territorial_scope": dsa.get("territorial_scope", ""),
        "dsa_content_urls": "\n".join(dsa.get("content_urls", [])),
    }
    targets = [
        {"kind": t.kind, "value": t.value, "timestamp": _wall(t.timestamp, zone), "timezone": zone}
        for t in legal_request.targets.all()
    ]
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
    serializer = RequestCreateSerializer(data=json.loads(json.dumps(request_data(legal_request),
                                                                    cls=DjangoJSONEncoder)))
    current = dict(serializer.validated_data) if serializer.is_valid() else request_data(legal_request)
    return {name: new_data.get(name) for name in AMENDABLE
            if _plain(new_data.get(name)) != _plain(current.get(name))}
