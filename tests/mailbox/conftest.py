"""The public mailbox over real SMTP on loopback.

``mailbox`` starts the portal's receiver (``requests_app.mailbox.receiver``) on a free port in
this process; ``send()`` delivers with smtplib. DKIM keys are generated here and published in
a fake DNS (``dns``) handed to the receiver through dkimpy's ``dnsfunc``. The receiver stores
in its own thread and connection, so these tests use ``transactional_db``. ``smtp`` (from the
notification tests) is the second aiosmtpd that receives what the portal sends; ``deliver()``
plays the Celery tasks' part.
"""

from __future__ import annotations

import base64
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts.services import authority_create
from requests_app.mailbox.receiver import controller
from requests_app.models import InboundMessage
from tests.notifications.conftest import deliver, free_port, smtp  # noqa: F401  (fixtures)

AUTHSERV = "mx.provider.example"
CONTACT = "legal@provider.example"


@dataclass
class Dns:
    records: dict[str, bytes] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    def __call__(self, name: bytes, timeout: int = 5) -> bytes | None:
        key = name.decode().rstrip(".").lower()
        self.lookups.append(key)
        return self.records.get(key)


@dataclass
class Key:
    domain: str
    selector: str
    private_pem: bytes

    def sign(self, raw: bytes) -> bytes:
        header = dkim.sign(raw, self.selector.encode(), self.domain.encode(), self.private_pem,
                           include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
        return header + raw


@pytest.fixture
def dns() -> Dns:
    return Dns()


@pytest.fixture
def dkim_key(dns) -> Callable[..., Key]:
    def make(domain: str, selector: str = "s2026", *, publish: bool = True) -> Key:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
        public = private.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
        if publish:
            dns.records[f"{selector}._domainkey.{domain}"] = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
        return Key(domain, selector, pem)

    return make


@pytest.fixture
def mailbox_settings(settings):
    settings.MAILBOX_AUTHSERV_ID = AUTHSERV
    settings.MAILBOX_ADDRESSES = [CONTACT]
    settings.MAILBOX_MAX_ATTACHMENTS = 3
    settings.MAILBOX_RATE_LIMIT = 5
    settings.ON_CALL_EMAILS = ["oncall@provider.example"]
    settings.PORTAL_BASE_URL = "https://portal.provider.example"
    settings.NOTIFY_DIGEST_MINUTES = 0
    settings.NOTIFY_QUIET_HOURS = ""
    settings.DEFAULT_FROM_EMAIL = "Lawful Request Portal <noreply@provider.example>"
    return settings


@pytest.fixture(autouse=True)
def no_publish(monkeypatch):
    """Nothing reaches the broker: ``deliver()`` plays the tasks' part synchronously."""
    from outbox import relay as outbox

    monkeypatch.setattr(outbox, "publish", lambda *args, **kwargs: False)


@pytest.fixture
def mailbox(transactional_db, mailbox_settings, dns):
    server = controller(host="127.0.0.1", port=free_port(), mode="smtp", dnsfunc=dns)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def verified_authority(transactional_db):
    return authority_create(name="Police nationale", country="FR", authority_type="other_competent",
                            domains=["interieur.gouv.fr"], switchboard_phone="+33100000000")


def compose(*, sender: str = "commissariat@interieur.gouv.fr", subject: str = "Réquisition judiciaire",
            body: str = "Veuillez trouver ci-joint la réquisition.", attachments: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
            headers: dict[str, str] | None = None, auth_results: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = CONTACT
    message["Subject"] = subject
    message["Date"] = formatdate(1789459200)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, data in attachments:
        message.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    if auth_results is not None:
        raw = f"Authentication-Results: {auth_results}\r\n".encode() + raw
    return raw


def passing(domain: str = "interieur.gouv.fr", dmarc: str = "pass") -> str:
    return (f"{AUTHSERV}; spf=pass smtp.mailfrom={domain}; dkim=pass header.d={domain}; "
            f"dmarc={dmarc} header.from={domain}")


def send(server, raw: bytes, *, mail_from: str = "commissariat@interieur.gouv.fr",
         to: str = CONTACT) -> InboundMessage:
    before = set(InboundMessage.objects.values_list("pk", flat=True))
    with smtplib.SMTP(server.hostname, server.port, timeout=10) as client:
        client.sendmail(mail_from, [to], raw)
    new = InboundMessage.objects.exclude(pk__in=before)
    assert new.count() == 1
    return new.get()
