"""The public mailbox end to end: smtplib → the portal's aiosmtpd receiver → the inbox (issue 12 items 3, 4)."""

from __future__ import annotations

import hashlib
import smtplib

import pytest

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.mailbox import store
from requests_app.models import InboundMessage, Notification
from tests.requests_app.api.helpers import pdf_bytes

from .conftest import CONTACT, compose, deliver, passing, send

pytestmark = pytest.mark.django_db(transaction=True)


def acks(smtp, address: str):
    return [m for m in smtp.to(address) if m.subject == "Your e-mail has been received"]


def test_signed_message_from_a_verified_authority_is_stored_encrypted_judged_and_acknowledged(
        mailbox, dkim_key, verified_authority, smtp, private_storage):
    key = dkim_key("interieur.gouv.fr")
    pdf = pdf_bytes()
    raw = key.sign(compose(attachments=[("requisition.pdf", pdf)], auth_results=passing()))

    message = send(mailbox, raw)

    # Evidence: the bytes as sent, hashed; on disk only encrypted.
    assert message.raw_sha256 == hashlib.sha256(raw).hexdigest() and message.raw_size == len(raw)
    on_disk = store.storage_path(message.stored_name).read_bytes()
    assert b"interieur.gouv.fr" not in on_disk and b"Authentication-Results" not in on_disk
    assert store.read_raw(message) == raw
    # Verdicts.
    assert message.dkim == [{"domain": "interieur.gouv.fr", "selector": "s2026", "result": "pass",
                             "aligned": True, "error": ""}]
    assert message.dkim_aligned_pass and message.auth_results_trusted
    assert (message.spf, message.dmarc, message.arc) == ("pass", "pass", "")
    assert message.authority == verified_authority and message.authority_verified
    assert message.from_address == "commissariat@interieur.gouv.fr"
    assert message.subject == "Réquisition judiciaire"
    assert message.flags == [] and not message.emergency and message.status == "new"
    [attachment] = message.attachments.all()
    assert (attachment.filename, attachment.accepted, attachment.page_count) == ("requisition.pdf", True, 1)
    assert attachment.sha256 == hashlib.sha256(pdf).hexdigest()
    # Audit.
    event = AuditEvent.objects.get(action="mailbox.received")
    assert event.object_id == str(message.pk) and event.data["sha256"] == message.raw_sha256
    assert event.authority_id == verified_authority.pk
    # The acknowledgement, received by a second SMTP server: no case data, names the portal and registration.
    assert message.ack_status == "queued"
    deliver()
    [ack] = acks(smtp, "commissariat@interieur.gouv.fr")
    assert ack.message["Auto-Submitted"] == "auto-replied"
    text = ack.text
    assert "Lawful Request Portal" in text
    assert "https://portal.provider.example/register-authority/" in text
    assert "Réquisition" not in ack.everything() and "requisition.pdf" not in ack.everything()
    assert not smtp.to("oncall@provider.example")


def test_unsigned_message_is_stored_unauthenticated_and_not_acknowledged(mailbox, verified_authority, smtp):
    message = send(mailbox, compose())

    assert message.dkim == [] and not message.dkim_aligned_pass
    assert not message.auth_results_trusted and message.dmarc == ""
    assert message.authority == verified_authority and not message.authority_verified
    assert {"unauthenticated", "auth_results_missing"} <= set(message.flags)
    assert (message.ack_status, message.ack_reason) == ("skipped", "unauthenticated")
    assert not OutboxMessage.objects.filter(topic="notify.mailbox_ack").exists()


def test_signature_that_does_not_verify_is_recorded_as_fail(mailbox, dkim_key, verified_authority, dns):
    key = dkim_key("interieur.gouv.fr")
    raw = key.sign(compose(body="Original text."))
    tampered = raw.replace(b"Original text.", b"Altered text!!")

    message = send(mailbox, tampered)

    assert [v["result"] for v in message.dkim] == ["fail"]
    assert not message.authority_verified and "unauthenticated" in message.flags


def test_dmarc_fail_gets_no_acknowledgement_and_a_forged_from_is_flagged(mailbox, dkim_key, verified_authority,
                                                                         smtp):
    # The attacker signs with their own domain and claims the police's From: DKIM passes, unaligned.
    attacker = dkim_key("attacker.example")
    raw = attacker.sign(compose(auth_results=passing(dmarc="fail")))

    message = send(mailbox, raw, mail_from="x@attacker.example")

    assert message.dkim[0]["result"] == "pass" and message.dkim[0]["aligned"] is False
    assert message.dmarc == "fail" and not message.authority_verified
    assert {"dmarc_fail", "unauthenticated"} <= set(message.flags)
    assert (message.ack_status, message.ack_reason) == ("skipped", "dmarc_fail")
    deliver()
    assert not smtp.messages


