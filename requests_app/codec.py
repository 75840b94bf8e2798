"""The one request codec: API body ⇄ model fields (+ targets) ⇄ the rules' ``RequestFacts``.

Every face of a request goes through here: ``request_submit`` and ``clarification_submit``
(body → model), the API output and the correction form's prefill (model → body / flat), the
web form (flat → body) and the validation task and the live check (body/model → facts).

Three shapes:

- **body**: the contract's request body (DESIGN.md §5), nested ``offence``, ``validation``,
  ``dsa`` and ``targets``;
- **model fields**: the ``LegalRequest`` columns (nested objects flattened);
- **flat**: the model fields plus the form's own switches (``sentence_execution``, the
  ``dsa_*`` parts), the shape of the web form and of its prefill.

Adding a simple field (text, yes/no, optional yes/no, country) is one entry in ``SCALARS``
plus a migration of the ``LegalRequest`` column: the API serializer and the web form build
its input field from the entry (``generated``), the API output lists it, the prefill fills
it, a clarification may amend it and the facts receive it when ``RequestFacts`` has a field
of that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from .rules.model import (
    DsaDetails,
    Issuer,
    LinkedRequest,
    Offence,
    RequestFacts,
    SentenceExecution,
    Target,
    Validation,
)
from .states import DSA_INSTRUMENTS, Instrument, Status

if TYPE_CHECKING:
    from .models import LegalRequest


@dataclass(frozen=True)
class Scalar:
    """A top-level body field stored in the ``LegalRequest`` column of the same name.

    ``kind``: ``text``, ``bool``, ``nullbool`` (None = not stated), ``country`` (ISO 3166-1
    alpha-2, "" = not stated), ``email`` ("" = none), ``datetime``, ``categories``. ``generated``: the API serializer
    and the web form build their field from this entry (otherwise they declare it by hand,
    e.g. a required field or one with a time-zone picker). ``amendable``: a clarification
    answer may correct it.
    """

    name: str
    kind: str
    amendable: bool = True
    generated: bool = False
    label: Any = ""
    help_text: Any = ""
    max_length: int = 0
    default: Any = None  # the model's value when the body leaves it out (kind default if None)


SCALARS: tuple[Scalar, ...] = (
    Scalar("data_categories", "categories"),
    Scalar("data_from", "datetime"),
    Scalar("data_to", "datetime"),
    Scalar("case_reference", "text"),
    Scalar("summary", "text"),
    Scalar("language", "text", amendable=False, default="en"),
    Scalar("emergency", "bool", amendable=False),
    Scalar("emergency_reason", "text"),
    Scalar("enforcing_authority_notified", "bool"),
    # Art. 8(1): where the enforcing authority was notified, its contact receives a copy of any
    # Annex III sent on the request (Art. 10(5)-(6), 11(4)-(5)).
    Scalar("enforcing_authority_email", "email", generated=True,
           label=_("E-mail address of the notified enforcing authority"),
           help_text=_("Where the enforcing authority was notified (Art. 8), it receives a copy of any Annex III "
                       "form the provider sends on this request."), max_length=254),
    Scalar("art_8_2_exception", "bool"),
    Scalar("confidential", "bool"),
    Scalar("confidentiality_reason", "text"),
    Scalar("linked_reference", "text"),
    Scalar("addressee_country", "country"),
    Scalar("person_residence_country", "country"),
    Scalar("suspect_named", "nullbool"),
    # Art. 8(2)(a): the Member State where the offence was committed (the notification of
    # the enforcing authority is not needed when it is the issuing State).
    Scalar("offence_country", "country", generated=True, label=_("Country where the offence was committed"),
           help_text=_("Two-letter code. Art. 8(2)(a) of Regulation (EU) 2023/1543."), max_length=2),
    # Art. 7(2): in an emergency, another establishment may be addressed only where the
    # designated establishment or legal representative did not react within the deadline.
    Scalar("designated_unresponsive", "bool", generated=True,
           label=_("Our designated establishment or legal representative did not react to the emergency order "
                   "in time (Art. 7(2))")),
)
SCALAR_BY_NAME = {s.name: s for s in SCALARS}

# Nested body objects and the model columns each one fills.
GROUPS: dict[str, tuple[str, ...]] = {
    "offence": ("offence_description", "offence_legal_provisions", "max_sentence_months", "listed_offence",
                "via_information_system", "sentence_months", "sentence_in_absentia", "sentence_absconded"),
    "validation": ("validation_authority_type", "validation_authority_name", "validation_reference",
                   "validation_date"),
    "dsa": ("dsa",),
}
DSA_PARTS = ("legal_basis", "statement_of_reasons", "redress_information", "territorial_scope", "content_urls")

# The body fields: instrument, the scalars, the nested objects and the targets.
BODY_FIELDS: tuple[str, ...] = ("instrument", *(s.name for s in SCALARS), *GROUPS, "targets")
# Fields an authority may correct when it answers a clarification request. Not among them:
# instrument, emergency, language (a different order, or an escalation, is a new request).
AMENDABLE: tuple[str, ...] = ("targets", *(s.name for s in SCALARS if s.amendable), *GROUPS)
# Every model column the body fills (besides ``instrument`` and the ``Target`` rows).
MODEL_FIELDS: tuple[str, ...] = (*(s.name for s in SCALARS), *(f for cols in GROUPS.values() for f in cols))

_FACT_NAMES = {f.name for f in dataclass_fields(RequestFacts)}


def _kind_default(scalar: Scalar) -> Any:
    if scalar.default is not None:
        return scalar.default
    return {"text": "", "email": "", "country": "", "bool": False, "nullbool": None, "datetime": None,
            "categories": []}[scalar.kind]


def _scalar_to_model(scalar: Scalar, value: Any) -> Any:
    if scalar.kind == "bool":
        return bool(value)
    if scalar.kind == "categories":
        return list(value or [])
    if scalar.kind in ("nullbool", "datetime"):
        return value
    return value or _kind_default(scalar)


# ---------------------------------------------------------------------------- body → model

def _offence_fields(offence: dict[str, Any] | None) -> dict[str, Any]:
    offence = offence or {}
    sentence = offence.get("sentence_execution") or {}
    return {
        "offence_description": offence.get("description") or "",
        "offence_legal_provisions": offence.get("legal_provisions") or "",
        "max_sentence_months": offence.get("max_sentence_months"),
        "listed_offence": offence.get("listed_offence") or "",
        "via_information_system": bool(offence.get("via_information_system")),
        "sentence_months": sentence.get("sentence_months"),
        "sentence_in_absentia": sentence.get("in_absentia") if sentence else None,
        "sentence_absconded": sentence.get("absconded") if sentence else None,
    }


def _validation_fields(validation: dict[str, Any] | None) -> dict[str, Any]:
    validation = validation or {}
    return {
        "validation_authority_type": validation.get("authority_type") or "",
        "validation_authority_name": validation.get("authority_name") or "",
        "validation_reference": validation.get("reference") or "",
        "validation_date": validation.get("date"),
    }


def model_fields(body: dict[str, Any], *, only: Any = None) -> dict[str, Any]:
    """``LegalRequest`` column values from a body. ``only``: the body fields to map (a
    clarification's corrections); by default every field, absent ones at their default."""
    names = set(BODY_FIELDS) if only is None else set(only)
    fields: dict[str, Any] = {}
    for scalar in SCALARS:
        if scalar.name in names:
            fields[scalar.name] = _scalar_to_model(scalar, body.get(scalar.name))
    if "offence" in names:
        fields.update(_offence_fields(body.get("offence")))
    if "validation" in names:
        fields.update(_validation_fields(body.get("validation")))
    if "dsa" in names:
        fields["dsa"] = body.get("dsa") or None
    return fields


def target_rows(body_targets: Any) -> list[dict[str, Any]]:
    """The ``Target`` rows (kind, value, timestamp) of a body's ``targets``."""
    return [{"kind": t["kind"], "value": t["value"].strip(), "timestamp": t.get("timestamp")}
            for t in body_targets or []]


# ---------------------------------------------------------------------------- model → flat → body

def flat_from_request(request: LegalRequest) -> dict[str, Any]:
    """The stored request in the flat shape (model columns + the form's switches)."""
    flat: dict[str, Any] = {name: getattr(request, name) for name in MODEL_FIELDS}
    flat["instrument"] = request.instrument
    flat["data_categories"] = list(request.data_categories)
    flat["sentence_execution"] = request.sentence_months is not None
    dsa = request.dsa
    flat["dsa_given"] = dsa is not None
    for part in DSA_PARTS:
        flat[f"dsa_{part}"] = (dsa or {}).get(part, [] if part == "content_urls" else "")
    flat["targets"] = [{"kind": t.kind, "value": t.value, "timestamp": t.timestamp} for t in request.targets.all()]
    return flat


def offence_body(flat: dict[str, Any], *, always: bool = False) -> dict[str, Any] | None:
    """The body's ``offence`` from flat data; None when nothing of it is given (unless ``always``)."""
    given = (bool(flat.get("offence_description")) or bool(flat.get("offence_legal_provisions"))
             or flat.get("max_sentence_months") is not None or bool(flat.get("listed_offence"))
             or bool(flat.get("via_information_system")) or bool(flat.get("sentence_execution")))
    if not (given or always):
        return None
    return {
        "description": flat.get("offence_description") or "",
        "legal_provisions": flat.get("offence_legal_provisions") or "",
        "max_sentence_months": flat.get("max_sentence_months"),
        "listed_offence": flat.get("listed_offence") or None,
        "via_information_system": bool(flat.get("via_information_system")),
        "sentence_execution": {
            "sentence_months": flat.get("sentence_months"),
            "in_absentia": bool(flat.get("sentence_in_absentia")),
            "absconded": bool(flat.get("sentence_absconded")),
        } if flat.get("sentence_execution") else None,
    }


def validation_body(flat: dict[str, Any]) -> dict[str, Any] | None:
    if not flat.get("validation_authority_type"):
        return None
    return {
        "authority_type": flat["validation_authority_type"],
        "authority_name": flat.get("validation_authority_name") or "",
        "reference": flat.get("validation_reference") or "",
        "date": flat.get("validation_date"),
    }


def dsa_body(flat: dict[str, Any]) -> dict[str, Any] | None:
    if not (flat.get("dsa_given") or flat.get("instrument") in DSA_INSTRUMENTS):
        return None
    return {part: list(flat.get(f"dsa_{part}") or []) if part == "content_urls" else flat.get(f"dsa_{part}") or ""
            for part in DSA_PARTS}


def body_from_flat(flat: dict[str, Any]) -> dict[str, Any]:
    """The contract's body from flat data (the web form's cleaned data, a stored request)."""
    body: dict[str, Any] = {"instrument": flat.get("instrument")}
    for scalar in SCALARS:
        value = _scalar_to_model(scalar, flat.get(scalar.name))
        body[scalar.name] = value.upper() if scalar.kind == "country" else value
    body["offence"] = offence_body(flat)
    body["validation"] = validation_body(flat)
    body["dsa"] = dsa_body(flat)
    body["targets"] = [dict(t) for t in flat.get("targets") or []]
    return body


def offence_of(request: LegalRequest) -> dict[str, Any]:
    """The stored request's ``offence`` as the API shows it (always an object)."""
    flat = {name: getattr(request, name) for name in GROUPS["offence"]}
    return offence_body({**flat, "sentence_execution": request.sentence_months is not None}, always=True) or {}


def validation_of(request: LegalRequest) -> dict[str, Any] | None:
    return validation_body({name: getattr(request, name) for name in GROUPS["validation"]})


def request_body(request: LegalRequest) -> dict[str, Any]:
    """The stored request as the contract's body (the inverse of ``model_fields``)."""
    return body_from_flat(flat_from_request(request))


def empty_body(**given: Any) -> dict[str, Any]:
    """A body with every field at its default, to complete (the mailbox's conversion form)."""
    return {**body_from_flat({}), **given}


# ---------------------------------------------------------------------------- → facts

# Follow-ups that count once they passed validation.
_SETTLED = {Status.CLARIFICATION_REQUESTED, Status.NOT_EXECUTED, Status.REROUTED, Status.WITHDRAWN,
            Status.REFUSED, Status.RECEIVED, Status.VALIDATING}


def linked_facts(linked: LegalRequest | None, *, exclude_pk: int | None = None) -> LinkedRequest | None:
    if linked is None:
        return None
    follow_ups = [f for f in linked.follow_ups.all() if f.pk != exclude_pk and f.status not in _SETTLED]
    return LinkedRequest(
        reference=linked.reference,
        instrument=linked.instrument,
        received_at=linked.received_at,
        status=linked.status,
        preservation_expires_at=linked.due_at if linked.lifecycle == "preservation" else None,
        extensions_count=sum(f.instrument == Instrument.PRESERVATION_EXTENSION for f in follow_ups),
        confirmed=any(f.instrument == Instrument.PRODUCTION_CONFIRMATION for f in follow_ups),
    )


def _scalar_fact(scalar: Scalar, value: Any) -> Any:
    if scalar.kind == "categories":
        return frozenset(value or ())
    if scalar.kind == "country":
        return value or None
    if scalar.kind == "bool":
        return bool(value)
    if scalar.kind in ("nullbool", "datetime"):
        return value
    return value or ""


def facts(body: dict[str, Any], *, authority: Any, received_at: datetime,
          linked: LegalRequest | None = None, exclude_pk: int | None = None) -> RequestFacts:
    """Facts from a validated body and the verified authority record (never the body's issuer)."""
    offence = body.get("offence") or None
    sentence = (offence or {}).get("sentence_execution") or None
    validation = body.get("validation") or None
    dsa = body.get("dsa") or None
    scalars = {s.name: _scalar_fact(s, body.get(s.name)) for s in SCALARS if s.name in _FACT_NAMES}
    return RequestFacts(
        instrument=body["instrument"],
        issuer=Issuer(authority_type=authority.authority_type, country=authority.country,
                      region=getattr(authority, "region", "") or None),
        received_at=received_at,
        targets=tuple(Target(kind=t["kind"], value=t["value"], timestamp=t.get("timestamp"))
                      for t in body.get("targets") or ()),
        offence=Offence(
            description=offence.get("description") or "",
            legal_provisions=offence.get("legal_provisions") or "",
            max_sentence_months=offence.get("max_sentence_months"),
            listed_offence=offence.get("listed_offence") or None,
            via_information_system=bool(offence.get("via_information_system")),
            sentence_execution=SentenceExecution(
                sentence_months=sentence["sentence_months"],
                in_absentia=bool(sentence.get("in_absentia")),
                absconded=bool(sentence.get("absconded")),
            ) if sentence else None,
        ) if offence else None,
        validation=Validation(
            authority_type=validation["authority_type"],
            authority_name=validation.get("authority_name") or "",
            reference=validation.get("reference") or "",
            date=validation.get("date"),
        ) if validation else None,
        linked=linked_facts(linked, exclude_pk=exclude_pk),
        dsa=DsaDetails(
            legal_basis=dsa.get("legal_basis") or "",
            statement_of_reasons=dsa.get("statement_of_reasons") or "",
            redress_information=dsa.get("redress_information") or "",
            territorial_scope=dsa.get("territorial_scope") or "",
            content_urls=tuple(dsa.get("content_urls") or ()),
        ) if dsa else None,
        **scalars,
    )


def facts_from_request(request: LegalRequest) -> RequestFacts:
    return facts(request_body(request), authority=request.authority, received_at=request.received_at,
                 linked=request.linked_request, exclude_pk=request.pk)
