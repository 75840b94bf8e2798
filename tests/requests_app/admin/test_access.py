"""Who may open the legal team's admin: every role of the team; never an officer or a
stranger; staff without a legal role see nothing of the requests."""

from __future__ import annotations

import pytest
from django.test import Client

from .conftest import CHANGELIST, change_url, login, staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["reviewer", "approver", "legal_admin"])
def test_each_role_opens_the_queue_and_the_request_page(request, role, make_request):
    client = login(request.getfixturevalue(role))
    obj = make_request()
    assert client.get(CHANGELIST).status_code == 200
    page = client.get(change_url(obj))
    assert page.status_code == 200
    assert obj.reference in page.content.decode()


def test_an_officer_is_sent_to_the_login_page(officer, make_request):
    client = login(officer)
    obj = make_request()
    for url in (CHANGELIST, change_url(obj), f"{CHANGELIST}{obj.pk}/act/note/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_anonymous_is_sent_to_the_login_page(db):
    response = Client().get(CHANGELIST)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_staff_without_a_legal_role_is_refused(make_request):
    client = login(staff("it@provider.example"))
    obj = make_request()
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_url(obj)).status_code == 403
    assert client.get(f"{CHANGELIST}{obj.pk}/act/note/").status_code == 403


def test_nobody_adds_changes_or_deletes_requests(as_admin, make_request):
    obj = make_request()
    assert as_admin.get(f"{CHANGELIST}add/").status_code == 403
    assert as_admin.get(f"{CHANGELIST}{obj.pk}/delete/").status_code == 403
    response = as_admin.post(change_url(obj), {"status": "closed", "reference": "X"})
    assert response.status_code == 403
    obj.refresh_from_db()
    assert obj.status == "in_review" and obj.reference != "X"


def test_the_state_is_shown_but_never_editable(as_admin, make_request):
    obj = make_request()
    html = as_admin.get(change_url(obj)).content.decode()
    assert 'name="status"' not in html
    assert "In legal review" in html
