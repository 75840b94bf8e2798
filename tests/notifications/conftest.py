"""A real SMTP server on loopback, the legal team, and the outbox → notification path run synchronously.

``smtp`` is an ``aiosmtpd`` server on 127.0.0.1 and a free port; Django's SMTP backend talks to it,
so what is asserted is what a mail server would receive (envelope, raw headers, parsed parts).
Events are produced by the real services; ``deliver()`` then does what the Celery tasks do:
``notifications.plan(outbox_id)`` for every ``notify.*`` / ``alert.*`` outbox row and
``notifications.send(id)`` for every pending notification.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from outbox.models import OutboxMessage
from requests_app import notifications
from requests_app.models import LegalRequest, Notification
from requests_app.permissions import ADMIN, APPROVER, REVIEWER
from requests_app.services.submission import request_submit
from requests_app.services.validation import request_validate
from tests.conftest import epoc_body

ON_CALL = ["oncall@provider.example", "duty.lawyer@provider.example"]


# --- the SMTP server --------------------------------------------------------------------------

@dataclass
class Received:
    """One message as the server got it."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    @property
    def subject(self) -> str:
        # Python folds a long encoded subject onto a continuation line; decoding keeps the fold's
        # leading space, which mail clients drop.
        return str(self.message["Subject"]).strip()

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part else ""

    @property
    def headers(self) -> str:
        """The raw header block, lines unfolded as sent."""
        return self.raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("ascii", "replace")

    def everything(self) -> str:
        return "\n".join([self.subject, self.text, self.html])


@dataclass
class Handler:
    messages: list[Received] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(Received(envelope.mail_from, [a.lower() for a in envelope.rcpt_tos],
                                      envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    def __init__(self) -> None:
        self.handler = Handler()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=5)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def clear(self) -> None:
        self.handler.messages.clear()

    def refuse(self, *addresses: str) -> None:
        self.handler.refused = {a.lower() for a in addresses}

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address.lower() in m.rcpt_tos]

    def with_subject(self, subject: str) -> list[Received]:
        return [m for m in self.messages if m.subject == subject]

    def recipients(self) -> list[str]:
        return sorted(a for m in self.messages for a in m.rcpt_tos)


@pytest.fixture
def smtp(settings):
    sink = SmtpSink()
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sink.port, 3
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield sink
    sink.stop()


@pytest.fixture(autouse=True)
def notify_settings(settings):
    settings.ON_CALL_EMAILS = list(ON_CALL)
    settings.NOTIFY_DIGEST_MINUTES = 0
    settings.NOTIFY_QUIET_HOURS = ""
    settings.NOTIFY_TIME_ZONE = "Europe/Brussels"
    settings.PORTAL_BASE_URL = "https://portal.provider.example"


@pytest.fixture(autouse=True)
def _outbox_stays_pending(no_publish):
    """Every test here: outbox rows stay pending (tests/conftest.py, ``no_publish``)."""


# --- the outbox → notification path -----------------------------------------------------------

def notify_outbox_ids() -> list[int]:
    return list(OutboxMessage.objects.filter(topic__regex=r"^(notify|alert)\.").order_by("id")
                .values_list("pk", flat=True))


def deliver() -> int:
    """What ``send_notifications`` and ``send_notification`` do, for every notification outbox row."""
    sent = 0
    for outbox_id in notify_outbox_ids():
        for notification_id in notifications.plan(outbox_id):
            sent += notifications.send(notification_id)
    return sent


# --- people -----------------------------------------------------------------------------------

def staff(email_address: str, *groups: str, superuser: bool = False, **extra: Any) -> User:
    user = User.objects.create_user(email=email_address, password=None, is_staff=True, is_superuser=superuser,
                                    **extra)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


