"""Rendering rule findings in the active language.

The translatable texts live in the generated ``requests_app.finding_messages`` (catalogue
messages and the vocabulary values that fill them); this module formats a finding with them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext, pgettext

from .finding_messages import (
    CTX_AUTHORITY,
    CTX_CATEGORY,
    CTX_INSTRUMENT,
    CTX_OFFENCE,
    CTX_RECIPIENTS,
    CTX_SENTENCE,
    CTX_STATUS,
    CTX_TARGET_KIND,
    CTX_VALIDATORS,
    RECIPIENTS,
)
from .rules.catalogue import CATALOGUE

# Parameter name -> translation context of its values.
PARAMETER_CONTEXTS: dict[str, str] = {
    "category": CTX_CATEGORY,
    "categories": CTX_CATEGORY,
    "issuer_type": CTX_AUTHORITY,
    "validator_type": CTX_AUTHORITY,
    "validators": CTX_VALIDATORS,
    "instrument": CTX_INSTRUMENT,
    "linked_instrument": CTX_INSTRUMENT,
    "expected": CTX_INSTRUMENT,
    "listed": CTX_OFFENCE,
    "kind": CTX_TARGET_KIND,
    "status": CTX_STATUS,
    "detail": CTX_SENTENCE,
}
LIST_PARAMETERS = frozenset({"categories", "detail"})  # ", "-joined values
_MONTHS = re.compile(r"^(\d+) months$")
_RECIPIENTS = re.compile(r"^the law-enforcement authorities of (?P<states>.+?)(?P<europol> and Europol)?$")


def _value(context: str, value: str) -> str:
    if context == CTX_SENTENCE:
        months = _MONTHS.match(value)
        if months:
            return pgettext(CTX_SENTENCE, "{months} months").format(months=months.group(1))
    return pgettext(context, value)


def translated_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with their vocabulary values translated into the active language."""
    out = dict(params)
    for name, value in params.items():
        if not isinstance(value, str) or not value:
            continue
        if name == "recipients":
            match = _RECIPIENTS.match(value)
            if match:
                msgid = RECIPIENTS[1] if match.group("europol") else RECIPIENTS[0]
                out[name] = pgettext(CTX_RECIPIENTS, msgid).format(states=match.group("states"))
            continue
        context = PARAMETER_CONTEXTS.get(name)
        if context is None:
            continue
        if name in LIST_PARAMETERS:
            out[name] = ", ".join(_value(context, part) for part in value.split(", "))
        else:
            out[name] = _value(context, value)
    return out


def translated_message(finding: Mapping[str, Any]) -> str:
    """The message of ``finding`` (a Finding.to_dict()) in the active language.

    Falls back to the stored English message for unknown codes and for parameters that do
    not fit the template.
    """
    fallback = str(finding.get("message") or "")
    spec = CATALOGUE.get(str(finding.get("code") or ""))
    if spec is None:
        return fallback
    params = finding.get("message_params") or {}
    template = gettext(spec.message)
    try:
        return template.format(**translated_params(params)) if params else template
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        return fallback
