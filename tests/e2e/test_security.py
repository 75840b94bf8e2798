"""Browser-level security: cross-site request forgery, stored XSS, framing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from playwright.sync_api import Page, Route, expect

from accounts.models import User
from audit.models import AuditEvent
from requests_app.api.serializers import RequestCreateSerializer
from requests_app.models import LegalRequest
from requests_app.services.review import message_from_authority, message_to_authority, note_add
from requests_app.services.submission import request_submit
from requests_app.services.validation import request_validate
from requests_app.states import Status
from tests.conftest import epoc_body

from .conftest import XSS_PROBE, Watch, free_port, legal_admin_user, new_context, screenshot, sign_in, watch

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHANGELIST = "/admin/requests_app/legalrequest/"


def submitted(officer: User, **overrides: Any) -> LegalRequest:
    serializer = RequestCreateSerializer(data=epoc_body(**overrides))
    serializer.is_valid(raise_exception=True)
    legal_request, _ = request_submit(actor=officer, data=dict(serializer.validated_data), channel="web")
    request_validate(request_id=legal_request.pk)
    legal_request.refresh_from_db()
    return legal_request


# --- CSRF ------------------------------------------------------------------------------------------

def serve(html: str) -> Callable[[Route], None]:
    return lambda route: route.fulfill(status=200, content_type="text/html", body=html)


def attacker_page(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input type="hidden" name="{name}" value="{value}">' for name, value in fields.items())
    return (f'<!doctype html><title>Win a prize</title><form id="f" method="post" action="{action}">{inputs}</form>'
            '<script>document.getElementById("f").submit()</script>')


def test_cross_origin_form_posts_are_refused_and_change_nothing(page: Page, context, live_server, officer):
    """The attacker's page is on the same site but another origin (another port of the same host), so the
    browser does send the officer's SameSite=Lax session cookie: only the CSRF defence stands in the way."""
    own = submitted(officer)
    sign_in(context, officer, live_server.url)
    page.goto(f"/requests/{own.reference}/")  # a real visit: the CSRF cookie is set too
    host = live_server.url.rsplit(":", 1)[0]
    attacker = f"{host}:{free_port()}"
    forged = {
        "/requests/new/": {"instrument": "epoc", "case_reference": "FORGED", "data_categories": "content",
                           "csrfmiddlewaretoken": "guessed-token-guessed-token-guessed-token-guessed-tok",
                           "action": "submit"},
        f"/requests/{own.reference}/withdraw/": {"reason": "forged", "confirm": "on"},
    }
    requests_before = LegalRequest.objects.count()
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for path, fields in forged.items():
        target = live_server.url + path
        page.route(f"{attacker}/**", serve(attacker_page(target, fields)))
        with page.expect_response(target) as answer:
            page.goto(f"{attacker}/prize", wait_until="commit")
        response = answer.value
        assert response.request.method == "POST"
        cookies = response.request.all_headers().get("cookie", "")
        assert f"{settings.SESSION_COOKIE_NAME}=" in cookies  # the session was sent: CSRF did the refusing
        assert response.status == 403, path
        assert "CSRF" in response.text()
        assert '<p class="error-code">403</p>' in response.text()  # the branded page (issue 13 item 9)
        page.unroute(f"{attacker}/**")

    own.refresh_from_db()
    assert own.status != Status.WITHDRAWN
    assert LegalRequest.objects.count() == requests_before
    assert not LegalRequest.objects.filter(case_reference="FORGED").exists()
    assert list(AuditEvent.objects.filter(pk__gt=last_event).values_list("action", flat=True)) == []


# --- stored XSS ------------------------------------------------------------------------------------

def probe(field_name: str) -> str:
    """The probe, labelled with the field it was put in (so a test can tell where text came from)."""
    return f"{field_name}: {XSS_PROBE}"


def probe_request(officer: User, staff: User) -> LegalRequest:
    """A request whose every free-text field holds the probe, with a message each way and a note."""
    body = epoc_body(
        summary=probe("summary"), case_reference=probe("case_reference"), emergency=True,
        emergency_reason=probe("emergency_reason"), confidential=True,
        confidentiality_reason=probe("confidentiality_reason"),
        targets=[{"kind": "username", "value": probe("target_username")},
                 {"kind": "ip_address", "value": probe("target_ip")}],
    )
    body["offence"] = {**body["offence"], "description": probe("offence_description"),
                       "legal_provisions": probe("offence_legal_provisions")}
    body["validation"] = {**body["validation"], "authority_name": probe("validation_authority_name"),
                          "reference": probe("validation_reference")}
    serializer = RequestCreateSerializer(data=body)
    serializer.is_valid(raise_exception=True)
    legal_request, _ = request_submit(actor=officer, data=dict(serializer.validated_data), channel="web")
    request_validate(request_id=legal_request.pk)
    legal_request.refresh_from_db()
    message_from_authority(actor=officer, request=legal_request, body=probe("message_from_authority"))
    message_to_authority(actor=staff, request=legal_request, body=probe("message_to_authority"))
    note_add(actor=staff, request=legal_request, body=probe("internal_note"))
    return legal_request


