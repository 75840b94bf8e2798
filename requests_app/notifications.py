"""Who hears of which event, and sending it exactly once.

An outbox row (``notify.*`` / ``alert.*``) written with the state change becomes one
``Notification`` row per recipient, keyed ``<outbox id>:<address>``; a redelivered task
finds the row and does not send twice. E-mails carry the reference, the status and a link
into the portal, never target identifiers, personal data or internal notes; produced data
never leave the portal.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.templatetags.local_time import when_plain
from audit import trail as audit
from outbox import relay as outbox_relay
from outbox.models import OutboxMessage
from portal import compiled

from . import mail_templates
from .mail_headers import NotificationMail
from .models import LegalRequest, Notification, NotificationStatus
from .permissions import ADMIN, APPROVER, REVIEWER

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    # submitter | assignee | reviewers | approvers | admins | on_call | user | authority_admins
    audience: tuple[str, ...]
    subject: Any
    body: Any
    urgent: bool = False
    # RFC 3834: an automatic answer says so (Auto-Submitted: auto-replied), so that it is never answered.
    auto_reply: bool = False
    # The recipient has no portal account (an enforcing authority): no portal link, the reference
    # and the provider's contact instead; the files stored with the outbox row are attached.
    outside: bool = False


EVENTS: dict[str, Event] = {
    "notify.new_request": Event(("submitter", "reviewers"), _("Request received and validated"),
                                _("The request has been received and assessed. Its status and due time are "
                                  "shown in the portal.")),
    "notify.clarification_requested": Event(("submitter",), _("Clarification requested"),
                                            _("The provider needs a clarification before it can execute the "
                                              "request. What is missing and by when is shown in the portal.")),
    "notify.decision": Event(("submitter", "assignee"), _("Decision on your request"),
                             _("A decision has been taken on the request. The decision and its reasons are "
                               "shown in the portal.")),
    "notify.response_ready": Event(("submitter",), _("Response ready for download"),
                                   _("The response is ready. Sign in to the portal to download it; it is not "
                                     "sent by e-mail.")),
    "notify.withdrawn": Event(("submitter", "assignee"), _("Withdrawal confirmed"),
                              _("The request has been withdrawn. Nothing more will be done with it.")),
    "notify.message_to_authority": Event(("submitter",), _("New message from the provider's legal team"),
                                         _("A new message about the request is waiting in the portal.")),
    "notify.message_from_authority": Event(("assignee_or_reviewers",), _("New message from the authority"),
                                           _("The authority wrote about this request.")),
    "notify.account_approved": Event(("user",), _("Your portal account has been approved"),
                                     _("Your account has been approved. Sign in, set up your second factor and "
                                       "you can submit and follow requests.")),
    "notify.preservation_expiring": Event(("submitter",), _("Preservation ending soon"),
                                          _("The preservation of the data ends soon. To keep the data, send an "
                                            "extension (Annex VI) or confirm a production request (Annex V) "
                                            "before the date shown in the portal.")),
    "notify.ea_window_ended": Event(("submitter", "assignee"), _("Enforcing authority's period ended"),
                                    _("The enforcing authority raised no ground for refusal; the request proceeds "
                                      "to execution.")),
    # Reg. (EU) 2023/1543 Art. 10(5)-(6), 11(4)-(5): the enforcing authority notified under Art. 8
    # receives the Annex III too; sent to the address recorded with the notification. By default
    # its identifiers are withheld (security.md R6; ANNEX_III_EA_EMAIL, EA_COPY_BODIES below).
    "notify.annex_iii_enforcing_authority": Event(
        ("address",), _("Annex III sent on an order notified to your authority"),
        _("The provider has sent the issuing authority the form of Annex III of Regulation (EU) 2023/1543 "
          "(information on the impossibility to execute the order) for an order of which your authority "
          "was notified under Art. 8. A copy of the form is attached (PDF) in which every personal "
          "identifier is withheld (\"[withheld: target 1]\" stands for the order's first target); its kind "
          "and reasons are below. The complete form is available to your authority on request "
          "through a secure channel: write to the provider's legal team quoting the reference. The form "
          "is a notification: data produced in answer to an order are never sent by e-mail."), outside=True),
    "alert.authority_registration": Event(("admins",), _("An authority asks to be registered"),
                                          _("Vet the request in the admin: check the authority against an official "
                                            "source and call its switchboard before registering it.")),
    "notify.assigned": Event(("user",), _("Request assigned to you"), _("A request has been assigned to you.")),
    "notify.approval_needed": Event(("approvers",), _("Response awaiting approval"),
                                    _("A prepared response needs the approval of a second member of the legal "
                                      "team.")),
    "notify.annex_iii_approval_needed": Event(("approvers",), _("Annex III awaiting approval"),
                                              _("A refusal, rerouting or non-execution (Annex III) signed by a "
                                                "member of the legal team needs the approval of a second one "
                                                "before it is sent.")),
    "notify.mailbox_ack": Event(("address",), _("Your e-mail has been received"),
                                _("Your e-mail to the provider's legal representative has been received and is kept "
                                  "as received. This is an automatic acknowledgement: it does not confirm that a "
                                  "request is valid or will be executed. Authorities submit and follow requests "
                                  "in the provider's Lawful Request Portal; an authority without an account asks "
                                  "to be registered at the address below, and the provider verifies it through an "
                                  "official source before any account is opened."), auto_reply=True),
    "notify.registration_invite": Event(("address",), _("Invitation to the Lawful Request Portal"),
                                        _("The provider's legal team has registered correspondence from your "
                                          "authority. Authorities follow their requests in the provider's Lawful "
                                          "Request Portal; your authority has no account yet. Ask to be registered "
                                          "at the address below; the provider verifies your authority through an "
                                          "official source before any account is opened. For your protection this "
                                          "e-mail carries no details of the case.")),
    "alert.emergency": Event(("on_call", "reviewers"), _("EMERGENCY request received"),
                             _("An emergency request was received. Verify it by calling the authority's "
                               "registered switchboard number, never a number from the request."), urgent=True),
    "notify.callback_confirmed": Event(("submitter", "on_call", "reviewers"), _("Emergency confirmed by call-back"),
                                       _("The emergency request was confirmed by a call-back to the authority's "
                                         "registered switchboard number. The provider's legal team is working on "
                                         "it now.")),
    # A second person is the safeguard of every disclosure and refusal (security.md, four eyes):
    # an attempt to be both is refused on the page and told to the administrators.
    "alert.four_eyes_refused": Event(("admins",), _("Four-eyes approval refused"),
                                     _("A member of the legal team tried to approve what they prepared or signed "
                                       "themselves, or the release of an emergency they verified by call-back. "
                                       "The approval was refused; another member must approve. The attempt is in "
                                       "the audit trail.")),
    "alert.suspected_fraud": Event(("admins", "on_call"), _("Suspected fraudulent request"),
                                   _("The authority's switchboard did not confirm an emergency request. "
                                     "Treat the sending account as compromised."), urgent=True),
    "alert.account_held": Event(("authority_admins",), _("Portal account held pending review"),
                                _("A request sent from an account of your authority could not be confirmed "
                                  "through your authority's registered switchboard. The account is held pending "
                                  "review and its API tokens are revoked. An administrator of your authority can "
                                  "review it with the provider's legal team."), urgent=True),
    "alert.deadline_warn": Event(("assignee_or_reviewers",), _("Deadline approaching"),
                                 _("The deadline of this request is approaching.")),
    "alert.deadline_breach": Event(("assignee_or_reviewers", "admins"), _("Deadline about to be breached"),
                                   _("The deadline of this request is about to be breached."), urgent=True),
    "alert.deadline_due": Event(("assignee_or_reviewers", "admins"), _("Deadline passed"),
                                _("The deadline of this request has passed."), urgent=True),
    "alert.reminder": Event(("assignee_or_reviewers",), _("Reminder"), _("A timer of this request fell due.")),
}


# What ``recipients`` reads of a user: the whole row of a wide model costs more to compile and
# load than the rest of the plan (issue 9 item 5).
_RECIPIENT_FIELDS = ("pk", "email", "is_active", "is_staff", "language", "authority_id")


# What the enforcing authority's copy says, per ``settings.ANNEX_III_EA_EMAIL`` as fixed in the
# outbox row (``services.enforcing_authority_copy.copy_to_enforcing_authority``); the event's body
# is the default's. A row without it predates the setting and carried the complete form: "full".
EA_COPY_BODIES: dict[str, Any] = {
    "full": _("The provider has sent the issuing authority the form of Annex III of Regulation (EU) 2023/1543 "
              "(information on the impossibility to execute the order) for an order of which your authority was "
              "notified under Art. 8. The signed form is attached (PDF); its kind and reasons are below. The form "
              "is a notification: data produced in answer to an order are never sent by e-mail."),
    "redacted": EVENTS["notify.annex_iii_enforcing_authority"].body,
    "notice_only": _("The provider has sent the issuing authority the form of Annex III of Regulation (EU) "
                     "2023/1543 (information on the impossibility to execute the order) for an order of which "
                     "your authority was notified under Art. 8. Its kind and reasons are below. The signed form "
                     "is available to your authority on request through a secure channel: write to the "
                     "provider's legal team quoting the reference. The form is a notification: data produced in "
                     "answer to an order are never sent by e-mail."),
}


@dataclass(frozen=True)
class _Person:
    """The columns ``recipients`` reads of a user (``_RECIPIENT_FIELDS``), from a cached statement."""
    pk: int
    is_staff: bool
    is_active: bool
    email: str
    authority_id: int | None
    language: str


@functools.cache
def _staff_statement(groups: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    """The SQL of the staff of ``groups``, compiled by the ORM once per process: the statement
    never changes, and compiling its joins and DISTINCT cost more than running it (issue 9 item 5)."""
    rows = (get_user_model().objects.filter(Q(groups__name__in=groups) | Q(is_superuser=True), is_active=True,
                                            is_staff=True, authority__isnull=True)
            .distinct().values_list(*_RECIPIENT_FIELDS))
    sql, params = rows.query.sql_with_params()
    return sql, tuple(params)


def _staff(*groups: str) -> list[Any]:
    sql, params = _staff_statement(tuple(groups))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_Person(**dict(zip(_RECIPIENT_FIELDS, row, strict=True))) for row in cursor.fetchall()]


def _related_user(request: LegalRequest, name: str) -> Any:
    """``request.submitted_by`` / ``.assigned_to``: the joined row when it was read with the
    request, else only the columns ``recipients`` needs."""
    field = LegalRequest._meta.get_field(name)
    if field.is_cached(request):  # type: ignore[union-attr]
        return getattr(request, name)
    user_id = getattr(request, field.attname)  # type: ignore[union-attr]
    return None if user_id is None else (get_user_model().objects.only(*_RECIPIENT_FIELDS)
                                         .filter(pk=user_id).first())


@dataclass(frozen=True)
class Recipient:
    language: str
    legal_team: bool  # digest and quiet hours apply only to the provider's own staff


def is_emergency(request: LegalRequest | None) -> bool:
    return request is not None and (request.emergency or request.instrument == "emergency_disclosure")


def _excluded(event: Event, payload: dict[str, Any]) -> set[int]:
    """Users who must not hear of an event: whoever caused it (nobody is told of their own
    action), and the preparer of a package asked to approve it (four eyes)."""
    excluded = {int(payload["actor_id"])} if payload.get("actor_id") else set()
    if payload.get("annex_iii_id") and "approvers" in event.audience:
        from .models import AnnexIII

        signer = AnnexIII.objects.filter(pk=payload["annex_iii_id"]).values_list("signed_by_id", flat=True).first()
        if signer:
            excluded.add(signer)
    if payload.get("package_id") and "approvers" in event.audience:
        from .models import ResponsePackage

        preparer = (ResponsePackage.objects.filter(pk=payload["package_id"])
                    .values_list("prepared_by_id", flat=True).first())
        if preparer:
            excluded.add(preparer)
    return excluded


def recipients(event: Event, request: LegalRequest | None, payload: dict[str, Any],
               topic: str = "") -> dict[str, Recipient]:
    """E-mail address → recipient, for one event."""
    found: dict[str, Recipient] = {}
    excluded = _excluded(event, payload)
    # On-call addresses carry no settings; one that is also a user's gets that user's language.
    on_call_only: set[str] = set()
    excluded_addresses: set[str] = set()

    def add(users: list[Any]) -> None:
        for user in users:
            if user is not None and user.pk in excluded:
                continue
            if user is not None and user.email and user.is_active:
                address = user.email.lower()
                if address in on_call_only:
                    del found[address]
                    on_call_only.discard(address)
                found.setdefault(address, Recipient(getattr(user, "language", "en") or "en",
                                                    user.authority_id is None))

    if excluded and "on_call" in event.audience:
        # The actor's own address is not told of their action on the on-call list either.
        excluded_addresses = {e.lower() for e in get_user_model().objects.filter(pk__in=excluded)
                              .values_list("email", flat=True)}

    user_model = get_user_model()
    audiences = event.audience
    if topic == "notify.new_request" and is_emergency(request):
        # The legal team already had the emergency alert of this request: one e-mail per person.
        audiences = tuple(a for a in audiences if a != "reviewers")
    for audience in audiences:
        if audience == "submitter" and request is not None:
            add([_related_user(request, "submitted_by")])
        elif audience == "assignee" and request is not None:
            add([_related_user(request, "assigned_to")])
        elif audience == "assignee_or_reviewers" and request is not None:
            assignee = _related_user(request, "assigned_to")
            active_assignee = assignee is not None and assignee.is_active and assignee.is_staff
            # An assignee who has left must not swallow alerts: the whole team hears of them.
            add([assignee] if active_assignee else _staff(REVIEWER, APPROVER, ADMIN))
        elif audience == "reviewers":
            add(_staff(REVIEWER, APPROVER, ADMIN))
        elif audience == "approvers":
            add(_staff(APPROVER, ADMIN))
        elif audience == "admins":
            add(_staff(ADMIN))
        elif audience == "on_call":
            for address in settings.ON_CALL_EMAILS:
                if address.lower() not in found and address.lower() not in excluded_addresses:
                    found[address.lower()] = Recipient("en", True)
                    on_call_only.add(address.lower())
        elif audience == "authority_admins" and request is not None:
            add(list(user_model.objects.filter(authority_id=request.authority_id, is_authority_admin=True,
                                               is_active=True, approval_status="approved")))
        elif audience == "address" and payload.get("address"):
            # An outside sender (the mailbox acknowledgement): never one of our users' settings.
            found.setdefault(str(payload["address"]).lower(), Recipient("en", False))
        elif audience == "user" and payload.get("user_id"):
            add(list(user_model.objects.filter(pk=payload["user_id"])))
    return found


def _clean_header(value: str) -> str:
    """No header injection through subjects: one line, bounded."""
    return " ".join(str(value).split())[:190]


def subject_for(event_name: str, request: LegalRequest | None, language: str) -> str:
    with translation.override(language):
        return _subject(event_name, request)


def _subject(event_name: str, request: LegalRequest | None) -> str:
    """``subject_for`` in the active language (``render`` has it active already)."""
    event = EVENTS[event_name]
    reference = request.reference if request else ""
    return _clean_header(f"[{reference}] {event.subject}" if reference else str(event.subject))


def _due(event_name: str, request: LegalRequest | None) -> datetime | None:
    """The due time shown; the emergency alert is sent before validation has set one, and
    carries the 8 hours of Reg. (EU) 2023/1543 Art. 10(4) from receipt."""
    if request is None:
        return None
    if request.due_at is None and event_name == "alert.emergency" and request.received_at:
        from .rules.eevidence import EMERGENCY_HOURS

        return request.received_at + timedelta(hours=EMERGENCY_HOURS)
    return request.due_at


def is_legal_team(address: str) -> bool:
    """Whether an address belongs to the provider's legal team (on call, or a staff user of no
    authority): they are sent to the admin, everyone else to the portal."""
    return reader(address)[0]


def reader(address: str, *, outside: bool = False) -> tuple[bool, ZoneInfo]:
    """Whoever reads an e-mail to ``address``: whether they are of the legal team
    (``is_legal_team``; never for an ``outside`` sender's address) and the zone their dates are
    written in (``accounts.zones.zone_for_address``), from one narrow read of the user with
    that address instead of two of the whole row (issue 9 item 5)."""
    sql = _reader_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [address])
        users = [_Reader(*row) for row in cursor.fetchall()]
    return _reader_of(address, users, outside=outside)


def _reader_of(address: str, users: list[_Reader], *, outside: bool) -> tuple[bool, ZoneInfo]:
    """``reader`` from the users with ``address`` (read by ``reader`` or with a planned row's lock)."""
    from accounts.zones import provider_zone, zone_of

    legal_team = not outside and (address.lower() in {a.lower() for a in settings.ON_CALL_EMAILS} or any(
        u.is_staff and u.authority_id is None for u in users))
    active = next((u for u in users if u.is_active), None)
    if active is not None:
        return legal_team, zone_of(active)
    return legal_team, ZoneInfo(provider_zone() if legal_team else "UTC")


@dataclass(frozen=True)
class _ReaderAuthority:
    country: str


@dataclass(frozen=True)
class _Reader:
    """What ``reader`` needs of a user with the address (``accounts.zones.zone_of`` reads
    ``time_zone``, ``authority_id`` and the authority's ``country``)."""
    pk: int
    is_staff: bool
    is_active: bool
    authority_id: int | None
    time_zone: str
    country: str | None

    @property
    def authority(self) -> _ReaderAuthority | None:
        return None if self.authority_id is None else _ReaderAuthority(self.country or "")


_ADDRESS = "reader@address.invalid"


@functools.cache
def _reader_statement() -> str:
    """The SQL of ``reader``'s one read (the users with an address, case-insensitive, their
    authority's country), compiled by the ORM once per process instead of per e-mail."""
    rows = (get_user_model().objects.filter(email__iexact=_ADDRESS).order_by("pk")
            .values_list("pk", "is_staff", "is_active", "authority_id", "time_zone", "authority__country"))
    sql, params = rows.query.sql_with_params()
    if tuple(params) != (_ADDRESS,):  # the address must be the statement's only parameter
        raise RuntimeError(f"unexpected parameters of the reader statement: {params!r}")
    return str(sql)


def provider_contact() -> str:
    """Where an authority without a portal account writes to the provider's legal team."""
    configured = getattr(settings, "PROVIDER_LEGAL_CONTACT_EMAIL", "")
    return configured or next(iter(settings.MAILBOX_ADDRESSES), "")


def link_for(request: LegalRequest | None, *, legal_team: bool) -> str:
    """The page of the request itself: the admin's for the legal team, the portal's for officers."""
    from django.urls import reverse

    base = settings.PORTAL_BASE_URL.rstrip("/")
    if request is None:
        return f"{base}{reverse('admin:index')}" if legal_team else f"{base}/"
    if legal_team:
        return f"{base}{reverse('admin:requests_app_legalrequest_change', args=[request.pk])}"
    return f"{base}{reverse('portal:request_detail', args=[request.reference])}"


def render(event_name: str, request: LegalRequest | None, language: str, *,
           legal_team: bool = False, recipient: str = "", zone: ZoneInfo | None = None,
           copy: str = "") -> tuple[str, str, str]:
    """Subject, text and HTML of one e-mail, in the recipient's language and with every date
    in the recipient's zone (``zone``, else looked up), labelled, UTC beside it
    (accounts/zones.py, ``when_text``). ``copy``: what the enforcing authority's copy of an
    Annex III carries (``EA_COPY_BODIES``)."""
    from accounts.zones import zone_for_address

    event = EVENTS[event_name]
    if zone is None:
        zone = zone_for_address(recipient, legal_team=legal_team) if recipient else ZoneInfo("UTC")
    if event.outside:
        from accounts.zones import provider_zone

        # The enforcing authority is in the State of the provider's designated establishment or
        # legal representative (Reg. (EU) 2023/1543 Art. 3, "enforcing State"): its zone is the provider's.
        zone = ZoneInfo(provider_zone())
    ea_copy = event_name == "notify.annex_iii_enforcing_authority"
    with translation.override(language), timezone.override(zone):
        subject = _subject(event_name, request)
        reference = request.reference if request else ""
        context = {
            "subject": subject,
            "body": str(EA_COPY_BODIES[copy or "full"] if ea_copy else event.body),
            # Only the complete form sent over an agreed encrypted channel carries personal data.
            "personal_data_attached": ea_copy and (copy or "full") == "full",
            "reference": reference,
            "status": status_display(request) if request else "",
            "due_at": _due(event_name, request),
            "receipt_hash": request.receipt_hash if request else "",
            "link": "" if event.outside else link_for(request, legal_team=legal_team),
            "contact": provider_contact() if event.outside else "",
            "outside": event.outside,
            "urgent": event.urgent,
            "details": details(event_name, request),
        }
        text = mail_templates.render("emails/notification.txt", context)
        html = mail_templates.render("emails/notification.html", context)
    return subject, text, html


@functools.cache
def _status_labels() -> dict[str, Any]:
    return dict(LegalRequest._meta.get_field("status").flatchoices)


def status_display(request: LegalRequest) -> str:
    """``request.get_status_display()`` in the active language, without Django's
    ``make_hashable`` of the whole choices list (and the lazy labels' hashes) on every call."""
    return str(_status_labels().get(request.status, request.status))


# Field names of the request body, without positions ("targets[2]" → "targets").
_FIELD = re.compile(r"^([a-z_]+)")


def details(event_name: str, request: LegalRequest | None) -> list[tuple[str, str]]:
    """What the recipient must know to act, without personal data: the fields concerned, the
    articles that decide, the Annex III reasons, the date to answer by. Never target values,
    finding messages (they may quote an identifier) or free text."""
    if event_name in {"notify.mailbox_ack", "notify.registration_invite"}:
        from django.urls import reverse

        return [(str(_("Register an authority")),
                 f"{settings.PORTAL_BASE_URL.rstrip('/')}{reverse('portal:authority_registration')}")]
    if event_name == "notify.new_request" and is_emergency(request):
        return [(str(_("Emergency")), str(_("The provider's legal team will call your authority's registered "
                                            "switchboard number back to confirm the emergency before data are "
                                            "disclosed.")))]
    if event_name == "notify.annex_iii_enforcing_authority":
        return annex_iii_copy_details(request)
    if request is None or not request.decision:
        return []
    findings = [f for f in request.decision.get("findings", []) if f.get("severity") == "error"]
    rows: list[tuple[str, str]] = []
    if event_name == "notify.clarification_requested":
        fields = sorted({m.group(1) for f in findings if (m := _FIELD.match(f.get("field") or ""))})
        if fields:
            rows.append((str(_("Fields to complete or correct")), ", ".join(fields)))
        reminder = next((d for d in request.decision.get("deadlines", []) if d.get("kind") == "clarification_reminder"),
                        None)
        if reminder:
            rows.append((str(_("Please answer by")), when_plain(reminder["due_at"])))
    if event_name in {"notify.decision", "notify.clarification_requested"}:
        articles = sorted({f["legal_basis"] for f in findings if f.get("legal_basis")})
        if articles:
            rows.append((str(_("Deciding provisions")), "; ".join(articles)))
    if event_name == "notify.decision":
        from .annex_iii_pdf import REASON_LABELS

        # Only a form sent to the authority (a draft awaiting four eyes is not).
        form = request.annex_iii.filter(sent_at__isnull=False).order_by("-created_at", "-pk").first()
        if form is not None:
            codes = sorted({code for item in form.reasons for code in item.get("reasons", [])})
            rows.append((str(_("Annex III reasons")), "; ".join(str(REASON_LABELS.get(c, c)) for c in codes)))
    return rows


def annex_iii_copy_details(request: LegalRequest | None) -> list[tuple[str, str]]:
    """The enforcing authority's copy of the newest Annex III sent: the issuing authority (the
    reference is in the subject), the form's kind and its reasons per data category and per
    target position; never target values, case data or free text."""
    from .annex_iii_pdf import REASON_LABELS
    from .models import AnnexIIIKind
    from .states import DataCategory

    if request is None:
        return []
    form = request.annex_iii.filter(sent_at__isnull=False).order_by("-created_at", "-pk").first()
    if form is None:
        return []
    rows = [(str(_("Issuing authority")), request.authority.name),
            (str(_("Annex III form")), str(AnnexIIIKind(form.kind).label))]
    for item in form.reasons:
        scope = [str(DataCategory(item["data_category"]).label)] if item.get("data_category") else []
        if item.get("target") is not None:
            scope.append(str(_("target no. %(n)d")) % {"n": int(item["target"]) + 1})
        label = ", ".join(scope) or str(_("The whole order"))
        reasons = "; ".join(str(REASON_LABELS.get(c, c)) for c in item.get("reasons", []))
        bases = "; ".join(item.get("legal_basis") or [])
        rows.append((label, f"{reasons} ({bases})" if bases else reasons))
    # A clarification is sent without four eyes (the legal team's and the automatic one have no
    # approved_at): the date it went out is sent_at, which every form in this query has.
    sent = form.sent_at or form.approved_at
    if sent is not None:
        rows.append((str(_("Sent on")), when_plain(sent)))
    return rows


def plan(outbox_id: int, *, message: OutboxMessage | None = None) -> list[int]:
    """Create the Notification rows of one outbox event (idempotent); return the pending ids.

    ``message``: the row as its writer just committed it (the validation task sending its own
    receipt), so that it and its request are not read back."""
    return [row.pk for row in plan_rows(outbox_id, message=message)]


def plan_rows(outbox_id: int, *, message: OutboxMessage | None = None,
              publishing: bool = False) -> list[Notification]:
    """``plan``, returning the pending rows themselves: as inserted, with the event's request in
    memory, so that ``send(row.pk, planned=row)`` need not read them back (issue 9 item 5).

    ``publishing``: ``message`` is being published by this process (``outbox.relay.publish``
    handing it to this task in process): its first planning marks it sent in the same
    transaction (``relay.mark_sent_with``). Nothing is lost if the worker dies after that
    commit: the planned rows are pending, and the notification sweeper sends what is stuck."""
    if message is None or message.pk != outbox_id:
        message = OutboxMessage.objects.select_related("request", "request__submitted_by",
                                                       "request__assigned_to").get(pk=outbox_id)
    event = EVENTS.get(message.topic)
    if event is None:
        log.error("no notification defined for %s", message.topic)
        return []
    rows = _rows(message, event, _deliveries(event, message.topic, message.request, message.payload))
    if not rows:
        return []
    if connection.features.can_return_rows_from_bulk_insert:
        try:
            # The first planning of an event (nearly always): one INSERT that returns the ids.
            with transaction.atomic():
                # bulk_create's INSERT … RETURNING, compiled once per connection and row count.
                created = compiled.insert_returning(Notification, rows)
                if publishing:
                    outbox_relay.mark_sent_with(message)
            return [row for row in created if row.status == NotificationStatus.PENDING]
        except IntegrityError:
            pass  # planned before (a redelivered task): keep the rows there are, add any missing
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return list(Notification.objects.filter(outbox=message, status=NotificationStatus.PENDING)
                .select_related("request").order_by("pk"))


@dataclass(frozen=True)
class _Delivery:
    """One recipient of an event, as planned: the address, how they read it, the subject in
    their language, and until when a non-urgent one for the legal team is held (quiet hours)."""
    address: str
    recipient: Recipient
    subject: str
    hold_until: datetime | None


def _deliveries(event: Event, topic: str, request: LegalRequest | None, payload: dict[str, Any]) -> list[_Delivery]:
    now = timezone.now()
    return [_Delivery(address, recipient, subject_for(topic, request, recipient.language),
                      None if event.urgent or not recipient.legal_team else held_until(now))
            for address, recipient in recipients(event, request, payload, topic).items()]


def _rows(message: OutboxMessage, event: Event, deliveries: list[_Delivery]) -> list[Notification]:
    """The Notification rows of ``message``, one per delivery, keyed ``<outbox id>:<address>``."""
    return [Notification(key=f"{message.pk}:{d.address}", outbox=message, request=message.request,
                         event=message.topic, recipient=d.address, language=d.recipient.language,
                         subject=d.subject, urgent=event.urgent,
                         status=NotificationStatus.HELD if d.hold_until else NotificationStatus.PENDING,
                         deliver_after=d.hold_until)
            for d in deliveries]


_here = threading.local()


@contextlib.contextmanager
def sent_here() -> Iterator[None]:
    """Inside, the notifications of the events this task writes are sent by this task itself,
    after its commits, instead of by a second task: the validation task's receipt costs no
    broker round trip and task (``enqueue``; the ``notify.`` consumer in ``apps``). A recipient
    whose delivery fails gets its own retrying task either way."""
    previous = getattr(_here, "active", False)
    _here.active = True
    try:
        yield
    finally:
        _here.active = previous


def sending_here() -> bool:
    return bool(getattr(_here, "active", False))


def enqueue(topic: str, *, request: LegalRequest, payload: dict[str, Any] | None = None) -> OutboxMessage:
    """The outbox row of a notification event (``notify.*``), in the caller's transaction.

    In a task that sends its own notifications (``sent_here``: the validation task and its
    receipt), the event's Notification rows are planned in the caller's transaction, its outbox
    row is written as consumed (``outbox.relay.enqueue(consumed=True)``), and this process sends
    them after the commit. What that spares per decision (issue 9 item 5): the row's publish, its
    "sent" UPDATE and a planning transaction with its commit. Nothing is lost: the rows commit with
    the decision or not at all, and what the worker had no time to send after the commit is pending
    for the notification sweeper (``sweep_notifications``), as a row planned by a task is.

    Elsewhere (the web, the admin), for an event with attachments or a copy to an outside
    address, and when the plan cannot be made (a recipient's data, a translation), the usual
    path: the row is published after the commit, and a task plans and sends its rows."""
    event = EVENTS.get(topic)
    if (not sending_here() or event is None or event.outside
            or not connection.features.can_return_rows_from_bulk_insert):
        return outbox_relay.enqueue(topic, request=request, payload=payload)
    try:
        deliveries = _deliveries(event, topic, request, payload or {})
    except DatabaseError:
        raise  # the transaction is broken: the caller's failure, as for any of its statements
    except Exception:
        log.exception("%s of %s not planned with its event; left to the outbox", topic, request.reference)
        return outbox_relay.enqueue(topic, request=request, payload=payload)
    message = outbox_relay.enqueue(topic, request=request, payload=payload, consumed=True)
    # A new outbox row: no Notification row can have its key yet.
    rows = compiled.insert_returning(Notification, _rows(message, event, deliveries)) if deliveries else []
    pending = [row for row in rows if row.status == NotificationStatus.PENDING]
    if pending:
        transaction.on_commit(lambda: _send_planned(pending), robust=True)
    return message


def _send_planned(rows: list[Notification]) -> None:
    from . import tasks  # tasks import this module

    held = getattr(_here, "held", None)
    if held is None or settings.NOTIFY_BATCH_SIZE <= 1 or any(_urgent(row) for row in rows):
        tasks.send_planned(rows)
        return
    if not held:
        _here.held_since = time.monotonic()
    held.extend(rows)
    send_held()


# --- receipts sent together (the validation drain) ----------------------------------------------

def _urgent(row: Notification) -> bool:
    """Never held for a batch: an urgent event, anything about an emergency (its 8-hour period)."""
    return bool(row.urgent or (row.request is not None and row.request.emergency))


@contextlib.contextmanager
def sent_together() -> Iterator[None]:
    """Inside (the validation drain, with ``sent_here``), the e-mails a committed decision planned
    are held and sent together: ``send_held`` sends them when ``NOTIFY_BATCH_SIZE`` are held or
    the first has waited ``NOTIFY_BATCH_MAX_WAIT_SECONDS`` (checked after each request), when the
    drain finds its queue empty, and when it ends, whatever way it ends. One transaction locks them
    all (their readers with them), one SMTP session carries them, one UPDATE marks them sent
    (``send_together``): under load a receipt costs a share of four round trips and of an SMTP
    connection instead of all of them (issue 9 item 5). An urgent event and anything about an
    emergency is sent at once. Nothing is lost by holding: the rows are pending in the database
    from the decision's commit, and what a killed worker held is sent by the notification sweeper."""
    previous = getattr(_here, "held", None)
    _here.held = []
    try:
        yield
    finally:
        try:
            send_held(force=True)
        finally:
            _here.held = previous


def send_held(*, force: bool = False) -> int:
    """Send the e-mails held by ``sent_together`` if it is time (``force``: now); how many."""
    from . import tasks  # tasks import this module

    held = getattr(_here, "held", None)
    if not held:
        return 0
    if (not force and len(held) < settings.NOTIFY_BATCH_SIZE
            and time.monotonic() - _here.held_since < settings.NOTIFY_BATCH_MAX_WAIT_SECONDS):
        return 0
    rows = list(held)
    held.clear()
    tasks.send_planned_together(rows)
    return len(rows)


def send_together(rows: list[Notification]) -> list[Notification]:
    """Send rows planned by this task (``plan_rows``, ``enqueue``) in one transaction and one SMTP
    session; the rows whose delivery failed, their failure recorded as ``send`` records it (the
    others are sent and marked however many fail). A row another sender holds or has sent is
    skipped, as ``send`` skips it. Raises on a database error: the transaction is rolled back, and
    any e-mail it had sent is sent again by the retries (as when ``send`` fails after sending)."""
    if len(rows) == 1 or connection.vendor != "postgresql":
        failed = []
        for row in rows:
            try:
                send(row.pk, planned=row)
            except Exception:
                failed.append(row)
        return failed
    by_id = {row.pk: row for row in rows}
    failures: list[tuple[Notification, str]] = []
    sent: list[tuple[Notification, int]] = []
    with transaction.atomic():
        # Locked while they are sent, as ``send`` locks one: a concurrent sender skips them.
        readers: dict[int, list[_Reader]] = {}
        with connection.cursor() as cursor:
            cursor.execute(_lock_planned_together_statement(), [sorted(by_id), NotificationStatus.PENDING])
            for pk, attempts, *user in cursor.fetchall():
                by_id[pk].attempts = attempts
                users = readers.setdefault(pk, [])
                if user[0] is not None:
                    users.append(_Reader(*user))
        smtp = get_connection()
        unreachable = ""  # the server could not be reached: the rest are not tried one by one
        try:
            for pk, users in readers.items():
                row = by_id[pk]
                if unreachable:
                    failures.append((row, unreachable))
                    continue
                try:
                    smtp.open()  # one session for the batch; opened again after a failed one
                except Exception as exc:  # down or refusing: each row would wait its own timeout
                    unreachable = f"{type(exc).__name__}: {exc}"
                    failures.append((row, unreachable))
                    continue
                try:
                    mail = _compose(row, users)
                    mail.connection = smtp
                    mail.send()
                except Exception as exc:
                    failures.append((row, f"{type(exc).__name__}: {exc}"))
                    _close_quietly(smtp)  # a session that failed is not trusted with the next e-mail
                    continue
                sent.append((row, _mark(row)))
        finally:
            _close_quietly(smtp)
        if sent:
            with connection.cursor() as cursor:
                cursor.execute(_MARK_SENT_TOGETHER_SQL, [NotificationStatus.SENT, [row.pk for row, _ in sent],
                                                         [row.attempts for row, _ in sent],
                                                         [row.sent_at for row, _ in sent]])
            for row, failed_before in sent:
                _late_alert_delivered(row, failed_before)
    for row, error in failures:
        _record_failure(row.pk, error)
    return [row for row, _ in failures]


def _close_quietly(smtp: Any) -> None:
    try:
        smtp.close()
    except Exception:  # the session is dropped either way
        log.warning("closing the SMTP session failed", exc_info=True)


def send(notification_id: int, *, planned: Notification | None = None) -> bool:
    """Send one pending notification; True when sent now. Raises on an SMTP failure, after
    recording it (attempts, last error, the next try in ``deliver_after``).

    ``planned``: the row as ``plan_rows`` returned it in this task: only its lock and its one
    changing column (``attempts``) are read, not the row and its request again."""
    try:
        # The row lock is held while sending, so a concurrent redelivery skips the row; a
        # crash after the SMTP server accepted but before commit is the only way to send twice.
        with transaction.atomic():
            locked = _lock_pending(notification_id, planned)
            if locked is None:
                return False
            row, users = locked
            mail = _compose(row, users)
            mail.send()
            failed_before = _mark(row)
            with connection.cursor() as cursor:  # one fixed statement per e-mail, not compiled by the ORM
                cursor.execute(_MARK_SENT_SQL, [row.status, row.attempts, row.last_error, row.sent_at, row.pk])
            _late_alert_delivered(row, failed_before)
        # The Notification row (state, attempts, sent_at) is the delivery record; shown per request
        # in the admin. E-mails are not audit events (they change nothing), except the emergency
        # alert's delay above and its first failure (``_record_failure``).
    except Exception as exc:
        _record_failure(notification_id, f"{type(exc).__name__}: {exc}")
        raise
    return True


def _compose(row: Notification, users: list[_Reader] | None) -> NotificationMail:
    """The e-mail of one locked pending row, rendered for its reader (``users``: the accounts
    with its address, read with the lock; None: read here)."""
    outside = EVENTS[row.event].audience == ("address",)
    legal_team, zone = (reader(row.recipient, outside=outside) if users is None
                        else _reader_of(row.recipient, users, outside=outside))
    copy = ""
    if EVENTS[row.event].outside:
        payload = OutboxMessage.objects.filter(pk=row.outbox_id).values_list("payload", flat=True).first()
        copy = str((payload or {}).get("copy") or "")
    subject, text, html = render(row.event, row.request, row.language, legal_team=legal_team,
                                 recipient=row.recipient, zone=zone, copy=copy)
    headers = {"Auto-Submitted": "auto-replied"} if EVENTS[row.event].auto_reply else None
    mail = NotificationMail(subject=subject, body=text, to=[row.recipient], headers=headers)
    mail.attach_alternative(html, "text/html")
    if EVENTS[row.event].outside:
        _attach(mail, row.outbox_id)
    return mail


def _mark(row: Notification) -> int:
    """The row, in memory, as sent now; the failed tries before this one."""
    failed_before, row.attempts = row.attempts, row.attempts + 1
    row.status, row.sent_at, row.last_error, row.deliver_after = NotificationStatus.SENT, timezone.now(), "", None
    return failed_before


def _late_alert_delivered(row: Notification, failed_before: int) -> None:
    if failed_before and row.event in PERSISTENT_EVENTS:
        # The on-call alert went out late: when, and after how many tries, is evidence
        # for the 8-hour period of the emergency.
        audit.record("notification.emergency_alert_delivered", request=row.request, obj=row,
                     authority_id=row.request.authority_id if row.request else None,
                     data={"recipient": row.recipient, "attempts": row.attempts,
                           "queued_at": row.created_at, "delivered_at": row.sent_at})


def _lock_pending(notification_id: int, planned: Notification | None
                  ) -> tuple[Notification, list[_Reader] | None] | None:
    """The pending row, locked (None when it is sent, or locked by another sender), and on
    PostgreSQL for a ``planned`` row the users with its address (``reader``), read with the lock:
    one round trip for both (issue 9 item 5). Its other columns (event, recipient, language,
    request) never change once planned; ``attempts`` may have been counted by a failed try
    elsewhere since it was planned, so it is read with the lock."""
    if planned is None or planned.pk != notification_id:
        row = (Notification.objects.select_for_update(skip_locked=True, of=("self",)).select_related("request")
               .defer(*_unmailed_request_fields()).filter(pk=notification_id, status=NotificationStatus.PENDING)
               .first())
        return None if row is None else (row, None)
    with connection.cursor() as cursor:  # one narrow statement, not compiled by the ORM per e-mail
        if connection.vendor == "postgresql":
            cursor.execute(_lock_planned_with_readers_statement(), [notification_id, NotificationStatus.PENDING])
            found = cursor.fetchall()
            if not found:
                return None
            planned.attempts = found[0][0]
            return planned, [_Reader(*user) for _attempts, *user in found if user[0] is not None]
        # SQLite (the embedded mode, one writer at a time) has no row locks to take.
        cursor.execute(_LOCK_PLANNED_SQL, [notification_id, NotificationStatus.PENDING])
        one = cursor.fetchone()
    if one is None:
        return None
    planned.attempts = one[0]
    return planned, None


_LOCK_PLANNED_SQL = 'SELECT attempts FROM "requests_app_notification" WHERE id = %s AND status = %s'


@functools.cache
def _lock_planned_with_readers_statement() -> str:
    """The planned row's lock and its readers: ``reader``'s statement, the row's address in place
    of its one parameter, joined laterally (one row per user with the address, or one of NULLs)."""
    return _planned_with_readers('n."id" = %s', 'readers."pk"', 'n."attempts"')


@functools.cache
def _lock_planned_together_statement() -> str:
    """``_lock_planned_with_readers_statement`` for the rows of a list (``send_together``)."""
    return _planned_with_readers('n."id" = ANY(%s)', 'n."id", readers."pk"', 'n."id", n."attempts"')


def _planned_with_readers(where: str, order: str, columns: str) -> str:
    users = _reader_statement()
    if users.count("%s") != 1:
        raise RuntimeError(f"unexpected parameters of the reader statement: {users!r}")
    users = users.replace("%s", 'n."recipient"')
    # The ORM's text and this module's constants, no value in it.
    return (f'SELECT {columns}, readers.* FROM "requests_app_notification" n '  # noqa: S608
            f"LEFT JOIN LATERAL ({users}) readers ON TRUE "
            f'WHERE {where} AND n."status" = %s ORDER BY {order} FOR UPDATE OF n SKIP LOCKED')


_MARK_SENT_TOGETHER_SQL = ('UPDATE "requests_app_notification" n SET "status" = %s, "attempts" = v.attempts, '
                           '"last_error" = \'\', "sent_at" = v.sent_at, "deliver_after" = NULL '
                           'FROM unnest(%s::bigint[], %s::integer[], %s::timestamptz[]) AS v(id, attempts, sent_at) '
                           'WHERE n."id" = v.id')
_MARK_SENT_SQL = ('UPDATE "requests_app_notification" SET "status" = %s, "attempts" = %s, "last_error" = %s, '
                  '"sent_at" = %s, "deliver_after" = NULL WHERE "id" = %s')


def _attach(mail: EmailMultiAlternatives, outbox_id: int) -> None:
    """The files stored with the outbox row, checked against the SHA-256 recorded with them."""
    import hashlib

    from outbox.models import OutboxAttachment

    for item in OutboxAttachment.objects.filter(message_id=outbox_id):
        content = bytes(item.content)
        if hashlib.sha256(content).hexdigest() != item.sha256:
            raise ValueError(f"attachment {item.filename} does not match its recorded SHA-256; not sent")
        mail.attach(item.filename, content, item.content_type)


# What an e-mail shows of its request (``render``, ``details``, ``link_for``) and what ``send``
# reads of it; the other columns of the wide row are not read with it (issue 9 item 5), and are
# read on first use if a template ever needs one.
_MAILED_REQUEST_FIELDS = frozenset({"id", "reference", "status", "due_at", "received_at", "receipt_hash",
                                    "emergency", "instrument", "decision", "authority"})


@functools.cache
def _unmailed_request_fields() -> tuple[str, ...]:
    return tuple(f"request__{f.name}" for f in LegalRequest._meta.concrete_fields
                 if f.name not in _MAILED_REQUEST_FIELDS)


# The emergency alert (the on-call e-mail of an emergency request: Reg. (EU) 2023/1543
# Art. 10(4), 8 hours from receipt; 18 U.S.C. § 2702(b)(8), (c)(4)) is never given up while its
# request is open: it is retried with capped backoff until an SMTP server accepts it. Any
# other e-mail is parked as a dead letter after its retries.
PERSISTENT_EVENTS = frozenset({"alert.emergency"})
RETRY_BASE_SECONDS = 5
RETRY_MAX_SECONDS = 600


def must_deliver(row: Notification) -> bool:
    """Whether ``row`` may never be parked as failed: an emergency alert of an open request."""
    return row.event in PERSISTENT_EVENTS and row.request is not None and row.request.is_open


def retry_delay(attempts: int, *, persistent: bool = False) -> timedelta:
    """The wait after the ``attempts``-th failed try: doubling from 5 s, capped (the emergency
    alert's cap is ``NOTIFY_EMERGENCY_RETRY_MAX_SECONDS``)."""
    cap = settings.NOTIFY_EMERGENCY_RETRY_MAX_SECONDS if persistent else RETRY_MAX_SECONDS
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), cap))


