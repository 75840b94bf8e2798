"""Who may open which portal page: owner, colleague, other authority, anonymous, pending."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

REQUEST_PAGES = ["portal:request_detail", "portal:request_receipt", "portal:request_withdraw"]
OFFICER_PAGES = ["portal:request_list", "portal:request_new", "portal:tokens"]


@pytest.mark.parametrize("name", REQUEST_PAGES)
def test_owner_and_colleague_see_request_pages(name, own_request, officer_client, colleague_client):
    url = reverse(name, args=[own_request.reference])
    assert officer_client.get(url).status_code == 200
    assert colleague_client.get(url).status_code == 200


@pytest.mark.parametrize("name", [*REQUEST_PAGES, "portal:clarification"])
def test_other_authority_gets_404_like_a_missing_request(name, own_request, other_client):
    response = other_client.get(reverse(name, args=[own_request.reference]))
    missing = other_client.get(reverse(name, args=["LRP-2099-999999"]))
    assert response.status_code == missing.status_code == 404
    assert AuditEvent.objects.filter(action="access.denied", request_id=own_request.pk).exists()


@pytest.mark.parametrize("name", REQUEST_PAGES)
def test_anonymous_is_sent_to_sign_in_from_request_pages(name, own_request, client):
    response = client.get(reverse(name, args=[own_request.reference]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", [*REQUEST_PAGES])
def test_pending_officer_sees_only_the_awaiting_page(name, own_request, pending_client):
    response = pending_client.get(reverse(name, args=[own_request.reference]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:awaiting_approval")


@pytest.mark.parametrize("name", OFFICER_PAGES)
def test_officer_pages(name, officer_client, client, pending_client):
    url = reverse(name)
    assert officer_client.get(url).status_code == 200
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("account_login"))
    pending = pending_client.get(url)
    assert pending.status_code == 302 and pending["Location"] == reverse("portal:awaiting_approval")


def test_home_signed_out_is_the_landing_page(client):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    assert reverse("portal:authority_registration").encode() in response.content


def test_home_signed_in_lists_own_requests_only(own_request, make_request, other_officer, officer_client):
    theirs = make_request(actor=other_officer)
    body = officer_client.get(reverse("portal:home")).content.decode()
    assert own_request.reference in body
    assert theirs.reference not in body


def test_home_of_pending_officer_redirects_to_awaiting(pending_client):
    response = pending_client.get(reverse("portal:home"))
    assert response["Location"] == reverse("portal:awaiting_approval")
    page = pending_client.get(reverse("portal:awaiting_approval"))
    assert page.status_code == 200
    assert "Awaiting approval" in page.content.decode()


def test_awaiting_page_sends_approved_officers_home(officer_client):
    assert officer_client.get(reverse("portal:awaiting_approval"))["Location"] == reverse("portal:home")


def test_officers_page_only_for_authority_admins(admin_client, officer_client, client, pending_client):
    url = reverse("portal:officers")
    assert admin_client.get(url).status_code == 200
    assert officer_client.get(url).status_code == 403
    assert client.get(url)["Location"].startswith(reverse("account_login"))
    assert pending_client.get(url)["Location"] == reverse("portal:awaiting_approval")


def test_healthz_still_answers(client):
    assert client.get("/healthz").status_code == 200


def test_registration_page_is_open_to_anonymous(client):
    assert client.get("/register-authority/").status_code == 200
    assert reverse("portal:authority_registration") == "/register-authority/"
