"""The intermediate forms of the queue's actions. They hold input only; rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from ..models import AnnexIIIReason, CallbackOutcome, LegalRequest
from ..permissions import ROLES

TEXT = forms.Textarea(attrs={"rows": 4, "cols": 80})


class ActionForm(forms.Form):
    """Base: every action form is built for one request."""

    def __init__(self, *args: Any, request_obj: LegalRequest, **kwargs: Any) -> None:
        self.request_obj = request_obj
        super().__init__(*args, **kwargs)


class ConfirmForm(ActionForm):
    """No input: the button itself is the decision (assign to me)."""


class ReasonForm(ActionForm):
    reason = forms.CharField(widget=TEXT, max_length=5000)


class OptionalReasonForm(ActionForm):
    reason = forms.CharField(widget=TEXT, max_length=5000, required=False)


class BodyForm(ActionForm):
    body = forms.CharField(widget=TEXT, max_length=20000)


class AssignForm(ActionForm):
    reviewer = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False,
                                      help_text="Leave empty to remove the assignee.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = get_user_model().objects.filter(
            is_active=True, is_staff=True, authority__isnull=True, groups__name__in=ROLES
        ).distinct().order_by("email")
        self.fields["reviewer"].queryset = team  # type: ignore[attr-defined]


class CallbackForm(ActionForm):
    """The number is the authority's registry switchboard, shown read-only by the template."""

    outcome = forms.ChoiceField(choices=CallbackOutcome.choices, widget=forms.RadioSelect)
    person_reached = forms.CharField(max_length=200, required=False)
    notes = forms.CharField(widget=TEXT, required=False, max_length=5000)


REASON_CHOICES = AnnexIIIReason.choices


class AnnexIIIForm(ActionForm):
    """Annex III section D: reasons per identifier (one checkbox group per target)."""

    require_reason = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.identifiers: list[tuple[str, str]] = []
        for index, target in enumerate(self.request_obj.targets.all()):
            label = f"{target.get_kind_display()}: {target.value}"
            self.identifiers.append((f"target_{index}", label))
            self.fields[f"target_{index}_reasons"] = forms.MultipleChoiceField(
                label=label, choices=REASON_CHOICES, required=False, widget=forms.CheckboxSelectMultiple)
            self.fields[f"target_{index}_explanation"] = forms.CharField(
                label="Explanation", required=False, max_length=2000)
        self.fields["data_preserved"] = forms.BooleanField(required=False, initial=True)

    def reasons(self) -> list[dict[str, Any]]:
        return [
            {"identifier": label, "reasons": self.cleaned_data[f"{key}_reasons"],
             "explanation": self.cleaned_data[f"{key}_explanation"]}
            for key, label in self.identifiers
            if self.cleaned_data.get(f"{key}_reasons")
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.require_reason and not self.errors and not self.reasons():
            raise forms.ValidationError("Tick at least one Annex III reason for an identifier.")
        return cleaned


class ClarificationForm(AnnexIIIForm):
    clarification_asked = forms.CharField(widget=TEXT, max_length=10000,
                                          help_text="Annex III section F: what the authority must clarify.")


class NotExecutedForm(AnnexIIIForm):
    require_reason = True
    conflicting_obligations = forms.CharField(widget=TEXT, required=False, max_length=10000,
                                              help_text="Annex III section E, where it applies.")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items if item]


class PrepareForm(ActionForm):
    documents = MultipleFileField(required=False, label="Files")
    cover_note = forms.CharField(widget=TEXT, required=False, max_length=20000)


class ApproveForm(ActionForm):
    note = forms.CharField(widget=TEXT, required=False, max_length=5000)
