"""Where a rule finding or an API validation error belongs on the form.

Findings name the request field concerned in API terms (``targets[2]``, ``offence``,
``dsa.legal_basis``, ``issuer``...); the form has flat field names. This module is the one
mapping between the two, used for the live check, the server-side check and API errors.
"""

from __future__ import annotations

import re
from typing import Any

from requests_app.rules import catalogue

from .forms.request_form import RequestForm

# API path -> form field name.
API_TO_FORM = {
    "offence": "offence_description",
    "offence.description": "offence_description",
    "offence.legal_provisions": "offence_legal_provisions",
    "offence.max_sentence_months": "max_sentence_months",
    "offence.listed_offence": "listed_offence",
    "offence.via_information_system": "via_information_system",
    "offence.sentence_execution": "sentence_months",
    "offence.sentence_execution.sentence_months": "sentence_months",
    "offence.sentence_execution.in_absentia": "sentence_in_absentia",
    "offence.sentence_execution.absconded": "sentence_absconded",
    "validation": "validation_authority_type",
    "validation.authority_type": "validation_authority_type",
    "validation.authority_name": "validation_authority_name",
    "validation.reference": "validation_reference",
    "validation.date": "validation_date",
    "dsa": "dsa_legal_basis",
    "dsa.legal_basis": "dsa_legal_basis",
    "dsa.statement_of_reasons": "dsa_statement_of_reasons",
    "dsa.redress_information": "dsa_redress_information",
    "dsa.territorial_scope": "dsa_territorial_scope",
    "dsa.content_urls": "dsa_content_urls",
    "targets": "targets",
}
TARGET_PATH = re.compile(r"^targets(?:\[(\d+)\]|\.(\d+))(?:\.(\w+))?$")
ISSUER = "issuer"


def slot_for(form: RequestForm, path: str | None) -> str | None:
    """The html name of the form field (or section) a finding about ``path`` belongs to."""
    if not path:
        return None
    match = TARGET_PATH.match(path)
    if match:
        k = int(match.group(1) or match.group(2))
        rows = form.target_indexes
        index = rows[k] if k < len(rows) else k
        return f"targets-{index}-{match.group(3) or 'value'}"
    if path == ISSUER:
        return ISSUER
    name = API_TO_FORM.get(path, path)
    if name == "targets" or name in form.fields:
        return name
    return None


def slot_names(form: RequestForm, targets: Any) -> list[str]:
    """Every place a finding can show: each field, each target row's fields, the sections."""
    names = [form[name].html_name for name in form.fields if name not in ("submission_key",)]
    for target_form in targets:
        names.extend(target_form[name].html_name for name in target_form.fields)
    return [ISSUER, "targets", *names]


def attach_findings(form: RequestForm, targets: Any, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each finding its anchor and hand the forms their findings, per field."""
    by_field: dict[str, list[dict[str, Any]]] = {}
    shown = []
    for finding in findings:
        slot = slot_for(form, finding.get("field"))
        item = {**finding, "slot": slot, "anchor": _anchor(form, targets, slot)}
        shown.append(item)
        if slot:
            by_field.setdefault(slot, []).append(item)
    for f in (form, *targets, targets):
        f.findings_by_field = by_field
        f.with_findings = True
    return shown


SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def by_reader(findings: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The findings as the officer reads them: ``findings`` (problems first) and, apart, the
    ``provider_duties`` (the catalogue's ``provider_duty``: what the provider does, never the
    officer's next step)."""
    ordered = sorted(findings, key=lambda f: SEVERITY_ORDER.get(str(f.get("severity")), 3))
    duties = [f for f in ordered if catalogue.is_provider_duty(str(f.get("code") or ""))]
    return {"findings": [f for f in ordered if f not in duties], "provider_duties": duties}


def _anchor(form: RequestForm, targets: Any, slot: str | None) -> str:
    if slot is None:
        return ""
    if slot in (ISSUER, "targets"):
        return f"section-{slot}"
    if slot.startswith("targets-"):
        return f"id_{slot}"
    return form[slot].auto_id or "" if slot in form.fields else ""


def _flatten(errors: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(errors, dict):
        out = []
        for key, value in errors.items():
            out.extend(_flatten(value, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(errors, list):
        if all(isinstance(e, str) for e in errors):
            return [(path, str(e)) for e in errors]
        out = []
        for index, value in enumerate(errors):
            if value:
                out.extend(_flatten(value, f"{path}.{index}"))
        return out
    return [(path, str(errors))]


def apply_api_errors(form: RequestForm, targets: Any, errors: Any) -> None:
    """Put the API serializer's errors on the form fields they concern."""
    for path, message in _flatten(errors):
        match = TARGET_PATH.match(path)
        if match:
            k = int(match.group(1) or match.group(2))
            rows = form.target_indexes
            index = rows[k] if k < len(rows) else None
            field = match.group(3) or "value"
            if index is not None and field in targets.forms[index].fields:
                targets.forms[index].add_error(field, message)
                continue
        name = API_TO_FORM.get(path, path)
        if name in form.fields and name != "targets":
            form.add_error(name, message)
        else:
            form.add_error(None, f"{path}: {message}" if path and path != "non_field_errors" else message)
