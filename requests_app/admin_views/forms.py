"""The intermediate forms of the queue's actions. They hold input only; rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from ..models import AnnexIIIReason, CallbackOutcome, LegalRequest
from ..permissions import ROLES
from ..rules.proposal import item_key
from ..services.review import refusal_proposal
from ..states import DataCategory

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


class EnforcingAuthorityContactForm(ActionForm):
    email = forms.EmailField(label="The enforcing authority's e-mail address", max_length=254,
                             help_text="Where it was notified (Art. 8), it receives a copy of every Annex III sent.")

    def __init__(self, *args: Any, request_obj: LegalRequest, **kwargs: Any) -> None:
        super().__init__(*args, request_obj=request_obj, **kwargs)
        self.fields["email"].initial = request_obj.enforcing_authority_email


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
    """Annex III section D, drafted by the engine, decided by a person: one group of reason
    checkboxes and a free text per item, where an item is the whole order, a data category,
    an identifier (target) or an identifier for one category. The engine's proposal
    (``review.refusal_proposal``) ticks the reasons and writes the explanations; the person
    edits them and signs."""

    require_reason = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.request_obj
        self.proposal = refusal_proposal(request)
        proposed = {item["key"]: item for item in self.proposal.get("items", [])}
        targets = list(request.targets.all())
        categories = [c for c in DataCategory.values if c in (request.data_categories or [])]
        labels = dict(DataCategory.choices)
        rows: list[tuple[int | None, str | None]] = [(None, None)]
        rows += [(None, c) for c in categories]
        rows += [(i, None) for i in range(len(targets))]
        rows += [(item["target"], item["data_category"]) for item in proposed.values()
                 if item["target"] is not None and item["data_category"] is not None]
        # (key, target index, category, label)
        self.items: list[tuple[str, int | None, str | None, str]] = []
        self.drafted = proposed
        for target, category in rows:
            key = item_key(target, category).replace(".", "__")
            if any(k == key for k, *_ in self.items):
                continue
            parts = []
            if target is not None and target < len(targets):
                parts.append(f"{targets[target].get_kind_display()}: {targets[target].value}")
            if category is not None:
                parts.append(str(labels.get(category, category)))
            label = " — ".join(parts) or "The whole order (all identifiers and categories)"
            self.items.append((key, target, category, label))
            draft = proposed.get(item_key(target, category), {})
            self.fields[f"{key}_reasons"] = forms.MultipleChoiceField(
                label=label, choices=REASON_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
                initial=draft.get("reasons", []),
                help_text=("Proposed by the rules: " + ", ".join(draft["findings"])) if draft else "")
            self.fields[f"{key}_explanation"] = forms.CharField(
                label="Explanation", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                initial=draft.get("explanation", ""))
        self.identifiers = [(key, label) for key, _t, _c, label in self.items]
        self.fields["data_preserved"] = forms.BooleanField(required=False, initial=True)

    def reasons(self) -> list[dict[str, Any]]:
        return [
            {"identifier": label if target is not None else "", "target": target, "data_category": category,
             "reasons": self.cleaned_data[f"{key}_reasons"], "explanation": self.cleaned_data[f"{key}_explanation"],
             # The articles the findings of the drafted item cite.
             "legal_basis": self.drafted.get(item_key(target, category), {}).get("legal_basis", [])}
            for key, target, category, label in self.items
            if self.cleaned_data.get(f"{key}_reasons")
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        reason_errors = any(name.endswith(("_reasons", "_explanation")) for name in self.errors)
        if self.require_reason and not reason_errors and not self.reasons():
            raise forms.ValidationError("Tick at least one Annex III reason for an identifier.")
        return cleaned


class ClarificationForm(AnnexIIIForm):
    clarification_asked = forms.CharField(widget=TEXT, max_length=10000,
                                          help_text="Annex III section F: what the authority must clarify.")


class NotExecutedForm(AnnexIIIForm):
    require_reason = True
    conflicting_obligations = forms.CharField(widget=TEXT, required=False, max_length=10000,
                                              help_text="Annex III section E, where it applies.")
    sign = forms.BooleanField(
        required=True, label="I have read the findings and the draft, and I sign this Annex III",
        help_text="The non-execution is your decision: the rules only propose it. Tick reasons only for some "
                  "data categories or identifiers for a partial non-execution (the rest continues). A second "
                  "member of the legal team approves the form; then the authority receives it and its PDF in the "
                  "portal, with an e-mail notice.")


class RefuseForm(AnnexIIIForm):
    """A refusal on grounds: the reason (the whole order's explanation) and, optionally, the
    Annex III reasons per identifier and category; signed, then approved by a second person."""

    reason = forms.CharField(widget=TEXT, max_length=5000,
                             help_text="The grounds for the refusal, as the authority will read them.")
    conflicting_obligations = forms.CharField(widget=TEXT, required=False, max_length=10000,
                                              help_text="Annex III section E, where it applies.")
    sign = forms.BooleanField(
        required=True, label="I sign this Annex III",
        help_text="A second member of the legal team must approve it before it is sent and the request closed.")


class RerouteForm(AnnexIIIForm):
    reason = forms.CharField(widget=TEXT, max_length=5000, label="Route to use",
                             help_text="Where the authority should send its request instead (e.g. the MLA route).")
    sign = forms.BooleanField(
        required=True, label="I sign this Annex III",
        help_text="A second member of the legal team must approve it before it is sent and the request closed.")


class ApproveAnnexIIIForm(ActionForm):
    """Carries the id and SHA-256 of the Annex III draft the approver was shown, so that the
    service refuses the approval if the draft was replaced or changed meanwhile."""

    annex_iii_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    digest = forms.CharField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(widget=TEXT, required=False, max_length=5000)

    def __init__(self, *args: Any, request_obj: LegalRequest, **kwargs: Any) -> None:
        super().__init__(*args, request_obj=request_obj, **kwargs)
        from ..services.review import annex_iii_digest, pending_refusal

        self.draft = pending_refusal(request_obj)
        self.draft_digest = annex_iii_digest(self.draft) if self.draft is not None else ""
        if self.draft is not None:
            self.fields["annex_iii_id"].initial = self.draft.pk
            self.fields["digest"].initial = self.draft_digest


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
    """Carries what the approver was shown (the package id and its files' SHA-256), so the
    service refuses the approval if the newest draft is no longer that package."""

    package_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    digests = forms.CharField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(widget=TEXT, required=False, max_length=5000)

    def __init__(self, *args: Any, request_obj: LegalRequest, **kwargs: Any) -> None:
        super().__init__(*args, request_obj=request_obj, **kwargs)
        from ..services.delivery import package_digests, pending_package

        package = pending_package(request_obj)
        if package is not None:
            self.fields["package_id"].initial = package.pk
            self.fields["digests"].initial = ",".join(package_digests(package))

    def digest_list(self) -> list[str]:
        return [d for d in self.cleaned_data.get("digests", "").split(",") if d]
