"""Authorities, officers and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import trail as audit
from outbox import relay as outbox

from .models import ApiToken, ApprovalStatus, Authority, AuthorityType, User, VettingStatus
from .standing import require_standing, standing_problem
from .token_lookup import find_token

TOKEN_PREFIX = "lrp_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def authority_create(*, actor: Any = None, name: str, country: str, authority_type: str,
                     domains: list[str], switchboard_phone: str, verified: bool = True) -> Authority:
    country = country.upper()
    if authority_type not in AuthorityType.values:
        raise ValidationError(f"Unknown authority type {authority_type!r}; one of {', '.join(AuthorityType.values)}.")
    if len(country) != 2 or not country.isalpha():
        raise ValidationError("country must be an ISO 3166-1 alpha-2 code.")
    with transaction.atomic():
        authority = Authority.objects.create(
            name=name,
            country=country,
            authority_type=authority_type,
            email_domains=sorted({d.strip().lower().lstrip("@") for d in domains if d.strip()}),
            switchboard_phone=switchboard_phone,
            vetting_status=VettingStatus.VERIFIED if verified else VettingStatus.PENDING,
            vetted_at=timezone.now() if verified else None,
        )
        audit.record("authority.created", actor=actor, obj=authority, authority_id=authority.pk,
                     data={"name": name, "country": country, "type": authority_type, "verified": verified})
    return authority


# The portal language of a new officer, from their authority's country, where the country has
# one language among ours. Belgium (fr, nl, de) and Switzerland are multilingual: the browser's
# language (or the default) decides there, as for every other country.
COUNTRY_LANGUAGES: dict[str, str] = {"FR": "fr", "LU": "fr", "DE": "de", "AT": "de"}


def default_language(authority: Authority | None, browser: str | None = None) -> str:
    """A new officer's language: their authority's country's, else the browser's, else LANGUAGE_CODE."""
    available = dict(settings.LANGUAGES)
    by_country = COUNTRY_LANGUAGES.get((authority.country or "").upper()) if authority is not None else None
    for language in (by_country, (browser or "").split("-")[0].lower()):
        if language and language in available:
            return language
    return settings.LANGUAGE_CODE


def officer_create(*, actor: Any = None, authority: Authority, email: str, password: str | None = None,
                   language: str | None = None) -> User:
    """An active officer with a verified address on one of the authority's domains; their
    language is ``language`` or the default of their authority's country (``default_language``)."""
    email = email.strip().lower()
    if language is not None and language not in dict(settings.LANGUAGES):
        raise ValidationError(f"Unknown language {language!r}.")
    if not authority.accepts_email(email):
        raise ValidationError(
            f"{email} is not on a verified domain of {authority.name} ({', '.join(authority.email_domains)})."
        )
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, authority=authority,
                                        approval_status=ApprovalStatus.APPROVED, approved_at=timezone.now(),
                                        approved_by=actor if getattr(actor, "pk", None) else None,
                                        language=language or default_language(authority))
        if password is None:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        # Registered by the legal team from a verified domain: the address counts as verified.
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        audit.record("officer.created", actor=actor, obj=user, authority_id=authority.pk, data={"email": email})
    return user