def test_authentication_results_written_by_the_sender_are_not_believed(mailbox, verified_authority):
    forged = passing()
    raw = compose(headers={"Authentication-Results": forged},
                  auth_results="other.relay.example; spf=none")

    message = send(mailbox, raw)

    assert not message.auth_results_trusted and message.dmarc == ""
    assert {"auth_results_forged", "auth_results_missing", "unauthenticated"} <= set(message.flags)
    assert message.ack_status == "skipped"


@pytest.mark.parametrize("headers,mail_from", [
    ({"Auto-Submitted": "auto-replied"}, "commissariat@interieur.gouv.fr"),
    ({"Precedence": "bulk"}, "commissariat@interieur.gouv.fr"),
    ({}, ""),  # a bounce: the null sender
    ({}, "MAILER-DAEMON@interieur.gouv.fr"),
])
def test_auto_replies_and_bounces_are_stored_but_never_acknowledged(mailbox, dkim_key, verified_authority, smtp,
                                                                    headers, mail_from):
    key = dkim_key("interieur.gouv.fr")
    raw = key.sign(compose(headers=headers, auth_results=passing()))

    message = send(mailbox, raw, mail_from=mail_from)

    assert message.dkim_aligned_pass and message.dmarc == "pass"
    assert "auto_reply" in message.flags
    assert (message.ack_status, message.ack_reason) == ("skipped", "auto_reply")
    deliver()
    assert not smtp.messages


def test_emergency_alerts_on_call_at_once_even_without_any_signature(mailbox, smtp):
    message = send(mailbox, compose(subject="URGENCE - danger de mort, enlèvement en cours",
                                    sender="chef@police-locale.example"))

    assert message.emergency and "emergency" in message.flags
    assert message.dkim == [] and "unknown_domain" in message.flags
    alert = OutboxMessage.objects.get(topic="alert.emergency")
    assert alert.payload == {"inbound_message_id": message.pk}
    assert AuditEvent.objects.filter(action="mailbox.emergency_alerted", object_id=str(message.pk)).count() == 1
    deliver()
    [received] = smtp.to("oncall@provider.example")
    assert "EMERGENCY" in received.subject
    assert "enlèvement" not in received.everything() and "police-locale" not in received.everything()
    assert Notification.objects.get(event="alert.emergency").urgent


@pytest.mark.parametrize("subject,body", [
    ("Emergency disclosure request", "Please call."),
    ("Anfrage", "Es besteht Lebensgefahr, bitte dringend antworten."),
    ("Demande", "Menace imminente sur une personne."),
])
def test_emergency_keywords_in_three_languages(mailbox, subject, body):
    assert send(mailbox, compose(subject=subject, body=body)).emergency


def test_no_emergency_for_an_ordinary_message(mailbox):
    message = send(mailbox, compose(subject="Production order", body="Urgently-needed? no: routine request."))
    assert not message.emergency
    assert not OutboxMessage.objects.filter(topic="alert.emergency").exists()


def test_hostile_and_broken_attachments_are_recorded_with_their_code(mailbox, verified_authority):
    # Script is stripped by the upload sandbox (the cleaned copy is what a person would open);
    # what cannot be normalised is refused with its code.
    scripted = pdf_bytes(javascript=True)
    raw = compose(attachments=[("invoice.pdf", scripted),
                               ("locked.pdf", pdf_bytes(encrypted=True)),
                               ("fake.pdf", b"<html><script>alert(1)</script></html>")])

    message = send(mailbox, raw)

    assert store.read_raw(message) == raw
    rows = {a.filename: (a.accepted, a.rejection_code) for a in message.attachments.all()}
    assert rows == {"invoice.pdf": (True, ""), "locked.pdf": (False, "encrypted_pdf"),
                    "fake.pdf": (False, "not_pdf")}
    assert "attachment_rejected" in message.flags


def test_too_many_attachments_are_kept_unchecked_and_flagged(mailbox):
    raw = compose(attachments=[(f"doc{i}.pdf", pdf_bytes()) for i in range(5)])

    message = send(mailbox, raw)

    codes = [a.rejection_code for a in message.attachments.order_by("position")]
    assert codes == ["", "", "", "not_checked", "not_checked"]
    assert "too_many_attachments" in message.flags


