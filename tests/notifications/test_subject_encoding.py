"""A non-ASCII Subject (the receipt of a French or German officer) is encoded as Django encodes it,
byte for byte, without the email package's character-by-character re-encoding (issue 9 item 5,
requests_app/mail_headers.py). At 5da51ce every e-mail's Subject went through
``email.charset.Charset.header_encode_lines``, quadratic in the Subject's length, and the e-mail's
status through ``get_status_display`` (Django's ``make_hashable`` of every choice per call). The
count of both in the validation task's receipt: tests/requests_app/perf/test_receipt_budget.py.
"""

from __future__ import annotations

import email
import email.policy
from email.header import Header

import pytest
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from requests_app import notifications
from requests_app.mail_headers import NotificationMail, encoded_subject
from requests_app.models import LegalRequest
from tests.conftest import client_for, epoc_body

# Letters, marks, emoji, the characters Q-encoding escapes, and the whitespace a Subject keeps.
_TEXT = st.text(st.characters(codec="utf-8") | st.sampled_from(list(" _=?\t[]-é€😀")),
                min_size=0, max_size=240)


@settings(max_examples=600, deadline=None)
@given(_TEXT)
def test_the_subject_is_the_string_header_gives(value):
    assert encoded_subject(value) == Header(value, "utf-8").encode()


@pytest.mark.parametrize("value", [
    "[LRP-2026-000042] Demande reçue et validée",
    "[LRP-2026-000042] Antrag eingegangen und geprüft – " + "ü" * 80,  # base64 wins, three encoded-words
    "é" * 21 + "a" * 200,  # Q wins, split mid-way
    "\udc80 lone surrogate é",  # not encodable: the email package's own handling
    "line\u2028separator é",  # a line break for str.splitlines: Header's own handling
    "",
])
def test_edge_cases_are_the_string_header_gives(value):
    try:
        expected: str | type[Exception] = Header(value, "utf-8").encode()
    except Exception as exc:  # whatever Header raises, encoded_subject raises too
        expected = type(exc)
    if isinstance(expected, str):
        assert encoded_subject(value) == expected
    else:
        with pytest.raises(expected):
            encoded_subject(value)


@pytest.mark.parametrize("subject", ["[LRP-2026-000042] Demande reçue et validée", "[LRP-2026-000042] Plain ASCII",
                                     "Ünïcödé " * 30])
def test_the_message_is_the_one_django_builds_byte_for_byte(subject):
    headers = {"Date": "Sun, 06 Dec 2026 19:00:00 -0000", "Message-ID": "<fixed@portal.example>",
               "Auto-Submitted": "auto-replied"}
    ours = NotificationMail(subject=subject, body="Texte é\n", to=["officer@interieur.gouv.fr"], headers=headers)
    theirs = EmailMultiAlternatives(subject=subject, body="Texte é\n", to=["officer@interieur.gouv.fr"],
                                    headers=headers)
    for message in (ours, theirs):
        message.attach_alternative("<p>Texte é</p>", "text/html")
    # The boundary is random per message: the same one for both.
    ours_msg, theirs_msg = ours.message(), theirs.message()
    ours_msg.set_boundary("BOUNDARY")
    theirs_msg.set_boundary("BOUNDARY")
    assert ours_msg.as_bytes() == theirs_msg.as_bytes()
    assert ours.subject == subject  # the message object is left as it was given
    parsed = email.message_from_bytes(ours_msg.as_bytes(), policy=email.policy.default)
    assert " ".join(str(parsed["Subject"]).split()) == " ".join(subject.split())


def test_a_line_break_in_the_subject_is_still_refused():
    for subject in ("Demande reçue\nBcc: x@example.org", "é\r\nX-Injected: 1"):
        with pytest.raises(BadHeaderError):
            NotificationMail(subject=subject, body="", to=["a@example.org"]).message()


@pytest.mark.django_db
def test_the_status_shown_is_get_status_display_in_each_language(officer):
    response = client_for(officer).post("/api/v1/requests/", epoc_body(), format="json")
    request = LegalRequest.objects.get(reference=response.json()["reference"])
    for language in ("en", "fr", "de"):
        with translation.override(language):
            assert notifications.status_display(request) == request.get_status_display()
    request.status = "not-a-status"
    assert notifications.status_display(request) == request.get_status_display() == "not-a-status"


# --- the MIME boundary (requests_app/mail_headers.py, _Boundary) ------------------------------

_HEADERS = {"Date": "Sun, 06 Dec 2026 19:00:00 -0000", "Message-ID": "<fixed@portal.example>"}


def _both(subject: str, text: str, html: str, attach: bytes | None = None) -> list[EmailMultiAlternatives]:
    mails = [NotificationMail(subject=subject, body=text, to=["officer@interieur.gouv.fr"], headers=_HEADERS),
             EmailMultiAlternatives(subject=subject, body=text, to=["officer@interieur.gouv.fr"], headers=_HEADERS)]
    for message in mails:
        message.attach_alternative(html, "text/html")
        if attach is not None:  # the enforcing authority's copy: multipart/mixed around the alternatives
            message.attach("annex-iii.pdf", attach, "application/pdf")
    return mails


def _serialised(mail: EmailMultiAlternatives, seed: int) -> tuple[bytes, bytes, str]:
    """What the SMTP backend sends (CRLF), as_bytes and as_string, the random generator seeded alike."""
    import random

    out = []
    for serialise in (lambda m: m.as_bytes(linesep="\r\n"), lambda m: m.as_bytes(), lambda m: m.as_string()):
        random.seed(seed)  # the boundary is drawn when a fresh message is serialised
        out.append(serialise(mail.message()))
    return out[0], out[1], out[2]


@settings(max_examples=200, deadline=None)
@given(subject=_TEXT.map(lambda s: " ".join(s.split())), text=st.text(max_size=300), html=st.text(max_size=300),
       attach=st.none() | st.binary(max_size=200), seed=st.integers(0, 2**32))
def test_the_serialised_message_is_djangos_byte_for_byte(subject, text, html, attach, seed):
    ours, theirs = _both(subject, text, html, attach)
    assert _serialised(ours, seed) == _serialised(theirs, seed)


@pytest.mark.parametrize("line", ["--{b}", "--{b}--", "x--{b}", "--{b}x"])
def test_a_text_holding_the_drawn_boundary_gets_the_boundary_django_gives(line):
    import random
    import sys

    random.seed(7)
    token = random.randrange(sys.maxsize)
    boundary = "=" * 15 + f"%0{len(repr(sys.maxsize - 1))}d" % token + "=="
    text = "Texte é\n" + line.format(b=boundary) + "\nfin\n"
    ours, theirs = _both("Demande reçue", text, "<p>é</p>")
    serialised = _serialised(ours, 7)
    assert serialised == _serialised(theirs, 7)
    # A line of its own (with "\n" line ends: the email package's check misses a line ending in "\r").
    on_a_line = line in {"--{b}", "--{b}--"}
    assert (f'boundary="{boundary}.0"'.encode() in serialised[1]) == on_a_line


def test_the_message_object_is_djangos_multipart_with_the_same_parts():
    from django.core.mail.message import SafeMIMEMultipart

    ours, theirs = (m.message() for m in _both("Demande reçue", "Texte é", "<p>é</p>", b"%PDF-1.4"))
    assert isinstance(ours, SafeMIMEMultipart)

    def parts(message):  # type: ignore[no-untyped-def]
        return [(p.get_content_type(), p.items() if not p.is_multipart() else None,
                 None if p.is_multipart() else p.get_payload()) for p in message.walk()]

    assert parts(ours) == parts(theirs)