FIELDS = ("summary", "case_reference", "emergency_reason", "confidentiality_reason", "target_username", "target_ip",
          "offence_description", "offence_legal_provisions", "validation_authority_name", "validation_reference",
          "message_from_authority", "message_to_authority", "internal_note")
# What the authority's request page shows of it (the findings quote the target values).
OFFICER_SEES = ("case_reference", "target_username", "target_ip", "message_from_authority", "message_to_authority")


def assert_inert(page: Page, seen: Watch, container: str, *, shown: tuple[str, ...] = ()) -> str:
    """The probe ran nowhere and was not parsed into elements; the fields in ``shown`` show it as text."""
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert seen.dialogs == []
    assert page.locator(f'{container} img[src="x"]').count() == 0
    assert page.locator(f"{container} script").filter(has_text="__xss").count() == 0
    # An injected inline script or handler would also show as a CSP violation.
    assert not [e for e in seen.console_errors if "Content Security Policy" in e], seen.console_errors
    text = page.inner_text(container)
    assert [name for name in shown if probe(name) not in text] == []
    return text


def test_stored_script_in_every_text_field_is_shown_as_text(browser, live_server, officer):
    legal_admin = legal_admin_user()
    legal_request = probe_request(officer, legal_admin)
    submitted(officer), submitted(officer, data_categories=["traffic"])  # company in the queue

    officer_context = new_context(browser, live_server.url)
    admin_context = new_context(browser, live_server.url)
    try:
        sign_in(officer_context, officer, live_server.url)
        page = officer_context.new_page()
        seen = watch(page)
        page.goto(f"/requests/{legal_request.reference}/")
        text = assert_inert(page, seen, "main", shown=OFFICER_SEES)
        assert probe("internal_note") not in text  # internal notes never reach the authority
        page.goto(f"/requests/{legal_request.reference}/receipt/")
        assert_inert(page, seen, "main", shown=("case_reference",))
        page.goto("/requests/")
        assert_inert(page, seen, "main", shown=("case_reference",))

        sign_in(admin_context, legal_admin, live_server.url)
        page = admin_context.new_page()
        seen = watch(page)
        page.goto(f"{CHANGELIST}{legal_request.pk}/change/")
        expect(page.locator("#content h1")).to_be_visible()
        assert_inert(page, seen, "#content", shown=FIELDS)
        page.goto(CHANGELIST)
        assert_inert(page, seen, "#content")
        expect(page.locator("#result_list tbody tr")).to_have_count(3)
        screenshot(page, "07-admin-queue")
        # The queue's exact search echoes the term back into the page.
        term = probe("case_reference")
        page.goto(f"{CHANGELIST}?{urlencode({'q': term})}")
        assert_inert(page, seen, "#content")
        expect(page.locator("#searchbar")).to_have_value(term)
        expect(page.locator("#result_list tbody tr")).to_have_count(1)
    finally:
        officer_context.close()
        admin_context.close()


# --- caching ---------------------------------------------------------------------------------------

def test_pages_with_case_data_are_not_stored(page: Page, context, live_server, officer):
    own = submitted(officer)
    sign_in(context, officer, live_server.url)
    uncached = {}
    for path in ("/", "/requests/", f"/requests/{own.reference}/", f"/requests/{own.reference}/receipt/"):
        response = page.goto(path)
        assert response is not None and response.status == 200
        uncached[path] = "no-store" in (response.headers.get("cache-control") or "")
    assert all(uncached.values()), uncached


# --- framing -----------------------------------------------------------------------------------------

def framed_document(page: Page, url: str) -> tuple[str, str]:
    """Put ``url`` in an iframe of a page on another origin; the frame's final address and document."""
    with page.expect_response(url):
        page.set_content(f'<iframe id="victim" src="{url}" width="800" height="600"></iframe>')
    [frame] = page.main_frame.child_frames
    frame.wait_for_load_state()
    return frame.url, frame.content()


def without_framing_headers(route: Route) -> None:
    response = route.fetch()
    headers = {k: v for k, v in response.headers.items() if k not in ("x-frame-options", "content-security-policy")}
    route.fulfill(response=response, headers=headers)


def test_the_portal_refuses_to_be_framed(page: Page, live_server):
    portal = live_server.url + "/"
    direct = page.request.get(portal)
    assert direct.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in direct.headers["content-security-policy"]

    address, document = framed_document(page, portal)
    assert address.startswith("chrome-error://"), address  # the browser refused to render it
    assert "Lawful Request Portal" not in document
    assert "Create an officer account" not in document

    # Control: the same page without the two headers does render in the frame.
    page.route(portal, without_framing_headers)
    address, document = framed_document(page, portal)
    assert address == portal
    assert "Lawful Request Portal" in document
