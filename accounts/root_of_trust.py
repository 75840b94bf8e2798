"""Changes of the root of trust, with a second person (issue 14 item 3).

Everything the portal trusts about an issuer comes from a few fields: an authority's
switchboard number (the emergency call-back number), its e-mail domains (who may sign up),
its type and country (what the rules engine applies) and its vetting status; an officer's
authority and authority-administrator flag (whose requests they see and whom they approve).
A single compromised or mistaken staff account must not be able to change them: one member
of the legal team proposes the exact values, a second approves or refuses them, and each
step is an audit event (four-eyes principle; NIS2 Directive (EU) 2022/2555 Art. 21(2)(i),
access control; OWASP ASVS 4.0.3 V1.4.3 / V4.1.x separation of duties).

Lowering trust stays immediate and single-person (``services.authority_suspend``,
``officer_deactivate``): a suspected compromise must be stopped at once.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit import trail as audit

from .models import (
    ApiToken,
    Authority,
    AuthorityRegistrationRequest,
    AuthorityType,
    ChangeKind,
    ChangeStatus,
    RegistrationStatus,
    RootOfTrustChange,
    User,
    VettingStatus,
)
from .roles import is_legal_admin

AUTHORITY_FIELDS = ("switchboard_phone", "email_domains", "authority_type", "country", "vetting_status")
OFFICER_FIELDS = ("authority", "is_authority_admin")
PHONE_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _require_legal_admin(actor: Any) -> None:
    if not is_legal_admin(actor):
        raise PermissionDenied("Only a legal administrator may propose or decide a root-of-trust change.")


def clean_phone(value: Any) -> str:
    phone = re.sub(r"[\s\-().]", "", str(value or ""))
    if not PHONE_RE.match(phone):
        raise ValidationError(f"{value!r} is not an international number (E.164, e.g. +33140975050).")
    return phone


def clean_domains(value: Any) -> list[str]:
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value or [])
    domains = sorted({str(d).strip().lower().lstrip("@") for d in items if str(d).strip()})
    if not domains:
        raise ValidationError("Give at least one e-mail domain.")
    bad = [d for d in domains if not DOMAIN_RE.match(d)]
    if bad:
        raise ValidationError(f"Not a domain name: {', '.join(bad)}.")
    return domains


def _clean_authority_value(field: str, value: Any) -> Any:
    if field == "switchboard_phone":
        return clean_phone(value)
    if field == "email_domains":
        return clean_domains(value)
    if field == "authority_type":
        if value not in AuthorityType.values:
            raise ValidationError(f"Unknown authority type {value!r}; one of {', '.join(AuthorityType.values)}.")
        return value
    if field == "country":
        country = str(value or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise ValidationError("country must be an ISO 3166-1 alpha-2 code.")
        return country
    if field == "vetting_status":
        if value not in VettingStatus.values:
            raise ValidationError(f"Unknown vetting status {value!r}; one of {', '.join(VettingStatus.values)}.")
        return value
    raise ValidationError(f"{field!r} is not a root-of-trust field of an authority.")


def _authority_values(authority: Authority) -> dict[str, Any]:
    return {f: getattr(authority, f) for f in AUTHORITY_FIELDS}


def _officer_values(officer: User) -> dict[str, Any]:
    return {"authority": officer.authority_id, "is_authority_admin": officer.is_authority_admin}


def change_digest(change: RootOfTrustChange) -> str:
    """What the approver saw: the target and the exact proposed and replaced values."""
    payload = {"id": change.pk, "kind": change.kind, "authority": change.authority_id, "officer": change.officer_id,
               "registration": change.registration_id, "changes": change.changes, "previous": change.previous}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _no_open_change(**target: Any) -> None:
    if RootOfTrustChange.objects.filter(status=ChangeStatus.PROPOSED, **target).exists():
        raise ValidationError("A change of this record is already awaiting a second person; decide it first.")


def _proposed(actor: Any, change: RootOfTrustChange) -> RootOfTrustChange:
    change.save()
    audit.record("root_of_trust.proposed", actor=actor, obj=change,
                 authority_id=change.authority_id or (change.officer.authority_id if change.officer else None),
                 data={"kind": change.kind, "target": str(change.authority_id or change.officer_id
                                                          or change.registration_id),
                       "changes": change.changes, "previous": change.previous, "reason": change.reason})
    return change


def authority_change_propose(*, actor: Any, authority: Authority, changes: dict[str, Any],
                             reason: str) -> RootOfTrustChange:
    """Propose new values for an authority's root-of-trust fields; nothing changes yet."""
    _require_legal_admin(actor)
    if not reason.strip():
        raise ValidationError("Give the reason for the change and where the new values were verified.")
    cleaned = {field: _clean_authority_value(field, value) for field, value in changes.items()}
    with transaction.atomic():
        current = Authority.objects.select_for_update().get(pk=authority.pk)
        previous = _authority_values(current)
        cleaned = {f: v for f, v in cleaned.items() if previous[f] != v}
        if not cleaned:
            raise ValidationError("The proposed values are the current ones: nothing to change.")
        _no_open_change(authority=current)
        change = RootOfTrustChange(kind=ChangeKind.AUTHORITY, authority=current, changes=cleaned,
                                   previous={f: previous[f] for f in cleaned}, reason=reason.strip(),
                                   proposed_by=actor)
        return _proposed(actor, change)


