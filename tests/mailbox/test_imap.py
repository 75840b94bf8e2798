"""IMAP polling (MAILBOX_SOURCE=imap): unseen messages stored through store.receive, marked seen only
after the commit, nothing lost or doubled when a round dies half-way.

The IMAP server is a fake ``imaplib.IMAP4`` object injected into ``imap.poll_once`` (``FakeImap``):
it keeps messages with UIDs and ``\\Seen`` flags and answers ``select``, ``uid("SEARCH"|"FETCH"|
"STORE")`` and ``logout`` in imaplib's own return shapes. At every ``STORE \\Seen`` it records
whether the message's row was already committed, which is the property under test.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from outbox.models import OutboxMessage
from requests_app.mailbox import imap, store
from requests_app.models import InboundMessage

from .conftest import compose

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class FakeImap:
    messages: dict[int, bytes] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    committed_at_store: list[bool] = field(default_factory=list)
    fail_store: set[int] = field(default_factory=set)
    selected: str = ""
    logged_out: bool = False
    commands: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, raw: bytes, *, seen: bool = False) -> int:
        uid = max(self.messages, default=100) + 1
        self.messages[uid] = raw
        if seen:
            self.seen.add(uid)
        return uid

    def select(self, folder: str = "INBOX") -> tuple[str, list[bytes]]:
        self.selected = folder
        return "OK", [str(len(self.messages)).encode()]

    def uid(self, command: str, *args: Any) -> tuple[str, list[Any]]:
        self.commands.append((command, *[str(a) for a in args]))
        if command == "SEARCH":
            assert args[-1] == "UNSEEN"
            return "OK", [b" ".join(str(u).encode() for u in sorted(self.messages) if u not in self.seen)]
        if command == "FETCH":
            uid, what = int(args[0]), args[1]
            assert what == "(BODY.PEEK[])", "fetching must not set \\Seen"
            raw = self.messages[uid]
            return "OK", [(f"1 (UID {uid} BODY[] {{{len(raw)}}}".encode(), raw), b")"]
        if command == "STORE":
            uid = int(args[0])
            assert args[1:] == ("+FLAGS", "(\\Seen)")
            sha = hashlib.sha256(self.messages[uid]).hexdigest()
            self.committed_at_store.append(InboundMessage.objects.filter(raw_sha256=sha).exists())
            if uid in self.fail_store:
                self.fail_store.discard(uid)
                raise OSError("connection reset by peer")  # the process dies between commit and STORE
            self.seen.add(uid)
            return "OK", [b""]
        raise AssertionError(command)

    def logout(self) -> tuple[str, list[bytes]]:
        self.logged_out = True
        return "BYE", [b""]


@pytest.fixture
def server(mailbox_settings) -> FakeImap:
    mailbox_settings.MAILBOX_SOURCE = "imap"
    return FakeImap()


def test_unseen_messages_are_stored_then_marked_seen_and_seen_ones_left_alone(server):
    first = server.add(compose(subject="Order 1"))
    server.add(compose(subject="Already read"), seen=True)
    third = server.add(compose(subject="Order 3"))

    result = imap.poll_once(lambda: server)

    assert (result.stored, result.duplicates, result.failed) == (2, 0, 0)
    assert sorted(InboundMessage.objects.values_list("subject", flat=True)) == ["Order 1", "Order 3"]
    assert server.seen >= {first, third} and server.committed_at_store == [True, True]
    assert server.selected == "INBOX" and server.logged_out
    stored = InboundMessage.objects.get(subject="Order 1")
    assert stored.raw_sha256 == hashlib.sha256(server.messages[first]).hexdigest()
    assert store.read_raw(stored) == server.messages[first]  # the exact bytes, as for the SMTP receiver
    assert stored.envelope_from == "commissariat@interieur.gouv.fr" and stored.peer.startswith("imap:")
    assert AuditEvent.objects.filter(action="mailbox.received").count() == 2
    # A second round finds nothing unseen and changes nothing.
    assert imap.poll_once(lambda: server).seen == 0 and InboundMessage.objects.count() == 2


def test_a_message_that_fails_to_store_stays_unseen_and_is_stored_next_round(server, monkeypatch):
    uid = server.add(compose(subject="Order 9"))
    real = store.receive

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(store, "receive", broken)
    result = imap.poll_once(lambda: server)
    assert (result.stored, result.failed) == (0, 1)
    assert uid not in server.seen and not InboundMessage.objects.exists()

    monkeypatch.setattr(store, "receive", real)
    assert imap.poll_once(lambda: server).stored == 1
    assert uid in server.seen and InboundMessage.objects.get().subject == "Order 9"


def test_a_crash_between_commit_and_seen_neither_loses_nor_doubles_the_message(server):
    uid = server.add(compose(subject="URGENT threat to life", attachments=[]))
    server.fail_store.add(uid)

    with pytest.raises(OSError):
        imap.poll_once(lambda: server)
    assert uid not in server.seen and InboundMessage.objects.count() == 1
    alerts = OutboxMessage.objects.filter(topic="alert.emergency").count()
    assert alerts == 1

    result = imap.poll_once(lambda: server)

    assert (result.stored, result.duplicates) == (0, 1)
    assert uid in server.seen
    assert InboundMessage.objects.count() == 1  # same SHA-256: the stored row, not a second one
    assert OutboxMessage.objects.filter(topic="alert.emergency").count() == alerts  # no second alert
    assert AuditEvent.objects.filter(action="mailbox.received").count() == 1


def test_a_copied_message_id_with_different_bytes_is_still_stored(server):
    original = compose(subject="Real order", headers={})
    message_id = next(line for line in original.split(b"\n") if line.lower().startswith(b"message-id:"))
    forged = original.replace(b"Real order", b"Forged copy")
    assert message_id in forged
    server.add(original)
    server.add(forged)
    assert imap.poll_once(lambda: server).stored == 2
    assert InboundMessage.objects.count() == 2


def test_the_return_path_is_the_envelope_sender_and_the_null_sender_stays_a_bounce(server):
    server.add(b"Return-Path: <>\r\n" + compose(subject="Delivery Status Notification"))
    server.add(b"Return-Path: <bounce+x@interieur.gouv.fr>\r\nDelivered-To: legal@provider.example\r\n"
               + compose(subject="Order 5"))
    imap.poll_once(lambda: server)
    bounce = InboundMessage.objects.get(subject="Delivery Status Notification")
    order = InboundMessage.objects.get(subject="Order 5")
    assert "auto_reply" in bounce.flags and bounce.ack_status == "skipped"
    assert order.envelope_from == "bounce+x@interieur.gouv.fr"
    assert order.envelope_to == ["legal@provider.example"]


def test_the_poller_runs_only_with_mailbox_source_imap(mailbox_settings):
    mailbox_settings.MAILBOX_SOURCE = "receiver"
    with pytest.raises(CommandError, match="MAILBOX_SOURCE"):
        call_command("poll_mailbox", "--once")
    mailbox_settings.MAILBOX_SOURCE = "imap"
    mailbox_settings.MAILBOX_IMAP_HOST = ""
    with pytest.raises(CommandError, match="MAILBOX_IMAP_HOST"):
        call_command("poll_mailbox", "--once")


def test_run_mailbox_dispatches_to_the_poller_when_the_source_is_imap(server, monkeypatch):
    server.add(compose(subject="Via the Procfile line"))
    monkeypatch.setattr(imap, "connect_from_settings", lambda: server)
    server_settings = {"MAILBOX_IMAP_HOST": "imap.provider.example"}
    from django.conf import settings

    for key, value in server_settings.items():
        monkeypatch.setattr(settings, key, value)
    monkeypatch.setattr(imap, "run", lambda **kwargs: imap.poll_once())
    call_command("run_mailbox")
    assert InboundMessage.objects.get().subject == "Via the Procfile line" and server.seen