def test_too_large_message_is_stored_and_flagged(mailbox, settings):
    settings.MAILBOX_MAX_BYTES = 20_000
    raw = compose(attachments=[("big.pdf", pdf_bytes(pages=1) + b"%" * 30_000)])

    message = send(mailbox, raw)

    assert "too_large" in message.flags and message.raw_size == len(raw)
    assert store.read_raw(message) == raw
    assert not message.attachments.exists()


def test_message_beyond_the_refusal_limit_is_refused_in_the_session(transactional_db, mailbox_settings, dns):
    from requests_app.mailbox.receiver import controller

    from .conftest import free_port

    mailbox_settings.MAILBOX_REFUSE_BYTES = 10_000
    server = controller(host="127.0.0.1", port=free_port(), dnsfunc=dns)
    server.start()
    try:
        # smtplib announces the size (RFC 1870), so the refusal comes at MAIL FROM.
        with smtplib.SMTP(server.hostname, server.port, timeout=10) as client, \
                pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
            client.sendmail("a@interieur.gouv.fr", [CONTACT], compose(body="x" * 20_000))
        assert refused.value.smtp_code == 552
    finally:
        server.stop()
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("raw", [
    b"this is not an e-mail at all\r\n\r\n\x00\xff\xfe\r\n",
    b"From: <<<broken\r\nSubject: =?utf-8?B?!!!notbase64?=\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n",
])
def test_malformed_message_is_kept_and_flagged(mailbox, raw):
    message = send(mailbox, raw)

    assert store.read_raw(message) == raw
    assert "malformed" in message.flags or "from_missing" in message.flags
    assert message.ack_status == "skipped"


def test_two_from_addresses_are_a_forged_sender(mailbox, verified_authority):
    raw = compose(sender="commissariat@interieur.gouv.fr, boss@attacker.example")

    message = send(mailbox, raw)

    assert "from_multiple" in message.flags
    assert (message.ack_status, message.ack_reason) == ("skipped", "forged_from")


def test_flood_from_one_sender_is_stored_flagged_and_not_acknowledged(mailbox, dkim_key, verified_authority):
    key = dkim_key("interieur.gouv.fr")
    messages = [send(mailbox, key.sign(compose(subject=f"Request {i}", auth_results=passing())))
                for i in range(7)]

    assert [m.ack_status for m in messages] == ["queued"] * 5 + ["skipped"] * 2
    assert all("rate_limited" in m.flags for m in messages[5:])
    assert InboundMessage.objects.count() == 7
    assert OutboxMessage.objects.filter(topic="notify.mailbox_ack").count() == 5


def test_flood_of_emergencies_alerts_once_per_window(mailbox, settings):
    settings.MAILBOX_RATE_LIMIT = 1
    for i in range(4):
        send(mailbox, compose(subject=f"Emergency {i}"))
    # The first two are below or at the limit's edge and each alerts; the flood alerts once more.
    assert OutboxMessage.objects.filter(topic="alert.emergency").count() == 2
    assert InboundMessage.objects.filter(emergency=True).count() == 4


def test_unknown_recipient_is_refused(mailbox):
    with smtplib.SMTP(mailbox.hostname, mailbox.port, timeout=10) as client, \
            pytest.raises(smtplib.SMTPRecipientsRefused):
        client.sendmail("a@interieur.gouv.fr", ["someone@provider.example"], compose())
    assert not InboundMessage.objects.exists()


def test_storage_fault_answers_a_temporary_failure_and_leaves_nothing(mailbox, monkeypatch, private_storage):
    def broken(**kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(store.InboundMessage.objects, "create", broken)
    with smtplib.SMTP(mailbox.hostname, mailbox.port, timeout=10) as client, \
            pytest.raises(smtplib.SMTPDataError) as refused:
        client.sendmail("a@interieur.gouv.fr", [CONTACT], compose())
    assert refused.value.smtp_code == 451
    assert not InboundMessage.objects.exists()
    assert not list((private_storage / "mailbox").rglob("*")) or \
        not [p for p in (private_storage / "mailbox").rglob("*") if p.is_file()]


def test_imap_is_chosen_by_mailbox_source_not_by_the_receiver_mode():
    """IMAP polling is built (tests/mailbox/test_imap.py) behind MAILBOX_SOURCE=imap; with the default
    source, asking the receiver for an imap mode is refused openly."""
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="MAILBOX_SOURCE=imap"):
        call_command("run_mailbox", mode="imap")
