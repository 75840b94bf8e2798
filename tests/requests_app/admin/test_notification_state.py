"""The change page shows the delivery state of every e-mail about the request."""

import pytest

from outbox.models import OutboxMessage
from requests_app.models import Notification

from .conftest import change_url

pytestmark = pytest.mark.django_db


def test_delivery_state_and_attempts_are_shown_per_request(as_reviewer, make_request):
    request = make_request()
    outbox = OutboxMessage.objects.create(topic="notify.decision", request=request)
    Notification.objects.create(key=f"{outbox.pk}:a@x.example", outbox=outbox, request=request,
                                event="notify.decision", recipient="a@x.example", subject="s", status="failed",
                                attempts=7, last_error="SMTPRecipientsRefused: 550 no such user")
    page = as_reviewer.get(change_url(request)).content.decode()
    assert "a@x.example" in page and "550 no such user" in page
    assert "Failed (dead letter)" in page and ">7<" in page
