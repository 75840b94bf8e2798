"""``{% load findings %}{{ finding|finding_message }}``: a rule finding's message in the active language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from requests_app.finding_texts import finding_text

register = template.Library()


@register.filter
def finding_message(finding: Any) -> str:
    """The translated message of a finding dict (Finding.to_dict()); other values unchanged."""
    if isinstance(finding, Mapping):
        return finding_text(finding)
    message = getattr(finding, "message", None)
    if message is not None and hasattr(finding, "to_dict"):
        return finding_text(finding.to_dict())
    return "" if finding is None else str(finding)
