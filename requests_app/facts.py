"""Build the plain facts the pure checks and rules work on, from stored or submitted data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .models import LegalRequest
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
from .states import Instrument, Status

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


def facts_from_data(data: dict[str, Any], *, authority: Any, received_at: datetime,
                    linked: LegalRequest | None = None, exclude_pk: int | None = None) -> RequestFacts:
    """Facts from the validated API body (``data``) and the verified authority record."""
    offence = data.get("offence") or None
    sentence = (offence or {}).get("sentence_execution") or None
    validation = data.get("validation") or None
    dsa = data.get("dsa") or None
    return RequestFacts(
        instrument=data["instrument"],
        issuer=Issuer(authority_type=authority.authority_type, country=authority.country),
        received_at=received_at,
        data_categories=frozenset(data.get("data_categories") or ()),
        targets=tuple(
            Target(kind=t["kind"], value=t["value"], timestamp=t.get("timestamp")) for t in data.get("targets") or ()
        ),
        data_from=data.get("data_from"),
        data_to=data.get("data_to"),
        case_reference=data.get("case_reference") or "",
        summary=data.get("summary") or "",
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
        emergency=bool(data.get("emergency")),
        emergency_reason=data.get("emergency_reason") or "",
        validation=Validation(
            authority_type=validation["authority_type"],
            authority_name=validation.get("authority_name") or "",
            reference=validation.get("reference") or "",
            date=validation.get("date"),
        ) if validation else None,
        enforcing_authority_notified=bool(data.get("enforcing_authority_notified")),
        art_8_2_exception=bool(data.get("art_8_2_exception")),
        confidential=bool(data.get("confidential")),
        confidentiality_reason=data.get("confidentiality_reason") or "",
        linked=linked_facts(linked, exclude_pk=exclude_pk),
        language=data.get("language") or "",
        dsa=DsaDetails(
            legal_basis=dsa.get("legal_basis") or "",
            statement_of_reasons=dsa.get("statement_of_reasons") or "",
            redress_information=dsa.get("redress_information") or "",
            territorial_scope=dsa.get("territorial_scope") or "",
            content_urls=tuple(dsa.get("content_urls") or ()),
        ) if dsa else None,
        addressee_country=data.get("addressee_country") or None,
        person_residence_country=data.get("person_residence_country") or None,
        suspect_named=data.get("suspect_named"),
    )


def request_data(request: LegalRequest) -> dict[str, Any]:
    """The stored request as the contract's body (the inverse of ``services.submission``)."""
    offence = None
    if request.offence_description or request.offence_legal_provisions or request.max_sentence_months is not None \
            or request.listed_offence or request.sentence_months is not None:
        offence = {
            "description": request.offence_description,
            "legal_provisions": request.offence_legal_provisions,
            "max_sentence_months": request.max_sentence_months,
            "listed_offence": request.listed_offence or None,
            "via_information_system": request.via_information_system,
            "sentence_execution": request.sentence_execution,
        }
    return {
        "instrument": request.instrument,
        "data_categories": list(request.data_categories),
        "targets": [{"kind": t.kind, "value": t.value, "timestamp": t.timestamp} for t in request.targets.all()],
        "data_from": request.data_from,
        "data_to": request.data_to,
        "case_reference": request.case_reference,
        "summary": request.summary,
        "offence": offence,
        "emergency": request.emergency,
        "emergency_reason": request.emergency_reason,
        "validation": request.validation,
        "enforcing_authority_notified": request.enforcing_authority_notified,
        "art_8_2_exception": request.art_8_2_exception,
        "confidential": request.confidential,
        "confidentiality_reason": request.confidentiality_reason,
        "linked_reference": request.linked_reference,
        "language": request.language,
        "dsa": request.dsa,
        "addressee_country": request.addressee_country,
        "person_residence_country": request.person_residence_country,
        "suspect_named": request.suspect_named,
    }


def facts_from_request(request: LegalRequest) -> RequestFacts:
    return facts_from_data(
        request_data(request),
        authority=request.authority,
        received_at=request.received_at,
        linked=request.linked_request,
        exclude_pk=request.pk,
    )