def authority_restore_propose(*, actor: Any, authority: Authority, reason: str) -> RootOfTrustChange:
    """Propose to put a suspended (or pending) authority back to verified."""
    if authority.vetting_status == VettingStatus.REVOKED:
        raise ValidationError("A revoked authority is not restored; register it again after vetting.")
    return authority_change_propose(actor=actor, authority=authority,
                                    changes={"vetting_status": VettingStatus.VERIFIED}, reason=reason)


def officer_change_propose(*, actor: Any, officer: User, changes: dict[str, Any], reason: str) -> RootOfTrustChange:
    """Propose another authority for an officer, or setting/clearing the administrator flag."""
    _require_legal_admin(actor)
    if officer.authority_id is None:
        raise ValidationError("Only an officer of an authority has these fields.")
    if not reason.strip():
        raise ValidationError("Give the reason for the change.")
    cleaned: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "authority":
            target = Authority.objects.filter(pk=getattr(value, "pk", value)).first()
            if target is None:
                raise ValidationError("Unknown authority.")
            if not target.accepts_email(officer.email):
                raise ValidationError(f"{officer.email} is not on a domain of {target.name}.")
            cleaned["authority"] = target.pk
        elif field == "is_authority_admin":
            if not isinstance(value, bool):
                raise ValidationError("is_authority_admin is true or false.")
            cleaned["is_authority_admin"] = value
        else:
            raise ValidationError(f"{field!r} is not a root-of-trust field of an officer.")
    with transaction.atomic():
        current = User.objects.select_for_update().get(pk=officer.pk)
        previous = _officer_values(current)
        cleaned = {f: v for f, v in cleaned.items() if previous[f] != v}
        if not cleaned:
            raise ValidationError("The proposed values are the current ones: nothing to change.")
        _no_open_change(officer=current)
        change = RootOfTrustChange(kind=ChangeKind.OFFICER, officer=current, changes=cleaned,
                                   previous={f: previous[f] for f in cleaned}, reason=reason.strip(),
                                   proposed_by=actor)
        return _proposed(actor, change)


def registration_propose(*, actor: Any, registration: AuthorityRegistrationRequest, verified_phone: str,
                         official_source: str) -> RootOfTrustChange:
    """Propose to register an authority. The reviewer types the switchboard number they found in
    an official source themselves; the registrant's number is only a claim and is never used."""
    _require_legal_admin(actor)
    if registration.status != RegistrationStatus.PENDING:
        raise ValidationError("This registration request was already decided.")
    if not official_source.strip():
        raise ValidationError("Say where you verified the switchboard number (official directory, registry).")
    values = {
        "name": registration.authority_name,
        "country": _clean_authority_value("country", registration.country),
        "authority_type": _clean_authority_value("authority_type", registration.authority_type),
        "email_domains": clean_domains([registration.email_domain]),
        "switchboard_phone": clean_phone(verified_phone),
        "verified_source": official_source.strip(),
    }
    with transaction.atomic():
        _no_open_change(registration=registration)
        change = RootOfTrustChange(kind=ChangeKind.REGISTRATION, registration=registration, changes=values,
                                   previous={"claimed_switchboard_phone": registration.switchboard_phone},
                                   reason=f"Registration vetted; number verified at {values['verified_source']}",
                                   proposed_by=actor)
        return _proposed(actor, change)


