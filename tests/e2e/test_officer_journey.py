"""An officer's whole journey in the browser, from sign-up to a validated request.

Sign-up on a verified authority domain → verification e-mail through a real SMTP server →
confirmation → pending until the legal team approves → sign-in → second factor required →
TOTP enrolment with a computed code → EPOC with a signed PDF → receipt → request page, before
and after validation.
"""

from __future__ import annotations

import io
import re
import time

import pikepdf
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.utils import timezone
from playwright.sync_api import FilePayload, Page, expect

from accounts.models import ApprovalStatus, User
from accounts.services import authority_create, officer_approve
from requests_app.models import Attachment, LegalRequest
from requests_app.services.validation import request_validate
from requests_app.states import Status

from .conftest import body_text, fill_epoc, legal_admin_user, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAIL = "jeanne.martin@police.example.fr"
PASSWORD = "Correct-Horse-Battery-42"
REFERENCE = re.compile(r"^LRP-\d{4}-\d{6}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
CONFIRM_LINK = re.compile(r"https?://[^\s\"<>]+/accounts/confirm-email/[^\s\"<>]+")


def totp_now(secret: str) -> str:
    """The current code, as an authenticator app shows it. allauth accepts only the current period
    (MFA_TOTP_TOLERANCE 0), so a code about to expire is not used: wait for the next one."""
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 3:
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def sign_in_with_password(page: Page) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_login", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()


def second_factor(page: Page, code: str) -> None:
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.fill("#id_code", code)
    page.press("#id_code", "Enter")
    page.wait_for_load_state()


def sign_out(page: Page) -> None:
    page.click("#nav-sign-out")
    page.wait_for_load_state()


def signed_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def test_sign_up_verify_approve_enrol_totp_and_submit_an_epoc(page: Page, live_server, smtp, settings, seen):
    settings.REQUIRE_MFA = True
    authority = authority_create(name="Police nationale (Paris)", country="FR", authority_type="other_competent",
                                 domains=["police.example.fr"], switchboard_phone="+33100000000")
    legal_admin = legal_admin_user()

    # The landing page, then the sign-up form.
    page.goto("/")
    expect(page).to_have_title(re.compile("Lawful Request Portal"))
    screenshot(page, "01-home")
    page.click("#nav-sign-up")
    expect(page.locator("#signup-form")).to_be_visible()
    page.fill("#id_email", EMAIL)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    screenshot(page, "02-sign-up")
    page.click("#signup-submit")
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))

    officer = User.objects.get(email=EMAIL)
    assert officer.authority_id == authority.pk
    assert officer.approval_status == ApprovalStatus.PENDING
    assert not EmailAddress.objects.get(user=officer, email=EMAIL).verified

    # The verification e-mail, as the SMTP server received it.
    [message] = [m for m in smtp.messages if EMAIL in str(m["To"])]
    link = CONFIRM_LINK.search(body_text(message))
    assert link, body_text(message)
    page.goto(link.group(0))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert EmailAddress.objects.get(user=officer, email=EMAIL).verified
    officer.refresh_from_db()
    assert officer.approval_status == ApprovalStatus.PENDING

    # The legal team approves the officer (what the admin action does).
    officer_approve(actor=legal_admin, officer=officer)

    # Sign in: the second factor must be enrolled before anything else.
    sign_in_with_password(page)
    page.wait_for_url(re.compile(r"/accounts/2fa/$"))
    page.goto("/requests/new/")
    page.wait_for_url(re.compile(r"/accounts/2fa/$"))  # still refused without MFA
    expect(page.locator("#mfa-enrolment-required")).to_be_visible()  # why, and what to do

    page.goto("/accounts/2fa/totp/activate/")
    # Straight after signing in, no second password prompt (accounts/enrolment.py).
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}=*", secret), secret
    screenshot(page, "03-mfa-setup")
    page.fill("#id_code", totp_now(secret))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/"))
    recovery_codes = page.locator("#recovery_codes").input_value().split()
    assert len(recovery_codes) == 10 and all(re.fullmatch(r"\w{6,}", code) for code in recovery_codes)
    assert Authenticator.objects.filter(user=officer, type=Authenticator.Type.TOTP).exists()

    # Continue returns to the page the officer was going to: the request form, now open.
    page.click("#mfa-continue")
    page.wait_for_url(re.compile(r"/requests/new/$"))
    # A French authority's officer starts in French (their authority's country); this one reads English.
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.select_option("#language-select", "en")
    page.click("#language-submit")
    page.wait_for_url(re.compile(r"/requests/new/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#issuer-name")).to_have_text(authority.name)
    data_from, data_to = fill_epoc(page)
    order = FilePayload(name="signed-order.pdf", mimeType="application/pdf", buffer=signed_pdf())
    page.set_input_files("#id_order_file", files=[order])
    page.click("#submit-button")

    # The receipt: reference, time of receipt, SHA-256 receipt.
    page.wait_for_url(re.compile(r"/requests/LRP-\d{4}-\d{6}/receipt/$"))
    reference = page.locator("#receipt-reference").inner_text().strip()
    assert REFERENCE.match(reference)
    received_at = page.locator("#receipt-received-at time").get_attribute("datetime")
    assert received_at and received_at.startswith(str(timezone.now().year))
    # In the officer's zone (their authority's country), labelled, UTC on hover (issue 13 item 1).
    expect(page.locator("#receipt-received-at time")).to_contain_text("(Europe/Paris)")
    expect(page.locator("#receipt-received-at time")).to_have_attribute("title", re.compile(r" UTC$"))
    receipt = page.locator("#receipt-hash").inner_text().strip()
    assert HEX64.match(receipt)
    expect(page.locator("#print-button")).to_be_visible()  # shown by the script
    screenshot(page, "05-receipt")

    legal_request = LegalRequest.objects.get(reference=reference)
    assert legal_request.receipt_hash == receipt
    assert legal_request.submitted_by == officer
    assert legal_request.channel == "web"
    assert legal_request.status == Status.RECEIVED
    assert (legal_request.data_from, legal_request.data_to) == (data_from, data_to)  # Paris wall clock → UTC
    assert [(t.kind, t.value) for t in legal_request.targets.all()] == [("username", "ticket_seller_75")]
    assert Attachment.objects.filter(request=legal_request, kind="order").count() == 1

    # The request page: received; after validation (what the worker does), the next state.
    page.click("#to-request")
    page.wait_for_url(re.compile(rf"/requests/{reference}/$"))
    expect(page.locator("#request-status")).to_contain_text(str(Status.RECEIVED.label))
    expect(page.locator("#decision + p")).to_contain_text("not been assessed")

    request_validate(request_id=legal_request.pk)
    legal_request.refresh_from_db()
    assert legal_request.status not in (Status.RECEIVED, Status.VALIDATING)
    page.reload()
    expect(page.locator("#request-status")).to_contain_text(str(Status(legal_request.status).label))
    expect(page.locator("main")).to_contain_text("Outcome of the rule check")
    expect(page.locator("#submitted-range time").first).to_contain_text("(Europe/Paris)")
    screenshot(page, "06-request-detail")

    # Next sign-in: password and the authenticator's code; a replayed code is refused; a recovery code works once.
    sign_out(page)
    code = totp_now(secret)
    sign_in_with_password(page)
    second_factor(page, code)
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("#nav-new-request")).to_be_visible()
    sign_out(page)
    sign_in_with_password(page)
    second_factor(page, code)
    assert page.url.endswith("/accounts/2fa/authenticate/")
    expect(page.locator("main .errors, main .errorlist")).to_be_visible()
    page.fill("#id_code", recovery_codes[0])
    page.press("#id_code", "Enter")
    page.wait_for_url(f"{live_server.url}/")
    codes = Authenticator.objects.get(user=officer, type=Authenticator.Type.RECOVERY_CODES)
    assert recovery_codes[0] not in RecoveryCodes(codes).get_unused_codes()

    # Strict CSP: nothing on the way was blocked, and no script failed.
    assert seen.page_errors == []
    assert not [e for e in seen.console_errors if "Content Security Policy" in e], seen.console_errors


