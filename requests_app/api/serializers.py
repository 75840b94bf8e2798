"""Shapes of the REST API v1 (DESIGN.md §5). Serializers check shape only; business rules
live in services, checks and rules."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict

from accounts.models import AuthorityType
from audit.trail import request_history

from .. import codec
from ..models import (
    DECIDING_KINDS,
    AnnexIII,
    AnnexIIIReason,
    Attachment,
    LegalRequest,
    Message,
    ResponseFile,
    ResponsePackage,
)
from ..rules.vocab import iso_country
from ..states import DataCategory, Instrument, ListedOffence, Status, TargetKind

MAX_TARGETS = 100


class ChoiceField(serializers.ChoiceField):
    """A choice field whose choices are shared, not deep-copied, by the copy DRF makes of every
    declared field for each serializer instance: the choices are constants (the model's
    TextChoices), and copying their lazy labels was a sixth of the cost of validating a request
    body (issue 9 item 5)."""

    def __deepcopy__(self, memo: Any) -> Any:
        args = [copy.deepcopy(item, memo) for item in self._args]  # type: ignore[attr-defined]
        kwargs = {key: value if key in {"choices", "validators"} else copy.deepcopy(value, memo)
                  for key, value in self._kwargs.items()}  # type: ignore[attr-defined]
        return self.__class__(*args, **kwargs)


# Instance state a serializer acquires when used; a prototype never holds it, a copy never shares it.
_USE_STATE = ("fields", "initial_data", "_validated_data", "_errors", "_data")
# Fields a field binds to itself (ListField/ListSerializer, ManyRelatedField): copied in turn.
_BOUND_CHILDREN = ("child", "child_relation")


class Prototype:
    """A field's state, taken once, from which ``copy`` makes fields equal to it.

    DRF's ``copy.deepcopy`` of a field calls the field's ``__init__`` again with deep copies of
    its arguments, for every field of every serializer instance (for a request body: ~220
    copies, 70 % of validating it; issue 9 item 5). The attributes ``__init__`` (and ``bind``)
    set are what a copy needs, so they are copied one level; what a field binds to itself (a
    list's or nested serializer's ``child``, a many-relation's ``child_relation``) is copied in
    turn and bound to the new copy, and the validators list is a list of its own. The rest
    (choices, error messages, validators, defaults) is never changed after ``__init__``, and
    DRF already shares validators between copies. A prototype's ``parent`` is never kept: a
    copy gets the parent it is given, or none (an unbound field, as ``get_fields`` returns).
    """

    __slots__ = ("children", "cls", "state")

    def __init__(self, field: serializers.Field) -> None:
        state = dict(field.__dict__)
        for name in ("parent", *_USE_STATE):
            state.pop(name, None)
        self.children = tuple((name, Prototype(state.pop(name))) for name in _BOUND_CHILDREN
                              if isinstance(state.get(name), serializers.Field))
        self.cls = type(field)
        self.state = state

    def copy(self, parent: Any = None) -> Any:
        copied = object.__new__(self.cls)
        attrs = copied.__dict__
        attrs.update(self.state)
        if "_validators" in attrs:
            attrs["_validators"] = list(attrs["_validators"])
        if "_context" in attrs:
            attrs["_context"] = dict(attrs["_context"])
        for name, child in self.children:
            attrs[name] = child.copy(copied)
        if parent is not None:
            attrs["parent"] = parent
        return copied


# A serializer whose fields are built once per class and copied for each instance: a
# ModelSerializer built its fields from the model's metadata (every reverse relation of
# ``LegalRequest`` included) for each instance, and DRF deep-copies every declared field. The
# copies ``fields`` makes are already bound (``bind`` ran once, on the prototype: it sets the
# name, label and source from the field name alone), so a serializer instance costs one
# ``Prototype.copy`` per field. No docstring here or on the two bases below: drf-spectacular
# would show it as every serializer's description.
class FieldPrototypes:

    def get_fields(self) -> dict[str, serializers.Field]:
        cls = type(self)
        prototypes = cls.__dict__.get("_field_prototypes")
        if prototypes is None:
            prototypes = {name: Prototype(field) for name, field in super().get_fields().items()}  # type: ignore[misc]
            cls._field_prototypes = prototypes  # type: ignore[attr-defined]
        return {name: prototype.copy() for name, prototype in prototypes.items()}

    @cached_property
    def fields(self) -> BindingDict:
        serializer: Any = self  # the mixin of a DRF serializer
        fields = BindingDict(serializer)
        cls = type(self)
        if cls.get_fields is not FieldPrototypes.get_fields:  # a subclass builds its own: DRF's way
            for name, field in self.get_fields().items():
                fields[name] = field
            return fields
        bound = cls.__dict__.get("_bound_prototypes")
        if bound is None:
            bound = {}
            for name, field in self.get_fields().items():
                field.bind(field_name=name, parent=serializer)
                bound[name] = Prototype(field)
            cls._bound_prototypes = bound  # type: ignore[attr-defined]
        fields.fields.update({name: prototype.copy(serializer) for name, prototype in bound.items()})
        return fields

    # DRF's own, over the field dict itself rather than through the Mapping ABC's views.
    @property
    def _writable_fields(self) -> list[serializers.Field]:
        return [field for field in self.fields.fields.values() if not field.read_only]

    @property
    def _readable_fields(self) -> list[serializers.Field]:
        return [field for field in self.fields.fields.values() if not field.write_only]


class APIDateTimeField(serializers.DateTimeField):
    """The API's date-times, read and written in the portal's zone (``TIME_ZONE``, UTC): the API
    never activates a reader's zone (accounts.middleware), so DRF's look-up of the active zone
    per value (a thread- and context-local read, ~2 % of the web's time per submission, issue 9
    item 5) always found this one."""

    def default_timezone(self) -> Any:
        return timezone.get_default_timezone()


class Serializer(FieldPrototypes, serializers.Serializer):
    pass


class ModelSerializer(FieldPrototypes, serializers.ModelSerializer):
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.DateTimeField: APIDateTimeField}


class AwareDateTimeField(APIDateTimeField):
    """A date-time that must carry its time zone: a naive IP time stamp is ambiguous by hours."""

    default_error_messages = {"naive": "Give the time zone, e.g. 2026-09-01T10:00:00+02:00 or ...Z."}

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        result = super().to_internal_value(value)
        return result.astimezone(UTC)


class TargetSerializer(Serializer):
    kind = ChoiceField(choices=TargetKind.choices)
    value = serializers.CharField(max_length=512, trim_whitespace=True)
    timestamp = AwareDateTimeField(required=False, allow_null=True, default=None)


class SentenceExecutionSerializer(Serializer):
    sentence_months = serializers.IntegerField(min_value=0, max_value=1200)
    in_absentia = serializers.BooleanField()
    absconded = serializers.BooleanField()


class OffenceSerializer(Serializer):
    description = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
    legal_provisions = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    max_sentence_months = serializers.IntegerField(min_value=0, max_value=1200, required=False, allow_null=True,
                                                   default=None)
    listed_offence = ChoiceField(choices=ListedOffence.choices, required=False, allow_null=True,
                                             default=None)
    via_information_system = serializers.BooleanField(required=False, default=False)
    sentence_execution = SentenceExecutionSerializer(required=False, allow_null=True, default=None)


class ValidationSerializer(Serializer):
    authority_type = ChoiceField(choices=AuthorityType.choices)
    authority_name = serializers.CharField(max_length=200)
    reference = serializers.CharField(max_length=128, allow_blank=True, required=False, default="")
    date = serializers.DateField(required=False, allow_null=True, default=None)


class DsaSerializer(Serializer):
    legal_basis = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    statement_of_reasons = serializers.CharField(max_length=10000, allow_blank=True, required=False, default="")
    redress_information = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
    territorial_scope = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")
    content_urls = serializers.ListField(child=serializers.CharField(max_length=2000), required=False, default=list,
                                         max_length=MAX_TARGETS)


class CountryField(serializers.RegexField):
    """ISO 3166-1 alpha-2, upper case; "" = not stated. EL → GR, UK → GB."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("default", "")
        super().__init__(r"^[A-Z]{2}$", **kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        value = super().run_validation(data)  # the pattern is checked first: "el" is refused
        return iso_country(value) if value else value


def codec_field(scalar: codec.Scalar) -> serializers.Field:
    """The input field of a ``codec.SCALARS`` entry marked ``generated``."""
    if scalar.kind == "bool":
        return serializers.BooleanField(required=False, default=False)
    if scalar.kind == "nullbool":
        return serializers.BooleanField(required=False, allow_null=True, default=None)
    if scalar.kind == "country":
        return CountryField()
    if scalar.kind == "text":
        return serializers.CharField(max_length=scalar.max_length or 5000, allow_blank=True, required=False,
                                     default="")
    if scalar.kind == "email":
        return serializers.EmailField(max_length=scalar.max_length or 254, allow_blank=True, required=False,
                                      default="")
    raise ValueError(f"no generated API field for kind {scalar.kind!r} ({scalar.name})")


# The codec's generated fields, declared on a base so the serializer below inherits them.
_CodecFields = type("_CodecFields", (Serializer,),
                    {s.name: codec_field(s) for s in codec.SCALARS if s.generated})


class RequestCreateSerializer(_CodecFields):  # type: ignore[valid-type,misc]
    """The request body of ``POST /api/v1/requests/`` (and of ``/check/``)."""

    instrument = ChoiceField(choices=Instrument.choices)
    data_categories = serializers.ListField(child=ChoiceField(choices=DataCategory.choices),
                                            required=False, default=list, max_length=4)
    targets = TargetSerializer(many=True, required=False, default=list, max_length=MAX_TARGETS)  # type: ignore[call-arg]
    data_from = AwareDateTimeField(required=False, allow_null=True, default=None)
    data_to = AwareDateTimeField(required=False, allow_null=True, default=None)
    case_reference = serializers.CharField(max_length=128)
    summary = serializers.CharField(max_length=10000, allow_blank=True, required=False, default="")
    offence = OffenceSerializer(required=False, allow_null=True, default=None)
    emergency = serializers.BooleanField(required=False, default=False)
    emergency_reason = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
    validation = ValidationSerializer(required=False, allow_null=True, default=None)
    enforcing_authority_notified = serializers.BooleanField(required=False, default=False)
    art_8_2_exception = serializers.BooleanField(required=False, default=False)
    confidential = serializers.BooleanField(required=False, default=False)
    confidentiality_reason = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")
    # Colleagues (e-mail addresses of officers of the same authority) who may see a
    # confidential request besides the submitter and the authority's administrators.
    delegates = serializers.ListField(child=serializers.EmailField(), required=False, default=list, max_length=50)
    linked_reference = serializers.CharField(max_length=32, allow_blank=True, required=False, default="")
    language = ChoiceField(choices=[(c, c) for c in (
        "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt", "lv", "mt",
        "nl", "pl", "pt", "ro", "sk", "sl", "sv")], required=False, default="en")
    dsa = DsaSerializer(required=False, allow_null=True, default=None)
    addressee_country = serializers.RegexField(r"^[A-Z]{2}$", required=False, allow_blank=True, default="")
    person_residence_country = serializers.RegexField(r"^[A-Z]{2}$", required=False, allow_blank=True, default="")
    suspect_named = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate_addressee_country(self, value: str) -> str:
        return iso_country(value) if value else value  # EL → GR, UK → GB (ISO 3166-1)

    def validate_person_residence_country(self, value: str) -> str:
        return iso_country(value) if value else value

    def validate_data_categories(self, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("Each data category may appear once.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("data_from"), attrs.get("data_to")
        if start and end and end < start:
            raise serializers.ValidationError({"data_to": ["data_to must not be before data_from."]})
        return attrs


class ClarificationSerializer(Serializer):
    """An answer to a clarification request, with optional corrections of the request."""

    message = serializers.CharField(max_length=10000)
    changes = serializers.DictField(required=False, default=dict)

    def validate_changes(self, value: dict[str, Any]) -> dict[str, Any]:
        value = dict(value)
        if "instrument" in value:
            raise serializers.ValidationError("The instrument cannot change; submit a new request instead.")
        fixed = sorted(set(value) - set(codec.AMENDABLE))
        if fixed:
            raise serializers.ValidationError(
                f"These fields cannot be changed by a clarification: {', '.join(fixed)}. Allowed: "
                f"{', '.join(codec.AMENDABLE)}."
            )
        inner = RequestCreateSerializer(data=value, partial=True)
        if not inner.is_valid():
            raise serializers.ValidationError(inner.errors)
        return {name: v for name, v in inner.validated_data.items() if name in value}


class WithdrawSerializer(Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class FindingSerializer(Serializer):
    code = serializers.CharField()
    severity = serializers.CharField()
    data_category = serializers.CharField(allow_null=True)
    legal_basis = serializers.CharField()
    message = serializers.CharField(help_text="English; a client translates by `code` and `message_params`.")
    field = serializers.CharField(allow_null=True, required=False)
    message_params = serializers.DictField(required=False, help_text=(
        "The values that fill the message of `code` (vocabulary codes, ISO 8601 instants, numbers)."))


class CategoryVerdictSerializer(Serializer):
    """Per data category: may it be disclosed/preserved, and why (issue 11 item 3)."""

    data_category = serializers.CharField()
    allowed = serializers.BooleanField()
    reason_code = serializers.CharField(help_text="'allowed' or the code of the blocking finding.")
    rule_id = serializers.CharField(allow_null=True, required=False)
    legal_basis = serializers.CharField()


class TargetVerdictSerializer(Serializer):
    """Per target (index in ``targets``): a malformed one never suspends the valid ones."""

    index = serializers.IntegerField()
    kind = serializers.CharField()
    allowed = serializers.BooleanField()
    reason_code = serializers.CharField(help_text="'allowed' or the code of the blocking finding.")
    legal_basis = serializers.CharField()


class DeadlineSerializer(Serializer):
    """One deadline the rules computed (``rules.result.Deadline``), with the rule that computed it."""

    kind = serializers.CharField(help_text="e.g. `production`, `preservation_expiry`, `ea_window_end`.")
    due_at = APIDateTimeField(help_text="UTC.")
    explanation = serializers.CharField(help_text="How the date was computed, in the time zone `time_zone`.")
    rule_applied = ChoiceField(
        choices=["hours", "calendar_days", "later_of_calendar_and_reg_1182_71", "later_of_calendar_and_local_day_end",
                 "internal_sla"],
        help_text="The counting rule (Reg. (EEC, Euratom) No 1182/71 where it applies; Fed. R. Crim. P. 45(a) "
                  "for 18 U.S.C. § 2703(f)).")
    legal_basis = serializers.CharField(allow_blank=True, help_text="The public provision that sets the period.")
    warn_at = APIDateTimeField(allow_null=True, required=False)
    informational = serializers.BooleanField(help_text="Changes no state by itself (e.g. the 48 h ex-post mark).")
    not_before = serializers.BooleanField(help_text="The earliest moment to act, not a latest one.")
    time_zone = serializers.CharField(help_text="IANA name of the zone the explanation is written in.")
    explanation_code = serializers.CharField(allow_blank=True, required=False, help_text=(
        "What the deadline is for, as a stable code; a client translates `explanation` by it and "
        "`explanation_params`, never by the English text."))
    explanation_params = serializers.DictField(required=False, help_text=(
        "The parts of `explanation`: the counting rule, instants (ISO 8601), counts and zones."))
    explanation_prefix = serializers.CharField(allow_blank=True, required=False, help_text=(
        "The outer sentence of a deadline that restates another one (e.g. the Annex III notice), or empty."))


class DecisionSerializer(Serializer):
    route = serializers.CharField()
    findings = FindingSerializer(many=True)
    rulebook_version = serializers.CharField(required=False)
    categories = CategoryVerdictSerializer(many=True, required=False)
    targets = TargetVerdictSerializer(many=True, required=False)
    deadlines = DeadlineSerializer(many=True, required=False)


class AttachmentSerializer(ModelSerializer):
    class Meta:
        model = Attachment
        # sha256/size: the rewritten copy that is served; original_*: the evidence as uploaded;
        # removed: what the rewrite took out; signatures: the original's, verified.
        fields = ["id", "kind", "original_name", "sha256", "size", "page_count", "content_type", "uploaded_at",
                  "original_sha256", "original_size", "removed", "signatures"]


class AttachmentUploadSerializer(Serializer):
    file = serializers.FileField()
    kind = ChoiceField(choices=["order", "clarification", "other"], required=False, default="order")


class MessageSerializer(ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "kind", "body", "created_at"]


class MessageCreateSerializer(Serializer):
    body = serializers.CharField(max_length=10000)


class AnnexIIIItemSerializer(Serializer):
    """Annex III section D: one item per identifier and data category (empty = the whole order)."""

    identifier = serializers.CharField()
    data_category = ChoiceField(choices=DataCategory.choices, allow_null=True, required=False)
    reasons = serializers.ListField(child=ChoiceField(choices=AnnexIIIReason.choices))
    explanation = serializers.CharField(allow_blank=True)
    legal_basis = serializers.ListField(child=serializers.CharField(), required=False,
                                        help_text="The articles the findings behind this item cite.")


class DecidedCategorySerializer(Serializer):
    data_category = ChoiceField(choices=DataCategory.choices)
    allowed = serializers.BooleanField()
    reason_code = serializers.CharField(help_text="`allowed` or the first Annex III reason.")
    legal_basis = serializers.CharField(allow_blank=True)


class DecidedTargetSerializer(Serializer):
    index = serializers.IntegerField(help_text="Position in `targets`.")
    identifier = serializers.CharField()
    categories = DecidedCategorySerializer(many=True)


class PersonDecisionSerializer(Serializer):
    """The decision a person of the legal team took and signed (the engine only proposes)."""

    outcome = ChoiceField(choices=[Status.NOT_EXECUTED, Status.REFUSED, Status.REROUTED,
                                               "partially_not_executed"],
                                      help_text="`partially_not_executed`: the categories/targets below marked "
                                                "not allowed are not executed; the request continues for the rest.")
    decided_at = APIDateTimeField()
    annex_iii_id = serializers.IntegerField(allow_null=True)
    categories = DecidedCategorySerializer(many=True, help_text="Per data category requested.")
    targets = DecidedTargetSerializer(many=True, help_text="Only the targets whose verdict differs.")


class StoredDecisionSerializer(DecisionSerializer):
    """A stored request's decision: the engine's recommendation and, once taken, the person's."""

    person_decision = PersonDecisionSerializer(allow_null=True, help_text=(
        "Null until a person of the legal team decides; the engine never refuses, it recommends."))


DECIDED_BY_A_PERSON = (Status.NOT_EXECUTED, Status.REFUSED, Status.REROUTED)
PARTIALLY_NOT_EXECUTED = "partially_not_executed"


def _when(value: datetime | None) -> str | None:
    return APIDateTimeField().to_representation(value) if value else None


def person_decision(obj: LegalRequest) -> dict[str, Any] | None:
    """What a person of the legal team decided (``PersonDecisionSerializer``), or None while
    the engine's outcome is only a recommendation."""
    forms = [f for f in obj.annex_iii.all() if f.kind in DECIDING_KINDS and f.sent_at is not None]
    if obj.status not in DECIDED_BY_A_PERSON:
        # A partial non-execution: the request continues for the rest (issue 11 item 2).
        forms = [f for f in forms if f.partial]
    form = max(forms, key=lambda f: (f.created_at, f.pk)) if forms else None
    if obj.status not in DECIDED_BY_A_PERSON and form is None:
        return None
    decided = (form.decided or {}) if form else {}
    if form is None:  # refused or rerouted without an Annex III: nothing is executed
        categories = [{"data_category": c, "allowed": False, "reason_code": obj.resolution or obj.status,
                       "legal_basis": ""} for c in DataCategory.values if c in (obj.data_categories or [])]
    else:
        categories = decided.get("categories", [])
    return {
        "outcome": obj.status if obj.status in DECIDED_BY_A_PERSON else PARTIALLY_NOT_EXECUTED,
        "decided_at": _when((form.approved_at or form.signed_at) if form else obj.status_changed_at),
        "annex_iii_id": form.pk if form else None,
        "categories": categories,
        "targets": decided.get("targets", []),
    }


class AnnexIIISerializer(ModelSerializer):
    pdf_url = serializers.SerializerMethodField()
    reasons = AnnexIIIItemSerializer(many=True, read_only=True)
    categories = serializers.SerializerMethodField()
    targets = serializers.SerializerMethodField()

    class Meta:
        model = AnnexIII
        fields = ["id", "kind", "reasons", "conflicting_obligations", "clarification_asked", "data_preserved",
                  "preserved_until", "created_at", "signed_at", "sent_at", "partial", "route_to", "categories",
                  "targets", "pdf_url"]

    @extend_schema_field(DecidedCategorySerializer(many=True))
    def get_categories(self, obj: AnnexIII) -> list[dict[str, Any]]:
        return list((obj.decided or {}).get("categories", []))

    @extend_schema_field(DecidedTargetSerializer(many=True))
    def get_targets(self, obj: AnnexIII) -> list[dict[str, Any]]:
        return list((obj.decided or {}).get("targets", []))

    def get_pdf_url(self, obj: AnnexIII) -> str:
        return f"/api/v1/requests/{obj.request.reference}/annex-iii/{obj.pk}/pdf/"


class ResponseFileSerializer(ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ResponseFile
        fields = ["id", "original_name", "sha256", "size", "content_type", "download_url"]

    def get_download_url(self, obj: ResponseFile) -> str:
        return f"/api/v1/requests/{self.context['reference']}/response/files/{obj.pk}/"


class ResponsePackageSerializer(ModelSerializer):
    files = ResponseFileSerializer(many=True, read_only=True)

    class Meta:
        model = ResponsePackage
        fields = ["cover_note", "released_at", "available_until", "files"]


class HistoryEntrySerializer(Serializer):
    status = ChoiceField(choices=Status.choices)
    from_status = serializers.CharField(allow_null=True)
    at = APIDateTimeField()


class RequestListSerializer(ModelSerializer):
    class Meta:
        model = LegalRequest
        fields = ["reference", "status", "instrument", "case_reference", "emergency", "received_at", "due_at"]


class RequestReceiptSerializer(ModelSerializer):
    """The answer to a submission (DESIGN.md §5 "Response"): the receipt, state and decision.
    The full request is at ``GET /api/v1/requests/{reference}/``."""

    decision = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    class Meta:
        model = LegalRequest
        fields = ["reference", "status", "instrument", "received_at", "due_at", "deadline_explanation",
                  "receipt_hash", "decision", "history"]

    def get_decision(self, obj: LegalRequest) -> dict[str, Any] | None:
        return RequestDetailSerializer.get_decision(self, obj)  # type: ignore[arg-type]

    def get_history(self, obj: LegalRequest) -> list[dict[str, Any]]:
        return RequestDetailSerializer.get_history(self, obj)  # type: ignore[arg-type]


class RequestDetailSerializer(ModelSerializer):
    """Everything the authority may see. Never internal legal notes."""

    targets = TargetSerializer(many=True, read_only=True)
    data_categories = serializers.ListField(child=ChoiceField(choices=DataCategory.choices),
                                            read_only=True)
    offence = serializers.SerializerMethodField()
    validation = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)
    messages = MessageSerializer(many=True, read_only=True)
    annex_iii = serializers.SerializerMethodField()
    delegates: serializers.Field = serializers.SlugRelatedField(many=True, read_only=True, slug_field="email")

    class Meta:
        model = LegalRequest
        fields = [
            "reference", "status", "resolution", "instrument", "received_at", "due_at", "deadline_explanation",
            "receipt_hash", "decision", "history",
            # The body's fields, in the codec's order (each SCALARS entry is output here).
            *(name for name in codec.BODY_FIELDS if name != "instrument"),
            "attachments", "messages", "annex_iii", "delegates",
        ]

    def get_offence(self, obj: LegalRequest) -> dict[str, Any]:
        return codec.offence_of(obj)

    def get_validation(self, obj: LegalRequest) -> dict[str, Any] | None:
        return codec.validation_of(obj)

    @extend_schema_field(AnnexIIISerializer(many=True))
    def get_annex_iii(self, obj: LegalRequest) -> list[dict[str, Any]]:
        """The forms sent to the authority; a draft awaiting a second person's approval is not."""
        sent = [f for f in obj.annex_iii.all() if f.sent_at is not None]
        return list(AnnexIIISerializer(sent, many=True, context=self.context).data)

    @extend_schema_field(StoredDecisionSerializer(allow_null=True))
    def get_decision(self, obj: LegalRequest) -> dict[str, Any] | None:
        if not obj.decision:
            return None
        keep = ("code", "severity", "data_category", "legal_basis", "message", "field", "annex_iii_reason",
                "message_params")
        return {
            "route": obj.decision.get("route"),
            "findings": [{**{k: f.get(k) for k in keep}, "message_params": f.get("message_params") or {}}
                         for f in obj.decision.get("findings", [])],
            "verdicts": obj.decision.get("verdicts", []),
            "categories": obj.decision.get("categories", obj.decision.get("verdicts", [])),
            "targets": obj.decision.get("targets", []),
            "deadlines": obj.decision.get("deadlines", []),
            "rulebook_version": obj.decision.get("rulebook_version"),
            # The engine recommends; this is what a person decided (null until then).
            "person_decision": person_decision(obj),
        }

    def get_history(self, obj: LegalRequest) -> list[dict[str, Any]]:
        history = self.context.get("history")
        if history is None:
            history = request_history(obj.pk)
        # What ``HistoryEntrySerializer(history, many=True).data`` gives, without building the
        # ListSerializer around it for each response: its entries are the child's representations.
        entry = HistoryEntrySerializer()
        return [entry.to_representation(item) for item in history]