def _locked_open(change: RootOfTrustChange, actor: Any) -> RootOfTrustChange:
    locked = RootOfTrustChange.objects.select_for_update().get(pk=change.pk)
    if locked.status != ChangeStatus.PROPOSED:
        raise ValidationError("This change was already decided.")
    if locked.proposed_by_id == getattr(actor, "pk", None):
        raise PermissionDenied("A second person decides a change: not the one who proposed it.")
    return locked


def change_approve(*, actor: Any, change: RootOfTrustChange, digest: str, note: str = "") -> RootOfTrustChange:
    """The second person approves the values they were shown (``digest`` of ``change_digest``);
    the change is applied in the same transaction. A record that changed since the proposal, or
    a proposal that is not the one shown, is refused with nothing changed."""
    _require_legal_admin(actor)
    from . import services

    ended: set[int] = set()
    with transaction.atomic():
        locked = _locked_open(change, actor)
        if digest != change_digest(locked):
            raise ValidationError("The proposal is not the one you were shown; look at it again.")
        applied_to: Any
        if locked.kind == ChangeKind.AUTHORITY:
            authority = Authority.objects.select_for_update().get(pk=int(locked.authority_id or 0))
            if any(getattr(authority, f) != v for f, v in locked.previous.items()):
                raise ValidationError("The authority changed since this was proposed; refuse it and propose again.")
            plain = {f: v for f, v in locked.changes.items() if f != "vetting_status"}
            if plain:
                Authority.objects.filter(pk=authority.pk).update(**plain)
            if "vetting_status" in locked.changes:
                ended = services._apply_vetting(actor=actor, authority=authority,
                                                status=locked.changes["vetting_status"], reason=locked.reason)
            applied_to = authority
            authority_id: int | None = authority.pk
        elif locked.kind == ChangeKind.OFFICER:
            officer = User.objects.select_for_update().get(pk=int(locked.officer_id or 0))
            if any(_officer_values(officer)[f] != v for f, v in locked.previous.items()):
                raise ValidationError("The officer changed since this was proposed; refuse it and propose again.")
            updates = {("authority_id" if f == "authority" else f): v for f, v in locked.changes.items()}
            User.objects.filter(pk=officer.pk).update(**updates)
            if "authority" in locked.changes:
                # Another authority: nothing of the old one may stay reachable through a token or session.
                ApiToken.objects.filter(user=officer, revoked_at__isnull=True).update(revoked_at=timezone.now())
                ended = {officer.pk}
            applied_to = officer
            authority_id = officer.authority_id
        else:
            registrations = AuthorityRegistrationRequest.objects.select_for_update()
            registration = registrations.get(pk=int(locked.registration_id or 0))
            if registration.status != RegistrationStatus.PENDING:
                raise ValidationError("This registration request was already decided.")
            values = locked.changes
            applied_to = services.authority_create(
                actor=actor, name=values["name"], country=values["country"],
                authority_type=values["authority_type"], domains=values["email_domains"],
                switchboard_phone=values["switchboard_phone"], verified=True)
            registration.status = RegistrationStatus.REGISTERED
            registration.decided_by = actor
            registration.decided_at = timezone.now()
            registration.save(update_fields=["status", "decided_by", "decided_at"])
            locked.authority = applied_to
            authority_id = applied_to.pk
        locked.status = ChangeStatus.APPLIED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_note = note.strip()
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "authority"])
        audit.record("root_of_trust.approved", actor=actor, obj=locked, authority_id=authority_id,
                     data={"kind": locked.kind, "target": f"{applied_to._meta.label_lower}:{applied_to.pk}",
                           "changes": locked.changes, "previous": locked.previous,
                           "proposed_by": locked.proposed_by_id, "note": note.strip()})
    if ended:
        services._end_sessions_of(ended)
    change.refresh_from_db()
    return change


def change_refuse(*, actor: Any, change: RootOfTrustChange, note: str) -> RootOfTrustChange:
    """The second person refuses; nothing changes."""
    _require_legal_admin(actor)
    if not note.strip():
        raise ValidationError("Give the reason for refusing.")
    with transaction.atomic():
        locked = _locked_open(change, actor)
        locked.status = ChangeStatus.REFUSED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_note = note.strip()
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit.record("root_of_trust.refused", actor=actor, obj=locked,
                     authority_id=locked.authority_id or (locked.officer.authority_id if locked.officer else None),
                     data={"kind": locked.kind, "changes": locked.changes, "note": note.strip(),
                           "proposed_by": locked.proposed_by_id})
    change.refresh_from_db()
    return change
