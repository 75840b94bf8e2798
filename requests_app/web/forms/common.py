"""Accessible form rendering: aria-describedby for help, errors and rule findings, and an
error summary that links to every field in error (GOV.UK pattern)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.boundfield import BoundField


class PortalBoundField(BoundField):
    """A bound field that knows the ids of its help text, errors and findings slot."""

    @property
    def help_id(self) -> str:
        return f"{self.auto_id}_helptext"

    @property
    def error_id(self) -> str:
        return f"{self.auto_id}_errors"

    @property
    def findings_id(self) -> str:
        return f"findings-{self.html_name}"

    @property
    def findings(self) -> list[dict[str, Any]]:
        return getattr(self.form, "findings_by_field", {}).get(self.html_name, [])

    def build_widget_attrs(self, attrs: dict[str, Any], widget: Any = None) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        described = []
        if self.help_text:
            described.append(self.help_id)
        if self.errors:
            described.append(self.error_id)
        if getattr(self.form, "with_findings", False):
            described.append(self.findings_id)
        w = widget or self.field.widget
        if described and not getattr(w, "allow_multiple_selected", False) and not w.is_hidden:
            attrs["aria-describedby"] = " ".join(described)
        return attrs


@dataclass(frozen=True)
class SummaryItem:
    anchor: str
    label: str
    message: str


class PortalFormMixin:
    """Shared by every portal form: custom bound fields and an error summary."""

    bound_field_class: type[BoundField] | None = PortalBoundField

    def error_summary(self) -> list[SummaryItem]:
        form: Any = self
        if not form.is_bound:
            return []
        items = [SummaryItem("", "", str(e)) for e in form.non_field_errors()]
        for name, errors in form.errors.items():
            if name == NON_FIELD_ERRORS:
                continue
            bound = form[name]
            for error in errors:
                items.append(SummaryItem(bound.auto_id or "", str(bound.label), str(error)))
        return items


class PortalForm(PortalFormMixin, forms.Form):
    pass
