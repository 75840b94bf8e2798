"""The receipt the validation task sends itself, in French (a non-ASCII Subject): its Subject is
encoded without ``email.charset.Charset.header_encode_lines`` (quadratic in the Subject's length)
and its status shown without ``get_status_display``'s ``make_hashable`` of every choice (issue 9
item 5, requests_app/mail_headers.py). Both were called for every receipt at 5da51ce. That the
encoded Subject and the message are Django's own, byte for byte: tests/notifications/
test_subject_encoding.py.
"""

from __future__ import annotations

from email.charset import Charset
from email.header import Header

import pytest
from django.core import mail
from django.utils import translation

from requests_app import notifications, tasks
from requests_app.models import LegalRequest
from tests.conftest import client_for, epoc_body


@pytest.fixture
def counted(monkeypatch) -> dict[str, int]:
    calls = {"header_encode_lines": 0, "make_hashable": 0}
    encode_lines = Charset.header_encode_lines

    def header_encode_lines(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["header_encode_lines"] += 1
        return encode_lines(self, *args, **kwargs)

    from django.utils.hashable import make_hashable

    def counting_make_hashable(value):  # type: ignore[no-untyped-def]
        calls["make_hashable"] += 1
        return make_hashable(value)

    monkeypatch.setattr(Charset, "header_encode_lines", header_encode_lines)
    # Model._get_FIELD_display imports it into django.db.models.base.
    monkeypatch.setattr("django.db.models.base.make_hashable", counting_make_hashable)
    return calls


@pytest.mark.django_db(transaction=True)
def test_a_french_receipt_is_sent_without_the_email_packages_splitter_nor_make_hashable(
        officer, no_broker, counted):
    officer.language = "fr"
    officer.save(update_fields=["language"])
    response = client_for(officer).post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201, response.content
    request = LegalRequest.objects.get(reference=response.json()["reference"])
    mail.outbox = []
    counted.update(header_encode_lines=0, make_hashable=0)
    tasks.validate_request.run(request.pk)
    during = dict(counted)
    [sent] = [m for m in mail.outbox if m.to == [officer.email]]
    with translation.override("fr"):
        expected = f"[{request.reference}] {notifications.EVENTS['notify.new_request'].subject}"
    assert sent.subject == expected and not sent.subject.isascii()
    raw = sent.message().as_bytes()
    assert Header(expected, "utf-8").encode().encode() in raw.replace(b"\r\n", b"\n")
    assert during == {"header_encode_lines": 0, "make_hashable": 0}


