"""No header injection: names, subjects and addresses with CR/LF never add a header or a recipient
(checked on the raw message the SMTP server received)."""

from __future__ import annotations

import re

import pytest

from requests_app import notifications
from requests_app.models import Notification

from .conftest import deliver, notify_outbox_ids
from .scenarios import World, emergency

pytestmark = pytest.mark.django_db

ATTACKER = "attacker@example.org"
INJECTION = f"Dupont\r\nBcc: {ATTACKER}\r\nX-Injected: yes"


def header_names(raw_headers: str) -> list[str]:
    return [line.split(":", 1)[0].lower() for line in re.split(r"\r?\n", raw_headers) if line and line[0] not in " \t"]


def assert_clean(smtp) -> None:
    assert smtp.messages
    for mail in smtp.messages:
        names = header_names(mail.headers)
        assert "bcc" not in names and "x-injected" not in names, mail.headers
        assert names.count("subject") == 1 and names.count("to") == 1, mail.headers
        assert len(mail.rcpt_tos) == 1 and ATTACKER not in mail.rcpt_tos
        assert "\n" not in mail.subject and "\r" not in mail.subject
    assert not smtp.to(ATTACKER)


def test_names_with_line_breaks_add_no_header(officer, team, submit, smtp):
    for user in (officer, team.reviewer, team.root):
        user.first_name, user.last_name = INJECTION, INJECTION
        user.save(update_fields=["first_name", "last_name"])
    submit()
    deliver()
    assert len(smtp.messages) == 6
    assert_clean(smtp)


def test_an_event_subject_with_line_breaks_stays_one_subject_line(monkeypatch, officer, team, submit, smtp):
    event = notifications.EVENTS["notify.new_request"]
    monkeypatch.setitem(notifications.EVENTS, "notify.new_request",
                        notifications.Event(event.audience, f"Hello {INJECTION}", f"Body {INJECTION}"))
    request = submit()
    deliver()
    assert len(smtp.messages) == 6
    assert_clean(smtp)
    assert smtp.messages[0].subject == f"[{request.reference}] Hello Dupont Bcc: {ATTACKER} X-Injected: yes"
    assert all(len(n.subject) <= 190 for n in Notification.objects.all())


def test_an_on_call_address_with_line_breaks_reaches_nobody_else(settings, officer, team, submit, smtp):
    settings.ON_CALL_EMAILS = [f"oncall@provider.example\r\nBcc: {ATTACKER}", "duty.lawyer@provider.example"]
    world = World(officer=officer, team=team, submit=submit, smtp=smtp)
    emergency(world)
    failures = {}
    for outbox_id in notify_outbox_ids():
        for pk in notifications.plan(outbox_id):
            try:
                notifications.send(pk)
            except ValueError as exc:  # Django refuses an address with a line break
                failures[pk] = exc
    bad = Notification.objects.filter(recipient__contains="\n")
    assert set(failures) == set(bad.values_list("pk", flat=True)) and len(failures) == 1
    assert bad.get().status == "pending" and bad.get().last_error
    assert_clean(smtp)
    assert smtp.to("duty.lawyer@provider.example")
