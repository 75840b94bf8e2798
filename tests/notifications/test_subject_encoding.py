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