def _record_failure(notification_id: int, error: str) -> None:
    """Count a failed try on a pending row, keep its error and set its next try."""
    with transaction.atomic():
        row = (Notification.objects.select_for_update(of=("self",)).select_related("request")
               .filter(pk=notification_id, status=NotificationStatus.PENDING).first())
        if row is None:
            return
        row.attempts += 1
        row.last_error = error[:2000]
        row.deliver_after = timezone.now() + retry_delay(row.attempts, persistent=row.event in PERSISTENT_EVENTS)
        row.save(update_fields=["attempts", "last_error", "deliver_after"])
        if row.attempts == 1 and row.event in PERSISTENT_EVENTS:
            audit.record("notification.emergency_alert_failing", request=row.request, obj=row,
                         authority_id=row.request.authority_id if row.request else None,
                         data={"recipient": row.recipient, "error": row.last_error[:500],
                               "next_try": row.deliver_after})


def mark_failed(notification_id: int, error: str) -> bool:
    """Park a pending notification as a dead letter (True), unless it must still be delivered
    (``must_deliver``): then it stays pending, with the error, for its next try (False)."""
    row = Notification.objects.select_related("request").filter(
        pk=notification_id, status=NotificationStatus.PENDING).first()
    if row is None:
        return False
    if must_deliver(row):
        # The failed try is already counted with its error (``send``); only make sure it has a next one.
        if row.deliver_after is None:
            Notification.objects.filter(pk=row.pk, status=NotificationStatus.PENDING).update(
                deliver_after=timezone.now() + retry_delay(row.attempts, persistent=True),
                last_error=row.last_error or error[:2000])
        return False
    return bool(Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).update(
        status=NotificationStatus.FAILED, last_error=error[:2000]))


