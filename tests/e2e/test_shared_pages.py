"""The pages both user groups share, in the browser (issue 13 items 3, 8 and 9).

* The legal team enrols a second factor on the way to the admin: why, no second password
  prompt, and Continue after the recovery codes goes back to the admin.
* Languages: an officer of a German authority signs in and reads German (allauth's message, the
  language menu, data categories, the deadline explanation); the menu switches to French.
* Branded 403, 404 and 500 pages for the portal and the admin, the favicon; and the embedded
  default (gunicorn on portal.settings, no DEBUG set, as ``make run`` starts it) shows the
  branded 404, not Django's debug page listing the URL patterns.

Screenshots: tests/artifacts/screenshots/shared-*.png (git-ignored; tests/e2e/conftest.py).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from accounts.models import User
from accounts.services import officer_create
from requests_app.permissions import REVIEWER

from .conftest import screenshot, sign_in
from .test_officer_journey import totp_now

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Correct-Horse-Battery-42"
REPO = Path(__file__).resolve().parents[2]


def no_script_or_csp_errors(seen) -> None:
    assert seen.page_errors == []
    assert not [e for e in seen.console_errors if "Content Security Policy" in e], seen.console_errors


def sign_in_with_password(page: Page, email: str, button: str = "Sign In") -> None:
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name=button, exact=True).click()


# --- item 3: the legal team's enrolment returns to the admin -----------------------------------------
def test_the_legal_team_enrols_on_the_way_to_the_admin_and_continue_goes_back_there(page: Page, live_server,
                                                                                   settings, seen):
    settings.REQUIRE_MFA = True
    reviewer = User.objects.create_user(email="reviewer@provider.example", password=PASSWORD, is_staff=True)
    reviewer.groups.add(Group.objects.get_or_create(name=REVIEWER)[0])
    EmailAddress.objects.create(user=reviewer, email=reviewer.email, verified=True, primary=True)

    page.goto("/admin/requests_app/legalrequest/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    sign_in_with_password(page, reviewer.email)
    page.wait_for_url(re.compile(r"/accounts/2fa/$"))
    required = page.locator("#mfa-enrolment-required")
    expect(required).to_contain_text("A second factor is required before you continue")
    expect(required).to_contain_text("recovery codes")
    screenshot(page, "shared-mfa-required-legal-team")

    page.goto("/accounts/2fa/totp/activate/")
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/$"))  # no second password prompt
    secret = page.locator("#authenticator_secret").input_value()
    page.fill("#id_code", totp_now(secret))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    assert Authenticator.objects.filter(user=reviewer, type=Authenticator.Type.TOTP).exists()
    page.click("#mfa-continue")
    page.wait_for_url(re.compile(r"/admin/requests_app/legalrequest/$"))
    expect(page.locator("#result_list, #changelist")).to_have_count(1)
    no_script_or_csp_errors(seen)


# --- item 8: the page's language -----------------------------------------------------------------------
def test_an_officer_of_a_german_authority_reads_german_and_can_switch_to_french(page: Page, live_server, seen,
                                                                              other_authority):
    from requests_app.services.submission import request_submit
    from requests_app.services.validation import request_validate
    from tests.web.conftest import validated

    officer = officer_create(authority=other_authority, email="ermittler@sta.berlin.de", password=PASSWORD)
    assert officer.language == "de"  # from the authority's country
    EmailAddress.objects.update_or_create(user=officer, email=officer.email,
                                          defaults={"verified": True, "primary": True})
    legal_request, _ = request_submit(actor=officer, channel="web", data=validated(
        data_categories=["content"], language="de"))
    request_validate(request_id=legal_request.pk)

    page.goto("/accounts/login/")  # the browser speaks English (en-GB)
    sign_in_with_password(page, officer.email)
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator(".messagelist, .messages, main").first).to_contain_text(
        f"Erfolgreich als {officer.email} angemeldet.")
    menu = page.locator("#language-select")
    expect(page.locator("label[for=language-select]")).to_have_text(re.compile("Sprache"))
    assert [o.strip() for o in menu.locator("option").all_inner_texts()] == ["English", "Français", "Deutsch"]

    page.goto(f"/requests/{legal_request.reference}/")
    expect(page.locator("#request-categories")).to_have_text("Inhaltsdaten")
    expect(page.locator("#deadline-explanation")).to_contain_text("Spätestens übermitteln")
    expect(page.locator("#decision")).to_have_text("Bewertung")
    screenshot(page, "shared-request-page-de")

    menu.select_option("fr")
    page.click("#language-submit")
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#request-categories")).to_have_text("Données relatives au contenu")
    expect(page.locator("#deadline-explanation")).to_contain_text("Transmettre au plus tard")
    officer.refresh_from_db()
    assert officer.language == "fr"
    no_script_or_csp_errors(seen)


# --- item 9: branded error pages, favicon -----------------------------------------------------------
def branded(page: Page, status: int, *, admin_area: bool) -> None:
    expect(page.locator(".error-code")).to_have_text(str(status))
    expect(page.locator("link[rel=icon]")).to_have_attribute("href", "/static/favicon.svg")
    body = page.locator("body")
    for leak in ("Traceback", "URLconf", "urlpatterns", "secret detail", "RuntimeError"):
        expect(body).not_to_contain_text(leak)
    home = page.locator("#error-home")
    expect(home).to_have_attribute("href", "/admin/" if admin_area else "/")


def test_portal_and_admin_error_pages_are_branded(page: Page, context, live_server, officer, settings, seen):
    response = page.goto("/no-such-page/")
    assert response is not None and response.status == 404
    branded(page, 404, admin_area=False)
    expect(page.locator("body")).not_to_contain_text("/no-such-page/")
    screenshot(page, "shared-404-portal")

    # A member of staff without a legal-team role: the admin refuses its pages with a branded 403.
    helpdesk = User.objects.create_user(email="helpdesk@provider.example", password=None, is_staff=True)
    sign_in(context, helpdesk, live_server.url)
    response = page.goto("/admin/requests_app/legalrequest/")
    assert response is not None and response.status == 403
    branded(page, 403, admin_area=True)
    screenshot(page, "shared-403-admin")
    response = page.goto("/admin/requests_app/nosuchmodel/")
    assert response is not None and response.status == 404
    branded(page, 404, admin_area=True)

    # 500, portal and admin: the test URLs add a view that fails (tests/web/error_urls.py).
    settings.ROOT_URLCONF = "tests.web.error_urls"
    for path, admin_area in (("/boom/", False), ("/admin/boom/", True)):
        response = page.goto(path)
        assert response is not None and response.status == 500
        branded(page, 500, admin_area=admin_area)
    screenshot(page, "shared-500-admin")

    icon = page.goto("/favicon.ico")
    assert icon is not None and icon.status == 200 and icon.headers["content-type"].startswith("image/svg")
    assert not seen.page_errors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_embedded_default_shows_the_branded_404_not_a_debug_page(browser, tmp_path):
    """What ``make run`` starts (collectstatic, then gunicorn on portal.settings) with DEBUG left unset."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DEBUG", "DJANGO_ENV", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
           and not k.startswith("PYTEST")}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", PORTAL_VAR_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    venv = Path(sys.executable).parent
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=REPO, env=env,
                   check=True, timeout=300)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([str(venv / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{port}",
                                   "--workers", "1"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    context = browser.new_context(base_url=base, locale="en-GB")
    try:
        page = context.new_page()
        deadline = time.monotonic() + 60
        while True:
            try:
                response = page.goto("/no-such-page/")
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(log.read_text(errors="replace")[-3000:])
                time.sleep(0.5)
        assert response is not None and response.status == 404
        branded(page, 404, admin_area=False)
        expect(page.locator("body")).not_to_contain_text("Page not found at")  # Django's debug 404
        screenshot(page, "shared-404-embedded")
        icon = page.goto("/favicon.ico")
        assert icon is not None and icon.status == 200, log.read_text(errors="replace")[-2000:]
    finally:
        context.close()
        server.terminate()
        server.wait(timeout=20)
