"""Confidential requests are need-to-know inside the authority (issue 14 item 10).

Visible to the submitting officer, the authority's administrators and the colleagues named on
the request; every other officer of the same authority gets the same 404 as for a foreign
reference, audited, through the API and the web pages alike.
"""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.services import officer_create
from audit.models import AuditEvent
from requests_app.models import LegalRequest
from tests.conftest import client_for, epoc_body

from .helpers import API, counts, detail_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def delegate(authority):
    return officer_create(language="en", authority=authority, email="delegate@interieur.gouv.fr")


@pytest.fixture
def chief(authority):
    user = officer_create(language="en", authority=authority, email="chief@interieur.gouv.fr")
    user.is_authority_admin = True
    user.save(update_fields=["is_authority_admin"])
    return user


@pytest.fixture
def confidential(api, delegate):
    body = epoc_body(confidential=True, confidentiality_reason="The suspect must not learn of it.",
                     delegates=[delegate.email])
    response = api.post(API, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["reference"]


def references(client) -> set[str]:
    return {item["reference"] for item in client.get(API).json()["results"]}


def test_a_confidential_request_is_seen_by_submitter_delegate_and_administrator_only(
        api, confidential, colleague, delegate, chief):
    ordinary = api.post(API, epoc_body(), format="json").json()["reference"]
    colleague_api = client_for(colleague)
    assert references(colleague_api) == {ordinary}
    assert colleague_api.get(detail_url(confidential)).status_code == 404
    denied = AuditEvent.objects.get(action="access.denied")
    assert denied.actor_id == colleague.pk and denied.data["reason"] == "confidential"
    for user in (delegate, chief):
        assert references(client_for(user)) == {ordinary, confidential}
        assert client_for(user).get(detail_url(confidential)).status_code == 200
    detail = api.get(detail_url(confidential)).json()
    assert detail["confidential"] is True and detail["delegates"] == [delegate.email]


def test_the_web_pages_hide_a_confidential_request_from_other_colleagues(confidential, colleague, delegate):
    colleague_web, delegate_web = Client(), Client()
    colleague_web.force_login(colleague)
    delegate_web.force_login(delegate)
    assert confidential not in colleague_web.get("/requests/").content.decode()
    assert colleague_web.get(f"/requests/{confidential}/").status_code == 404
    assert confidential in delegate_web.get("/requests/").content.decode()
    assert delegate_web.get(f"/requests/{confidential}/").status_code == 200


def test_a_delegate_who_is_not_a_colleague_is_refused_and_nothing_is_stored(api, other_officer):
    before = counts()
    body = epoc_body(confidential=True, delegates=[other_officer.email])
    response = api.post(API, body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and other_officer.email in str(error["fields"]["delegates"])
    assert counts() == before and LegalRequest.objects.count() == 0