def test_passkey_enrolment_then_passwordless_sign_in(page: Page, context, live_server, officer, settings, seen):
    """A passkey (Chromium's virtual authenticator over CDP) satisfies the second-factor requirement and signs
    the officer in without a password."""
    settings.REQUIRE_MFA = True
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})

    page.goto("/accounts/login/")
    page.fill("#id_login", officer.email)
    page.fill("#id_password", "correct-horse-battery")
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.wait_for_url(re.compile(r"/accounts/2fa/$"))
    page.goto("/accounts/2fa/webauthn/add/")
    page.wait_for_url(re.compile(r"/accounts/2fa/webauthn/add/$"))  # no second password prompt
    page.fill("#id_name", "Service laptop")
    page.check("#id_passwordless")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    assert Authenticator.objects.filter(user=officer, type=Authenticator.Type.WEBAUTHN).count() == 1
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]})
    assert [c["isResidentCredential"] for c in credentials["credentials"]] == [True]

    sign_out(page)
    page.goto("/accounts/login/")
    page.click("#passkey_login")
    page.wait_for_url(f"{live_server.url}/")
    page.click("#nav-new-request")
    page.wait_for_url(re.compile(r"/requests/new/$"))  # the second factor is satisfied
    assert seen.page_errors == []
    assert not [e for e in seen.console_errors if "Content Security Policy" in e], seen.console_errors
