"""Every portal page: strict CSP, no inline script or style, not frameable."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from requests_app.permissions import REVIEWER
from requests_app.services import review
from tests.requests_app.review.conftest import staff

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)


def assert_strict(response) -> None:
    assert response.status_code == 200, response
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    body = response.content.decode()
    assert not INLINE_SCRIPT.search(body), INLINE_SCRIPT.search(body)
    assert not STYLE_ATTRIBUTE.search(body)
    assert "<style" not in body


@pytest.mark.parametrize("path", ["/", "/register-authority/", "/register-authority/sent/", "/accounts/login/",
                                  "/accounts/signup/"])
def test_anonymous_pages_are_strict(client, path):
    assert_strict(client.get(path))


def test_officer_pages_are_strict(own_request, officer_client, admin_client, pending_client):
    reference = own_request.reference
    for path in ("/", "/requests/", "/requests/new/", f"/requests/{reference}/", f"/requests/{reference}/receipt/",
                 f"/requests/{reference}/withdraw/", "/tokens/", reverse("mfa_index")):
        assert_strict(officer_client.get(path))
    assert_strict(admin_client.get("/officers/"))
    assert_strict(pending_client.get("/awaiting-approval/"))


def test_form_with_errors_and_clarification_pages_are_strict(own_request, officer_client):
    errors = officer_client.post("/requests/new/", {"action": "submit", "targets-TOTAL_FORMS": "3",
                                                     "targets-INITIAL_FORMS": "0"})
    assert errors.status_code == 400
    errors.status_code = 200
    assert_strict(errors)
    reviewer = staff("reviewer@provider.example", REVIEWER)
    review.clarification_request(actor=reviewer, request=own_request, clarification_asked="Which account?")
    assert_strict(officer_client.get(f"/requests/{own_request.reference}/clarification/"))


def test_scripts_and_styles_are_same_origin_files(client):
    body = client.get("/").content.decode()
    assert '<script src="/static/portal/vendor/htmx.min.js" defer></script>' in body
    assert '<script src="/static/portal/portal.js" defer></script>' in body
    assert 'href="#main"' in body  # the skip link
