"""Decision and clarification e-mails say what to act on, without personal data."""

import pytest

from outbox.models import OutboxMessage
from requests_app.notifications import render
from requests_app.states import Status
from tests.four_eyes import approve_annex

pytestmark = pytest.mark.django_db


def test_a_clarification_mail_names_the_fields_the_articles_and_the_date(submit):
    request = submit(targets=[{"kind": "ip_address", "value": "198.51.100.23"}])
    assert request.status == Status.CLARIFICATION_REQUESTED
    assert OutboxMessage.objects.filter(request=request, topic="notify.clarification_requested").exists()
    _subject, text, html = render("notify.clarification_requested", request, "en")
    assert "Fields to complete or correct: targets" in text
    assert "Reg. (EU) 2023/1543" in text and "Please answer by:" in text
    assert "198.51.100.23" not in text + html


def test_a_refusal_mail_names_the_deciding_article(submit, reviewer, approver):
    from requests_app.services import review

    request = submit(data_categories=["traffic"])  # a prosecutor cannot validate traffic data: Art. 4(2)
    assert request.status == Status.IN_REVIEW  # proposed; a person decides
    approve_annex(approver, review.not_executed(actor=reviewer, request=request,
                                                reasons=[{"identifier": "", "reasons": ["not_issued_per_art_4"]}]))
    request.refresh_from_db()
    assert request.status == Status.NOT_EXECUTED
    _subject, text, _html = render("notify.decision", request, "fr")
    assert "Dispositions déterminantes" in text and "Art. 4" in text
