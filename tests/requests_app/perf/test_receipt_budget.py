"""The receipt the validation task sends itself, in French (a non-ASCII Subject): its Subject is
encoded without ``email.charset.Charset.header_encode_lines`` (quadratic in the Subject's length)
and its status shown without ``get_status_display``'s ``make_hashable`` of every choice (issue 9
item 5, requests_app/mail_headers.py). Both were called for every receipt at 5da51ce. That the
encoded Subject and the message are Django's own, byte for byte: tests/notifications/
test_subject_encoding.py.

After the first receipt in a language, the templates' constant ``{% translate %}`` tags are not
rendered again and the language is activated once per e-mail rendered (requests_app/mail_templates.py;
12 tags and 2 activations per receipt at 630151b); the receipt is the one the ``render_to_string``
path sent, byte for byte, in every language (the templates themselves: tests/notifications/
test_mail_templates.py).
"""

from __future__ import annotations

from email.charset import Charset
from email.header import Header

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.templatetags.i18n import TranslateNode
from django.utils import translation

from requests_app import notifications, tasks
from requests_app.models import LegalRequest, Notification, NotificationStatus
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




LANGUAGES = ["en", "fr", "de"]


def _receipt(officer) -> LegalRequest:  # type: ignore[no-untyped-def]
    """A submission and its validation task (which sends the receipt itself); the request."""
    response = client_for(officer).post("/api/v1/requests/", epoc_body(), format="json")
    assert response.status_code == 201, response.content
    request = LegalRequest.objects.get(reference=response.json()["reference"])
    mail.outbox = []
    tasks.validate_request.run(request.pk)
    return request


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_second_receipt_renders_no_translate_tag_and_activates_its_language_once(
        officer, no_broker, monkeypatch, language):
    officer.language = language
    officer.save(update_fields=["language"])
    _receipt(officer)  # the first in this language (and process, when run alone)
    calls = {"translate": 0, "override": 0}
    render_node, enter, render = TranslateNode.render, translation.override.__enter__, notifications.render

    def counting_node(self, context):  # type: ignore[no-untyped-def]
        calls["translate"] += 1
        return render_node(self, context)

    def counting_enter(self):  # type: ignore[no-untyped-def]
        calls["override"] += 1
        return enter(self)

    activations: list[int] = []  # per e-mail rendered

    def counting_render(*args, **kwargs):  # type: ignore[no-untyped-def]
        before = calls["override"]
        result = render(*args, **kwargs)
        activations.append(calls["override"] - before)
        return result

    monkeypatch.setattr(TranslateNode, "render", counting_node)
    monkeypatch.setattr(translation.override, "__enter__", counting_enter)
    monkeypatch.setattr(notifications, "render", counting_render)
    _receipt(officer)
    assert [m.to for m in mail.outbox] == [[officer.email]]
    assert calls["translate"] == 0
    assert activations == [1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_receipt_sent_is_the_one_render_to_string_sent_byte_for_byte(officer, no_broker, monkeypatch, language):
    officer.language = language
    officer.save(update_fields=["language"])
    # The Date, Message-ID and MIME boundary are the only parts that vary per message.
    monkeypatch.setattr("django.core.mail.message.formatdate", lambda *a, **k: "Sun, 06 Dec 2026 21:00:00 -0000")
    monkeypatch.setattr("django.core.mail.message.make_msgid", lambda *a, **k: "<fixed@portal.example>")

    def sent() -> bytes:
        [message] = [m.message() for m in mail.outbox if m.to == [officer.email]]
        message.set_boundary("BOUNDARY")
        mail.outbox = []
        return bytes(message.as_bytes())

    from requests_app import mail_templates

    for _ in range(2):  # the second receipt with what the first kept
        request = _receipt(officer)
        ours = sent()
        # The same receipt sent again, through render_to_string as before mail_templates.
        row = Notification.objects.get(request=request, recipient=officer.email)
        Notification.objects.filter(pk=row.pk).update(status=NotificationStatus.PENDING)
        with monkeypatch.context() as before:
            before.setattr(mail_templates, "render", render_to_string)
            assert notifications.send(row.pk)
        assert ours == sent()
        assert request.reference.encode() in ours


@pytest.mark.django_db(transaction=True)
def test_the_receipt_is_serialised_without_compiling_a_boundary_pattern(officer, no_broker, monkeypatch):
    """As the SMTP backend sends it (``message().as_bytes(linesep="\\r\\n")``): the email package
    compiled a new regular expression for every message's random boundary (1 per receipt at 630151b)."""
    from email.generator import BytesGenerator, Generator

    _receipt(officer)
    [sent] = [m for m in mail.outbox if m.to == [officer.email]]
    compiled: list[str] = []
    for generator in (Generator, BytesGenerator):  # each has its own _compile_re (str, bytes)
        def counting(cls, s, flags, _compile_re=generator._compile_re.__func__):  # type: ignore[attr-defined,no-untyped-def]
            compiled.append(s)
            return _compile_re(cls, s, flags)

        monkeypatch.setattr(generator, "_compile_re", classmethod(counting))
    raw = sent.message().as_bytes(linesep="\r\n")
    assert b"Content-Type: multipart/alternative;\r\n boundary=\"===============" in raw
    assert compiled == []
