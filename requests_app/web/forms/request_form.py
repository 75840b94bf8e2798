"""The new-request form, laid out like the certificate (Annex I/II of Reg. (EU) 2023/1543).

The form checks format only. It builds the API's request body and validates it with the
API's own ``RequestCreateSerializer``, so the web and the API accept exactly the same
requests; the service and the rules decide the rest (style.md G8).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext_lazy as _

from accounts.models import AuthorityType
from requests_app import codec
from requests_app.api.serializers import RequestCreateSerializer
from requests_app.services.attachments import check_uploaded_pdf
from requests_app.states import DSA_INSTRUMENTS, DataCategory, Instrument, ListedOffence, TargetKind
from requests_app.uploads import CheckedUpload, UploadRejected

from .common import PortalForm
from .timezones import ZONE_CHOICES, localise

EU_ORDERS = ("epoc", "epoc_pr", "preservation_extension", "production_confirmation")
US_PROCESS = ("us_subpoena", "us_court_order", "us_search_warrant", "us_preservation")
CRIMINAL = (*EU_ORDERS, *US_PROCESS, "national_order", "emergency_disclosure")
ALL = tuple(Instrument.values)

# Which certificate sections an instrument uses. The page renders every section with these
# as data attributes; static/portal/request_form.js hides the others. Without JavaScript
# every section shows, and the rules ignore what an instrument does not use.
SECTION_INSTRUMENTS: dict[str, tuple[str, ...]] = {
    "issuer": ALL,
    "validation": EU_ORDERS,
    "targets": tuple(i for i in ALL if i != "dsa_removal_order"),
    "range": tuple(i for i in ALL if i != "dsa_removal_order"),
    "categories": tuple(i for i in ALL if i != "dsa_removal_order"),
    "offence": CRIMINAL,
    "emergency": tuple(i for i in CRIMINAL if i != "preservation_extension"),
    "confidentiality": ALL,
    "enforcing": ("epoc", "production_confirmation"),
    "linked": ("preservation_extension", "production_confirmation"),
    "dsa": tuple(sorted(DSA_INSTRUMENTS)),
    "document": ALL,
}

LANGUAGE_CHOICES = [(c, c.upper()) for c in (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt", "lv", "mt",
    "nl", "pl", "pt", "ro", "sk", "sl", "sv")]

DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _datetime_field(label: Any, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, required=False, help_text=help_text, input_formats=DATETIME_INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": "1"}, format="%Y-%m-%dT%H:%M:%S"),
    )


def _text(label: Any, *, max_length: int, rows: int = 0, help_text: Any = "") -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(label=label, required=False, max_length=max_length, help_text=help_text, widget=widget)


def _country(label: Any, help_text: Any = "") -> forms.RegexField:
    return forms.RegexField(
        regex=r"^[A-Za-z]{2}$", label=label, required=False, max_length=2, help_text=help_text,
        widget=forms.TextInput(attrs={"size": 3, "autocomplete": "off"}),
        error_messages={"invalid": _("Give a two-letter ISO 3166-1 country code, e.g. FR.")},
    )


def _codec_field(scalar: codec.Scalar) -> forms.Field:
    """The form field of a ``codec.SCALARS`` entry marked ``generated``."""
    if scalar.kind == "bool":
        return forms.BooleanField(label=scalar.label, help_text=scalar.help_text, required=False)
    if scalar.kind == "nullbool":
        return forms.NullBooleanField(
            label=scalar.label, help_text=scalar.help_text, required=False,
            widget=forms.Select(choices=[("unknown", _("Not stated")), ("true", _("Yes")), ("false", _("No"))]))
    if scalar.kind == "country":
        return _country(scalar.label, scalar.help_text)
    if scalar.kind == "text":
        return _text(scalar.label, max_length=scalar.max_length or 5000, help_text=scalar.help_text)
    if scalar.kind == "email":
        return forms.EmailField(label=scalar.label, help_text=scalar.help_text, required=False,
                                max_length=scalar.max_length or 254)
    raise ValueError(f"no generated form field for kind {scalar.kind!r} ({scalar.name})")


# The codec's generated fields, declared on a base so the form below inherits them; the page
# shows them under "Further details" (``RequestForm.further_fields``).
_CodecFields = type("_CodecFields", (PortalForm,), {s.name: _codec_field(s) for s in codec.SCALARS if s.generated})


class TargetForm(PortalForm):
    with_findings = True  # every field has a findings slot (live rule check)
    kind = forms.ChoiceField(label=_("Kind of identifier"), choices=[("", "—"), *TargetKind.choices], required=False)
    value = forms.CharField(label=_("Identifier"), max_length=512, required=False)
    timestamp = _datetime_field(_("Time stamp"), _("Required for IP addresses."))
    timezone = forms.ChoiceField(label=_("Time zone of the time stamp"), choices=ZONE_CHOICES, required=False)

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("value") and not data.get("kind"):
            self.add_error("kind", _("Choose the kind of identifier."))
        if data.get("kind") and not data.get("value"):
            self.add_error("value", _("Give the identifier."))
        if data.get("timestamp") and not data.get("timezone"):
            self.add_error("timezone", _("Choose the time zone of the time stamp."))
        return data

    def __init__(self, *args: Any, default_zone: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if default_zone:
            self.fields["timezone"].initial = default_zone

    def to_body(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("value") and not data.get("kind"):
            return None
        return {"kind": data.get("kind") or "", "value": data.get("value") or "",
                "timestamp": localise(data.get("timestamp"), data.get("timezone") or "UTC")}


TargetFormSet = forms.formset_factory(TargetForm, extra=3, max_num=100, validate_max=True)


class RequestForm(_CodecFields):  # type: ignore[valid-type,misc]
    with_findings = True
    instrument = forms.ChoiceField(label=_("Legal instrument"), choices=[("", "—"), *Instrument.choices])
    case_reference = forms.CharField(label=_("Your case reference"), max_length=128)
    language = forms.ChoiceField(label=_("Language of the order"), choices=LANGUAGE_CHOICES, initial="en")
    summary = _text(_("Summary of the case"), max_length=10000, rows=4)

    validation_authority_type = forms.ChoiceField(
        label=_("Type of validating authority"), choices=[("", "—"), *AuthorityType.choices], required=False,
        help_text=_("Orders of other competent authorities need prior validation by a judge, court or "
                    "prosecutor (Art. 4(1)(b) and 4(2)(b))."))
    validation_authority_name = _text(_("Name of the validating authority"), max_length=200)
    validation_reference = _text(_("Validation reference"), max_length=128)
    validation_date = forms.DateField(label=_("Date of validation"), required=False,
                                      widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    data_from = _datetime_field(_("Data from"))
    data_to = _datetime_field(_("Data to"))
    range_timezone = forms.ChoiceField(label=_("Time zone of the time range"), choices=ZONE_CHOICES, required=False)
    data_categories = forms.MultipleChoiceField(
        label=_("Data categories"), choices=DataCategory.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("Traffic and content data need a serious offence "
                                                         "(Art. 5(4))."))

    offence_description = _text(_("Description of the offence"), max_length=5000, rows=3)
    offence_legal_provisions = _text(_("Legal provisions"), max_length=2000, rows=2,
                                     help_text=_("The provisions of the criminal law and the penalty."))
    max_sentence_months = forms.IntegerField(label=_("Maximum custodial sentence (months)"), min_value=0,
                                             max_value=1200, required=False)
    listed_offence = forms.ChoiceField(label=_("Listed offence (Art. 5(4)(b))"),
                                       choices=[("", _("None of these")), *ListedOffence.choices], required=False)
    via_information_system = forms.BooleanField(
        label=_("Committed wholly or partly by means of an information system"), required=False)
    sentence_execution = forms.BooleanField(label=_("The order serves to execute a custodial sentence"),
                                            required=False)
    sentence_months = forms.IntegerField(label=_("Sentence imposed (months)"), min_value=0, max_value=1200,
                                         required=False)
    sentence_in_absentia = forms.BooleanField(label=_("Sentence imposed in absentia"), required=False)
    sentence_absconded = forms.BooleanField(label=_("The sentenced person absconded"), required=False)

    emergency = forms.BooleanField(label=_("Emergency (imminent threat to life, physical integrity or safety)"),
                                   required=False)
    emergency_reason = _text(_("Reason for the emergency"), max_length=5000, rows=3)

    confidential = forms.BooleanField(label=_("The user must not be informed (Art. 13(2))"), required=False)
    confidentiality_reason = _text(_("Reason for confidentiality"), max_length=5000, rows=2)
    delegates = forms.CharField(
        label=_("Colleagues who may see this request"), required=False, max_length=2000,
        help_text=_("E-mail addresses of colleagues of your authority, one per line. A confidential request is "
                    "seen only by you, your authority's administrators and these colleagues."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    enforcing_authority_notified = forms.BooleanField(label=_("The enforcing authority has been notified (Art. 8)"),
                                                      required=False)
    art_8_2_exception = forms.BooleanField(
        label=_("No notification: the offence is committed in the issuing State and the person resides there "
                "(Art. 8(2))"), required=False)
    person_residence_country = _country(_("Country where the person resides"))
    addressee_country = _country(_("Member State of the addressee"),
                                 _("Where the provider's establishment or legal representative is, if known."))
    suspect_named = forms.NullBooleanField(
        label=_("The order names the user as a suspect"), required=False,
        widget=forms.Select(choices=[("unknown", _("Not stated")), ("true", _("Yes")), ("false", _("No"))]))

    linked_reference = _text(_("Reference of the order this follows"), max_length=32,
                             help_text=_("The portal reference of the preservation order, e.g. LRP-2026-000042."))

    dsa_legal_basis = _text(_("Legal basis (DSA)"), max_length=2000, rows=2)
    dsa_statement_of_reasons = _text(_("Statement of reasons"), max_length=10000, rows=3)
    dsa_redress_information = _text(_("Redress information"), max_length=5000, rows=2)
    dsa_territorial_scope = _text(_("Territorial scope"), max_length=500)
    dsa_content_urls = _text(_("Exact URLs of the content"), max_length=200000, rows=3,
                             help_text=_("One URL per line."))

    order_file = forms.FileField(label=_("Signed order (PDF)"), required=False,
                                 widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
                                 help_text=_("The signed certificate or order, as a PDF."))
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, targets: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.targets = targets
        self.api_data: dict[str, Any] | None = None
        self.checked_order: CheckedUpload | None = None
        self.target_indexes: list[int] = []

    def clean_order_file(self) -> Any:
        upload = self.cleaned_data.get("order_file")
        if not upload:
            return upload
        limit = settings.UPLOAD_MAX_BYTES
        data = upload.read(limit + 1)
        upload.seek(0)
        try:
            # In the PDF sandbox (a subprocess), never in this process; kept for attachment_add.
            self.checked_order = check_uploaded_pdf(data)
        except UploadRejected as rejected:
            raise forms.ValidationError(rejected.message, code=rejected.code) from rejected
        return upload

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if (data.get("data_from") or data.get("data_to")) and not data.get("range_timezone"):
            self.add_error("range_timezone", _("Choose the time zone of the time range."))
        if data.get("sentence_execution") and data.get("sentence_months") is None:
            self.add_error("sentence_months", _("Give the sentence imposed."))
        validation_given = any(data.get(f) for f in ("validation_authority_name", "validation_reference",
                                                      "validation_date"))
        if validation_given and not data.get("validation_authority_type"):
            self.add_error("validation_authority_type", _("Choose the type of validating authority."))
        return data

    @property
    def further_fields(self) -> list[Any]:
        """The bound fields the codec generates (``codec.SCALARS``, ``generated``)."""
        return [self[s.name] for s in codec.SCALARS if s.generated]

    def to_body(self) -> dict[str, Any]:
        """The API's request body (DESIGN.md §5) from the cleaned form, through the codec."""
        d = dict(self.cleaned_data)
        zone = d.get("range_timezone") or "UTC"
        d["data_from"] = localise(d.get("data_from"), zone)
        d["data_to"] = localise(d.get("data_to"), zone)
        d["linked_reference"] = (d.get("linked_reference") or "").strip()
        d["dsa_content_urls"] = [u.strip() for u in (d.get("dsa_content_urls") or "").splitlines() if u.strip()]
        if d.get("validation_date"):
            d["validation_date"] = d["validation_date"].isoformat()
        d["targets"] = self._targets_body()
        body = codec.body_from_flat(d)
        body["delegates"] = [e for e in (d.get("delegates") or "").replace(",", " ").split() if e]
        return body

    def _targets_body(self) -> list[dict[str, Any]]:
        """Non-blank target rows; ``target_indexes[k]`` is the formset row of API target ``k``."""
        body, self.target_indexes = [], []
        for index, form in enumerate(self.targets or []):
            target = form.to_body() if form.is_valid() else None
            if target:
                body.append(target)
                self.target_indexes.append(index)
        return body

    def validate_with_api(self) -> bool:
        """Run the API serializer on the body; its errors land on the matching form fields."""
        if not (self.is_valid() and self.targets is not None and self.targets.is_valid()):
            return False
        body = json.loads(json.dumps(self.to_body(), cls=DjangoJSONEncoder))
        serializer = RequestCreateSerializer(data=body)
        if serializer.is_valid():
            self.api_data = dict(serializer.validated_data)
            return True
        from ..findings import apply_api_errors

        apply_api_errors(self, self.targets, serializer.errors)
        return False
