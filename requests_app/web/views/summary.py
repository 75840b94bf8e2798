"""The error summary of a form and its target rows."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from ..forms.common import SummaryItem


def summary_for(form: Any, targets: Any = None) -> list[SummaryItem]:
    items = list(form.error_summary())
    if targets is not None and targets.is_bound:
        items.extend(SummaryItem("section-targets", _("Targets"), str(e)) for e in targets.non_form_errors())
        for index, target in enumerate(targets.forms):
            for item in target.error_summary():
                label = _("Target %(number)s: %(label)s") % {"number": index + 1, "label": item.label}
                items.append(SummaryItem(item.anchor, label, item.message))
    return items