@dataclass
class Team:
    reviewer: User
    reviewer2: User
    approver: User
    admin: User
    root: User

    @property
    def everyone(self) -> set[str]:
        """Who hears as 'the legal team' (reviewers, approvers, admins, superusers)."""
        return {u.email for u in (self.reviewer, self.reviewer2, self.approver, self.admin, self.root)}

    @property
    def approvers(self) -> set[str]:
        return {self.approver.email, self.admin.email, self.root.email}

    @property
    def admins(self) -> set[str]:
        return {self.admin.email, self.root.email}


@pytest.fixture
def team(db) -> Team:
    """The legal team, plus staff who must never hear: inactive, role-less, and an officer-looking address."""
    team = Team(
        reviewer=staff("reviewer@provider.example", REVIEWER, first_name="Rita"),
        reviewer2=staff("reviewer2@provider.example", REVIEWER),
        approver=staff("approver@provider.example", APPROVER),
        admin=staff("admin@provider.example", ADMIN),
        root=staff("root@provider.example", superuser=True),
    )
    staff("gone@provider.example", REVIEWER, ADMIN, is_active=False)
    staff("helpdesk@provider.example")  # staff without a legal role
    return team


# --- requests full of personal data ---------------------------------------------------------

# Strings that must never leave the portal by e-mail.
PERSONAL = {
    "phone": "+33612345678",
    "username": "suspect_account",
    "ip": "203.0.113.7",
    "name": "Jean Dupont",
    "offence": "Escroquerie en bande organisée au préjudice de Mme Dupont",
    "case_reference": "PN-2026-4242",
    "validation_reference": "PQ-2026-777",
    "emergency_reason": "Enlèvement de Lucie Martin, appeler le 0699887766",
    "note": "Interne: le suspect Jean Dupont est connu de nos services",
    "message": "Veuillez préciser la date de naissance de Jean Dupont 1985-04-12",
    "reason": "Motif: compte jean.dupont@mail.example inexistant",
    "cover": "Pièce jointe pour jean.dupont@mail.example",
    "file": "dupont_subscriber_records.txt",
    "person_reached": "Brigadier Claude Moreau",
}


def personal_body(**overrides: Any) -> dict[str, Any]:
    body = epoc_body(
        targets=[
            {"kind": "username", "value": PERSONAL["username"]},
            {"kind": "phone", "value": PERSONAL["phone"]},
            {"kind": "ip_address", "value": PERSONAL["ip"],
             "timestamp": epoc_body()["targets"][2]["timestamp"]},
        ],
        case_reference=PERSONAL["case_reference"],
        summary=f"Investigation into {PERSONAL['name']}, who sold fake tickets.",
        validation={**epoc_body()["validation"], "reference": PERSONAL["validation_reference"]},
    )
    body["offence"] = {**body["offence"], "description": PERSONAL["offence"]}
    body.update(overrides)
    return body


def validated(**overrides: Any) -> dict[str, Any]:
    """The body as the API serializer hands it to the service."""
    from requests_app.api.serializers import RequestCreateSerializer

    serializer = RequestCreateSerializer(data=personal_body(**overrides))
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@pytest.fixture
def submit(officer) -> Callable[..., LegalRequest]:
    """Submit (default: as the French police officer) and validate synchronously, as the task does."""

    def run(actor: Any = None, *, validate: bool = True, **overrides: Any) -> LegalRequest:
        request, created = request_submit(actor=actor or officer, data=validated(**overrides))
        assert created
        if validate:
            request_validate(request_id=request.pk)
        request.refresh_from_db()
        return request

    return run


def upload(name: str = PERSONAL["file"]) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, f"subscriber {PERSONAL['username']} {PERSONAL['phone']}\n".encode(),
                              content_type="text/plain")


def rows(topic: str, request: LegalRequest | None = None) -> list[Notification]:
    qs = Notification.objects.filter(event=topic)
    return list(qs.filter(request=request) if request is not None else qs)


def by_status(status: str) -> set[str]:
    return set(Notification.objects.filter(status=status).values_list("recipient", flat=True))


