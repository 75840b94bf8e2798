"""POST data for the portal's request form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone


def form_data(targets: list[dict[str, str]] | None = None, **overrides: Any) -> dict[str, Any]:
    """A complete EPOC for subscriber data, as the browser posts the form (French police)."""
    now = timezone.now()
    rows = targets if targets is not None else [
        {"kind": "username", "value": "suspect_account"},
        {"kind": "ip_address", "value": "203.0.113.7",
         "timestamp": (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"), "timezone": "Europe/Paris"},
    ]
    data: dict[str, Any] = {
        "instrument": "epoc",
        "case_reference": "PN-2026-WEB-1",
        "language": "fr",
        "summary": "Fraud investigation.",
        "validation_authority_type": "prosecutor",
        "validation_authority_name": "Parquet de Paris",
        "validation_reference": "PQ-2026-1",
        "validation_date": (now - timedelta(days=2)).date().isoformat(),
        "data_from": (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
        "data_to": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "range_timezone": "Europe/Paris",
        "data_categories": ["subscriber"],
        "offence_description": "Fraud",
        "offence_legal_provisions": "Art. 313-1 Code pénal",
        "max_sentence_months": "60",
        "via_information_system": "on",
        "targets-TOTAL_FORMS": str(max(len(rows), 3)),
        "targets-INITIAL_FORMS": "0",
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "100",
        "suspect_named": "unknown",
        "action": "submit",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"targets-{index}-{key}"] = value
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
