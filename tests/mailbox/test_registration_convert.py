"""The inbox's "turn into a request" is the legal team's registration page, prefilled from the message."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from requests_app.mailbox import store
from requests_app.models import InboundMessage, LegalRequest
from tests.requests_app.api.helpers import pdf_bytes
from tests.web.forms import form_data

from .conftest import compose

pytestmark = pytest.mark.django_db
REGISTER = "/admin/requests_app/legalrequest/register/"


@pytest.fixture
def legal(reviewer) -> Client:
    client = Client()
    client.force_login(reviewer)
    return client


def test_convert_registers_through_the_registration_page_with_the_messages_receipt_time(
        legal, reviewer, mailbox_settings, authority, officer):
    with time_machine.travel(timezone.now() - timedelta(days=2), tick=False):
        message = store.receive(raw=compose(attachments=[("order.pdf", pdf_bytes())]),
                                envelope_from="commissariat@interieur.gouv.fr")
    page = legal.get(f"{REGISTER}?inbound={message.pk}").content.decode()
    assert f'name="inbound" value="{message.pk}"' in page and authority.name in page

    # Whatever the browser sends for the locked fields, the message's authority, channel and time win.
    data = form_data(inbound=str(message.pk), channel="fax", received_at="2026-01-01T00:00")
    response = legal.post(REGISTER, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    request = LegalRequest.objects.get()
    message.refresh_from_db()
    assert (message.status, message.request) == ("converted", request)
    assert (request.channel, request.received_at, request.authority) == ("email", message.received_at, authority)
    assert request.late_registration  # two days > the 24 h margin
    assert request.attachments.count() == 1  # the message's accepted PDF
    event = AuditEvent.objects.get(action="request.registered")
    assert event.actor_id == reviewer.pk and event.data["inbound_message_id"] == message.pk
    assert AuditEvent.objects.filter(action="mailbox.converted", request_id=request.pk).exists()

    again = legal.post(REGISTER, form_data(inbound=str(message.pk)))
    assert again.status_code == 302 and LegalRequest.objects.count() == 1  # already handled: nothing new


def test_convert_of_a_message_from_an_unknown_domain_stores_nothing(legal, mailbox_settings, authority):
    message = store.receive(raw=compose(sender="someone@unknown.example"), envelope_from="someone@unknown.example")
    response = legal.post(REGISTER, form_data(inbound=str(message.pk), contact_email="someone@unknown.example"))
    assert response.status_code == 400 and "verified authority" in response.content.decode()
    assert not LegalRequest.objects.exists()
    assert InboundMessage.objects.get().status == "new"
