"""``{% load findings %}{{ finding|finding_message }}``: a rule finding's message in the active language."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import template
from django.utils import timezone

from requests_app.finding_texts import finding_text

register = template.Library()


@register.filter
def finding_message(finding: Any) -> str:
    """The translated message of a finding dict (Finding.to_dict()); its instants also in the
    reader's zone (the one the middleware activated); other values unchanged."""
    reader_zone = timezone.get_current_timezone_name()
    if isinstance(finding, Mapping):
        return finding_text(finding, reader_zone)
    message = getattr(finding, "message", None)
    if message is not None and hasattr(finding, "to_dict"):
        return finding_text(finding.to_dict(), reader_zone)
    return "" if finding is None else str(finding)


@register.filter
def deadline_text(deadline: Any) -> str:
    """``{{ deadline|deadline_text }}``: a deadline's explanation (Deadline.to_dict()) in the
    active language, each instant also in the reader's zone (the one the middleware activated)
    where the rule counts in another."""
    from requests_app.deadline_texts import deadline_text as render

    if isinstance(deadline, Mapping):
        return render(deadline, timezone.get_current_timezone_name())
    return "" if deadline is None else str(deadline)


@register.filter
def primary_deadline_text(decision: Any, stored: str = "") -> str:
    """``{{ decision|primary_deadline_text:req.deadline_explanation }}``: the explanation of the
    deadline that ``due_at`` comes from, in the active language and, beside the rule's zone,
    the reader's."""
    from requests_app.deadline_texts import primary_deadline_text as render

    return render(decision if isinstance(decision, Mapping) else None, stored or "",
                  timezone.get_current_timezone_name())


# domain.md's verification tags ([V] read in the primary text, [S], [M], [P], [A]) are the legal
# team's notes on how sure a citation is; an authority reads the citation only.
_VERIFICATION_TAG = re.compile(r"\s*\[[VSMPA]\](?:/\[[VSMPA]\])*")


@register.filter
def citation(legal_basis: Any) -> str:
    """``{{ finding.legal_basis|citation }}``: the citation as an authority reads it, without the
    verification tags ("Reg. (EU) 2023/1543 Art. 10(8) [M]" -> "... Art. 10(8)")."""
    return "" if legal_basis is None else _VERIFICATION_TAG.sub("", str(legal_basis)).strip()


@register.filter
def is_provider_duty(code: Any) -> bool:
    """``{% if finding.code|is_provider_duty %}``: the finding states the provider's own duty
    (the catalogue's ``provider_duty``), not something the authority has to do."""
    from requests_app.rules.catalogue import is_provider_duty as lookup

    return isinstance(code, str) and lookup(code)


@register.filter
def category_label(value: Any) -> str:
    """``{{ finding.data_category|category_label }}``: a data category's label (DataCategory) in the active language."""
    from requests_app.states import DataCategory

    if value in DataCategory.values:
        return str(DataCategory(value).label)
    return "" if value is None else str(value)


@register.filter
def category_labels(values: Any) -> str:
    """``{{ req.data_categories|category_labels }}``: the labels, in the display order of DataCategory."""
    from requests_app.states import DataCategory

    chosen = set(values or ())
    return ", ".join(str(c.label) for c in DataCategory if c.value in chosen)