def token_issue(
    *, actor: Any = None, user: User, name: str = "API token", days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a token; the secret is returned once and only its SHA-256 is stored."""
    days = days or settings.API_TOKEN_DEFAULT_DAYS
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ValidationError(f"A token lives between 1 and {settings.API_TOKEN_MAX_DAYS} days.")
    if not user.is_approved_officer:
        raise ValidationError("Only active, approved officers of an authority can hold API tokens.")
    require_standing(actor)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name, prefix=raw[:12], key_hash=hash_token(raw),
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit.record("api_token.issued", actor=actor or user, obj=token, authority_id=user.authority_id,
                     data={"prefix": token.prefix, "expires_at": token.expires_at})
    return token, raw


def token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if updated:
            audit.record("api_token.revoked", actor=actor, obj=token, authority_id=token.user.authority_id,
                         data={"prefix": token.prefix})
    token.refresh_from_db()
    return token


# last_used_at is written at most this often, so authentication is not a write per request.
LAST_USED_PRECISION = timedelta(minutes=1)


def token_authenticate(raw: str) -> ApiToken | None:
    token = find_token(hash_token(raw))  # read on every call: revocation and deactivation act at once
    now = timezone.now()
    if token is None or not token.is_usable(now):
        return None
    # An unusable account does not authenticate (401); an officer of an authority that is not
    # verified authenticates and is refused by the permission (403), the same standing check.
    problem = standing_problem(token.user)
    if problem is not None and not problem.startswith("authority_"):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def authority_for_email(email: str) -> Authority | None:
    """The one verified authority whose registered domains include this address's domain."""
    domain = email.rsplit("@", 1)[-1].strip().lower()
    if not domain:
        return None
    matches = [a for a in Authority.objects.filter(vetting_status=VettingStatus.VERIFIED) if domain in a.email_domains]
    return matches[0] if len(matches) == 1 else None


def _may_manage(actor: Any, officer: User) -> bool:
    legal_admin = bool(actor.is_active and actor.is_staff and actor.authority_id is None)
    authority_admin = bool(actor.is_approved_officer and actor.is_authority_admin
                           and actor.authority_id == officer.authority_id and actor.pk != officer.pk)
    return legal_admin or authority_admin


def officer_approve(*, actor: Any, officer: User) -> User:
    """Approve a signed-up officer: by the legal team or an administrator of the same authority."""
    if officer.authority_id is None or not _may_manage(actor, officer):
        raise PermissionDenied("You may not approve this officer.")
    with transaction.atomic():
        User.objects.filter(pk=officer.pk).update(approval_status=ApprovalStatus.APPROVED, approved_by=actor,
                                                  approved_at=timezone.now())
        audit.record("officer.approved", actor=actor, obj=officer, authority_id=officer.authority_id,
                     data={"email": officer.email})
        outbox.enqueue("notify.account_approved", payload={"user_id": officer.pk})
    officer.refresh_from_db()
    return officer


def officer_deactivate(*, actor: Any, officer: User, reason: str = "") -> User:
    """Deactivate an officer: their sessions end (Django refuses inactive users on every
    request) and every API token is revoked at once."""
    if officer.authority_id is None or not _may_manage(actor, officer):
        raise PermissionDenied("You may not deactivate this officer.")
    with transaction.atomic():
        now = timezone.now()
        User.objects.filter(pk=officer.pk).update(is_active=False)
        revoked = ApiToken.objects.filter(user=officer, revoked_at__isnull=True).update(revoked_at=now)
        audit.record("officer.deactivated", actor=actor, obj=officer, authority_id=officer.authority_id,
                     data={"email": officer.email, "tokens_revoked": revoked, "reason": reason})
    _end_sessions(officer)
    officer.refresh_from_db()
    return officer


def _end_sessions(user: User) -> None:
    """Delete the user's stored sessions (database sessions; the cached ones expire with them)."""
    _end_sessions_of({user.pk})


def _end_sessions_of(user_ids: set[int]) -> None:
    from django.contrib.sessions.models import Session

    wanted = {str(pk) for pk in user_ids}
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) in wanted:
            session.delete()


def authority_registration_request_create(*, data: dict[str, Any], ip_address: str | None = None) -> Any:
    """Someone asks for their authority to be registered; the legal team vets it out of band."""
    from .models import AuthorityRegistrationRequest

    with transaction.atomic():
        registration = AuthorityRegistrationRequest.objects.create(**data)
        audit.record("authority_registration.requested", obj=registration, ip_address=ip_address,
                     data={"authority_name": registration.authority_name, "country": registration.country,
                           "email_domain": registration.email_domain})
        outbox.enqueue("alert.authority_registration", payload={"registration_id": registration.pk})
    return registration


def authority_registration_decide(*, actor: Any, registration: Any, register: bool) -> Any:
    """The legal team rejects a registration request (registering one is a root-of-trust change,
    ``accounts.root_of_trust.registration_propose``, decided by a second person)."""
    from .models import RegistrationStatus

    if register:
        # The registrant's switchboard number is a claim: the reviewer types the number they
        # verified, and a second person approves (accounts.root_of_trust.registration_propose).
        raise PermissionDenied("Registering an authority goes through a proposal with the verified switchboard "
                               "number and a second person's approval.")
    with transaction.atomic():
        registration.status = RegistrationStatus.REGISTERED if register else RegistrationStatus.REJECTED
        registration.decided_by = actor
        registration.decided_at = timezone.now()
        registration.save(update_fields=["status", "decided_by", "decided_at"])
        audit.record("authority_registration.decided", actor=actor, obj=registration,
                     data={"decision": registration.status, "authority_name": registration.authority_name})
    return registration


def user_set_language(*, user: User, language: str) -> bool:
    """Keep the person's language on their account, so e-mails reach them in it too."""
    if language not in dict(settings.LANGUAGES) or user.language == language:
        return False
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return True


def user_set_time_zone(*, user: User, time_zone: str) -> bool:
    """Keep the zone the person reads times in ("" returns to the default; accounts/zones.py)."""
    from .zones import is_known_zone

    time_zone = (time_zone or "").strip()
    if time_zone and not is_known_zone(time_zone):
        raise ValidationError({"time_zone": _("Unknown time zone.")})
    if user.time_zone == time_zone:
        return False
    User.objects.filter(pk=user.pk).update(time_zone=time_zone)
    user.time_zone = time_zone
    audit.record("user.time_zone_changed", actor=user, obj=user, authority_id=user.authority_id,
                 data={"time_zone": time_zone or "default"})
    return True