# --- digest and quiet hours -----------------------------------------------------------------

def _quiet_end(now: datetime) -> datetime | None:
    """End of the quiet period ``now`` falls in (local time), or None outside quiet hours."""
    spec = settings.NOTIFY_QUIET_HOURS.strip()
    if not spec:
        return None
    start_s, end_s = spec.split("-")
    zone = ZoneInfo(settings.NOTIFY_TIME_ZONE)
    local = now.astimezone(zone)
    start = local.replace(hour=int(start_s[:2]), minute=int(start_s[3:5]), second=0, microsecond=0)
    end = local.replace(hour=int(end_s[:2]), minute=int(end_s[3:5]), second=0, microsecond=0)
    if start <= end:  # e.g. 12:00-14:00
        return end if start <= local < end else None
    if local >= start:  # e.g. 20:00-07:00, evening part
        return end + timedelta(days=1)
    return end if local < end else None


def held_until(now: datetime) -> datetime | None:
    """When a non-urgent e-mail to the legal team may go out; None to send now."""
    quiet = _quiet_end(now)
    minutes = settings.NOTIFY_DIGEST_MINUTES
    if minutes <= 0:
        return quiet
    slot = now + timedelta(minutes=minutes)
    if quiet:
        return max(slot, quiet)
    # The digest slot itself may fall in quiet hours that start later: wait for their end.
    return _quiet_end(slot) or slot


