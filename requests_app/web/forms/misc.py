"""The small forms of the portal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import AuthorityRegistrationRequest
from requests_app.states import Instrument, Status

from .common import PortalForm, PortalFormMixin


class RequestFilterForm(PortalForm):
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All")), *Status.choices], required=False)
    instrument = forms.ChoiceField(label=_("Instrument"), choices=[("", _("All")), *Instrument.choices],
                                   required=False)


class MessageForm(PortalForm):
    body = forms.CharField(label=_("Your message to the legal team"), max_length=10000,
                           widget=forms.Textarea(attrs={"rows": 4}))


class WithdrawForm(PortalForm):
    reason = forms.CharField(label=_("Reason for withdrawing (optional)"), max_length=2000, required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label=_("I confirm that this request is withdrawn and nothing more will be done "
                                         "with it."))


class AttachmentForm(PortalForm):
    file = forms.FileField(label=_("Document (PDF)"), widget=forms.ClearableFileInput(attrs={"accept": ".pdf"}))
    kind = forms.ChoiceField(label=_("Kind of document"), choices=[
        ("order", _("Signed order")), ("clarification", _("Clarification")), ("other", _("Other document"))])


class ClarificationForm(PortalForm):
    message = forms.CharField(label=_("Your answer"), max_length=10000, widget=forms.Textarea(attrs={"rows": 5}))
    document = forms.FileField(label=_("Supporting document (PDF, optional)"), required=False,
                               widget=forms.ClearableFileInput(attrs={"accept": ".pdf"}))
    correct = forms.BooleanField(label=_("I also correct the request (the fields below)"), required=False)


class TokenForm(PortalForm):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. case system."))
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, initial=90)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"] = forms.IntegerField(
            label=_("Valid for (days)"), min_value=1, max_value=settings.API_TOKEN_MAX_DAYS,
            initial=settings.API_TOKEN_DEFAULT_DAYS)


class DeactivateForm(PortalForm):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class AuthorityRegistrationForm(PortalFormMixin, forms.ModelForm):
    class Meta:
        model = AuthorityRegistrationRequest
        fields = ["authority_name", "country", "authority_type", "email_domain", "contact_email",
                  "switchboard_phone", "official_source", "note"]
        labels = {
            "authority_name": _("Name of the authority"),
            "country": _("Country (ISO code)"),
            "authority_type": _("Type of authority"),
            "email_domain": _("E-mail domain of the authority"),
            "contact_email": _("Your official e-mail address"),
            "switchboard_phone": _("Switchboard telephone number"),
            "official_source": _("Official source"),
            "note": _("Note"),
        }
        help_texts = {
            "country": _("Two letters, e.g. FR."),
            "email_domain": _("e.g. interieur.gouv.fr"),
            "switchboard_phone": _("The authority's main number, as published in an official directory. We call "
                                   "it to verify the authority."),
            "official_source": _("Where the authority's details can be checked (official directory, URL)."),
        }
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def clean_country(self) -> str:
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise forms.ValidationError(_("Give a two-letter ISO 3166-1 country code, e.g. FR."))
        return country

    def clean_email_domain(self) -> str:
        domain = (self.cleaned_data.get("email_domain") or "").strip().lower().lstrip("@")
        if "." not in domain or " " in domain:
            raise forms.ValidationError(_("Give a domain such as police.example.eu."))
        return domain

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        email, domain = data.get("contact_email") or "", data.get("email_domain") or ""
        email_domain = email.rsplit("@", 1)[-1].lower()
        if email and domain and email_domain != domain and not email_domain.endswith("." + domain):
            self.add_error("contact_email", _("Your address must be on the authority's domain."))
        return data