def authority_set_vetting(*, actor: Any, authority: Authority, status: str, reason: str) -> Authority:
    """The legal team suspends or revokes an authority (audited, at once, one person: stopping a
    suspected compromise must not wait). Leaving ``verified`` ends every officer's session and
    revokes every API token of the authority at once (NIS2 Directive (EU) 2022/2555 Art. 21(2)(i),
    access control). Putting an authority (back) to ``verified`` raises trust and needs a second
    person: ``accounts.root_of_trust.authority_restore_propose``."""
    if not (getattr(actor, "is_active", False) and getattr(actor, "is_staff", False) and actor.authority_id is None):
        raise PermissionDenied("Only the provider's legal team may change an authority's vetting status.")
    if status not in VettingStatus.values:
        raise ValidationError(f"Unknown vetting status {status!r}; one of {', '.join(VettingStatus.values)}.")
    if status == VettingStatus.VERIFIED:
        raise PermissionDenied("Restoring an authority to verified needs a second person: propose it "
                               "(root-of-trust change) and let another legal administrator approve it.")
    if not reason.strip():
        raise ValidationError("Give the reason for the change.")
    with transaction.atomic():
        locked = Authority.objects.select_for_update().get(pk=authority.pk)
        ended = _apply_vetting(actor=actor, authority=locked, status=status, reason=reason)
    _end_sessions_of(ended)
    authority.refresh_from_db()
    return authority


def _apply_vetting(*, actor: Any, authority: Authority, status: str, reason: str) -> set[int]:
    """Set the vetting status of a locked authority, inside the caller's transaction; the ids of
    the users whose sessions the caller ends after commit. Callers: ``authority_set_vetting``
    (lowering trust) and ``root_of_trust.change_approve`` (the second person's approval)."""
    previous = authority.vetting_status
    now = timezone.now()
    updates: dict[str, Any] = {"vetting_status": status, "vetting_note": reason.strip()}
    if status == VettingStatus.VERIFIED:
        updates["vetted_at"] = now
    Authority.objects.filter(pk=authority.pk).update(**updates)
    revoked = 0
    if status != VettingStatus.VERIFIED:
        revoked = ApiToken.objects.filter(user__authority=authority, revoked_at__isnull=True).update(revoked_at=now)
    audit.record("authority.vetting_changed", actor=actor, obj=authority, authority_id=authority.pk,
                 data={"from": previous, "to": status, "reason": reason.strip(), "tokens_revoked": revoked})
    if status == VettingStatus.VERIFIED:
        return set()
    return set(User.objects.filter(authority=authority).values_list("pk", flat=True))


def authority_suspend(*, actor: Any, authority: Authority, reason: str) -> Authority:
    return authority_set_vetting(actor=actor, authority=authority, status=VettingStatus.SUSPENDED, reason=reason)


def officer_suspend_pending_review(*, actor: Any, officer: User, reason: str, request: Any = None) -> User:
    """Hold an officer's account after a sign that it may be in other hands (an emergency
    request its authority's switchboard did not confirm): back to "awaiting approval" so an
    administrator of the authority or the legal team reviews it, every API token revoked and
    every session ended at once. The authority is told neutrally; the account is not deleted."""
    if officer.authority_id is None:
        raise ValidationError("Only an officer's account is held pending review.")
    with transaction.atomic():
        now = timezone.now()
        User.objects.filter(pk=officer.pk).update(approval_status=ApprovalStatus.PENDING, approved_by=None,
                                                  approved_at=None)
        revoked = ApiToken.objects.filter(user=officer, revoked_at__isnull=True).update(revoked_at=now)
        audit.record("officer.suspended_pending_review", actor=actor, obj=officer, request=request,
                     authority_id=officer.authority_id,
                     data={"email": officer.email, "tokens_revoked": revoked, "reason": reason})
        outbox.enqueue("alert.account_held", request=request, payload={"user_id": officer.pk})
    _end_sessions(officer)
    officer.refresh_from_db()
    return officer


def revoke_tokens_on_credential_change(*, user: Any, event: str) -> int:
    """A password reset or change, or a removed second factor, revokes the person's API
    tokens: whoever changed the credentials must not keep (or leave behind) a working token."""
    if user is None or getattr(user, "pk", None) is None:
        return 0
    with transaction.atomic():
        revoked = ApiToken.objects.filter(user_id=user.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if revoked:
            audit.record("api_token.revoked", actor=user, obj=user, authority_id=getattr(user, "authority_id", None),
                         data={"reason": event, "tokens_revoked": revoked})
    return revoked