def send_digests(now: datetime | None = None) -> int:
    """One e-mail per recipient gathering their held notifications whose time has come.

    A recipient whose mailbox refuses keeps their rows (attempts and error recorded, failed
    after ``MAX_DIGEST_ATTEMPTS``); the others still get their digests.
    """
    now = now or timezone.now()
    if _quiet_end(now):
        return 0
    due = Notification.objects.filter(status=NotificationStatus.HELD, deliver_after__lte=now)
    sent = 0
    for address in list(due.values_list("recipient", flat=True).distinct()):
        try:
            sent += _send_digest(due, address, now)
        except Exception as exc:
            log.warning("digest to %s failed: %s", address, exc)
            rows = due.filter(recipient=address)
            rows.update(attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000])
            rows.filter(attempts__gte=MAX_DIGEST_ATTEMPTS).update(status=NotificationStatus.FAILED)
    return sent


MAX_DIGEST_ATTEMPTS = 6


def _send_digest(due: Any, address: str, now: datetime) -> int:
    with transaction.atomic():
        rows = list(due.select_for_update(skip_locked=True, of=("self",)).filter(recipient=address)
                    .select_related("request").order_by("created_at", "pk"))
        if not rows:
            return 0
        with translation.override(rows[0].language):
            subject = _clean_header(str(_("Digest: %(count)d updates")) % {"count": len(rows)})
            # Only the legal team's e-mails are held for a digest: each item opens the request's admin page.
            context = {"items": [{"subject": r.subject, "reference": r.request.reference if r.request else "",
                                  "status": r.request.get_status_display() if r.request else "",
                                  "link": link_for(r.request, legal_team=True) if r.request else ""}
                                 for r in rows],
                       "link": f"{settings.PORTAL_BASE_URL.rstrip('/')}/admin/", "subject": subject}
            text = mail_templates.render("emails/digest.txt", context)
        NotificationMail(subject=subject, body=text, to=[address]).send()
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=NotificationStatus.SENT, sent_at=now, attempts=F("attempts") + 1)
        audit.record("notification.digest_sent", data={"recipient": address, "count": len(rows)})
    return 1
