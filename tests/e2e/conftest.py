"""Browser tests: Debian's Chromium driven by Playwright (sync API) against pytest-django's live server.

* One browser per run of this package, from ``/usr/bin/chromium`` (never ``playwright install``).
* Every test gets a fresh browser context (own cookies) on the live server, with short timeouts.
* ``sign_in`` puts a Django session cookie for a user into a context (what ``force_login`` does);
  the full sign-up/sign-in path through allauth is exercised by ``test_officer_journey``.
* ``smtp`` is a real SMTP server (aiosmtpd) on loopback; Django's SMTP backend talks to it.
* Outbox rows are never published to the broker: tests run the services they need themselves.
* Screenshots go to ``tests/artifacts/screenshots/``; on failure every open page is kept in
  ``tests/artifacts/failures/<test>/`` (both git-ignored).
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from accounts.models import User
from requests_app.permissions import ADMIN

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
STEP_TIMEOUT_MS = 15_000
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
FAILURES = ARTIFACTS / "failures"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# Every free-text field of a request gets this (stored XSS probe).
XSS_PROBE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'


# --- the browser ---------------------------------------------------------------------------------

@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for this package's tests, closed when they are done.

    Playwright's sync API keeps an asyncio loop running in this thread, so Django would refuse ORM
    calls from the test body ("You cannot call this from an async context"): DJANGO_ALLOW_ASYNC_UNSAFE
    is set while the browser lives, and both end with this package, before the rest of the suite runs.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=STEP_TIMEOUT_MS)
        yield instance
        instance.close()


@dataclass
class Watch:
    """What a page did that a test may want to assert never happened."""

    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


def new_context(browser: Browser, base_url: str, **options: Any) -> BrowserContext:
    context = browser.new_context(base_url=base_url, locale="en-GB", timezone_id="Europe/Paris", **options)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.set_default_navigation_timeout(STEP_TIMEOUT_MS)
    return context


def watch(page: Page) -> Watch:
    seen = Watch()

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda msg: seen.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    return seen


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def keep_failure_evidence(request: pytest.FixtureRequest, context: BrowserContext) -> None:
    """On failure, every open page's screenshot and HTML go to tests/artifacts/failures/."""
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    folder = FAILURES / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    for index, open_page in enumerate(context.pages):
        try:
            open_page.screenshot(path=str(folder / f"page-{index}.png"), full_page=True, timeout=5_000)
            (folder / f"page-{index}.html").write_text(f"<!-- {open_page.url} -->\n{open_page.content()}")
        except Exception as exc:  # evidence is best effort; the test has already failed
            (folder / f"page-{index}.error.txt").write_text(repr(exc))


@pytest.fixture
def context(request, browser, live_server) -> Iterator[BrowserContext]:
    ctx = new_context(browser, live_server.url)
    yield ctx
    keep_failure_evidence(request, ctx)
    ctx.close()


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


@pytest.fixture
def seen(page) -> Watch:
    """Dialogs, console errors and uncaught exceptions of ``page``."""
    return watch(page)


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


# --- the application -------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def e2e_settings(settings, monkeypatch):
    """Nothing reaches the broker, and allauth's per-IP limits (every browser request comes from
    127.0.0.1, counted in the shared cache) cannot trip over reruns."""
    from outbox import relay as outbox

    monkeypatch.setattr(outbox, "publish", lambda *args, **kwargs: False)
    settings.ACCOUNT_RATE_LIMITS = {**django_settings.ACCOUNT_RATE_LIMITS, "signup": "100/m/ip",
                                    "login": "100/m/ip", "confirm_email": "100/m/key"}


def sign_in(context: BrowserContext, user: User, base_url: str) -> None:
    """Give the browser context a signed-in session for ``user`` (like ``Client.force_login``)."""
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url, "httpOnly": True,
                          "sameSite": "Lax"}])


def legal_admin_user(email_address: str = "admin@provider.example") -> User:
    """A member of the provider's legal team with the legal_admin role (staff, no authority)."""
    user = User.objects.create_user(email=email_address, password=None, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    return user


# --- the request form ---------------------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")  # the form's default zone for a French authority


def local(moment: datetime) -> str:
    """The value of a ``datetime-local`` input: wall-clock time in Paris, whole minutes."""
    return moment.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def fill_epoc(page: Page) -> tuple[datetime, datetime]:
    """An EPOC for subscriber data: a target, the offence, the prosecutor's validation, a time range.
    Returns the time range entered (to the minute)."""
    now = timezone.now().replace(second=0, microsecond=0)
    data_from, data_to = now - timedelta(days=30), now - timedelta(days=1)
    page.select_option("#id_instrument", "epoc")
    page.fill("#id_case_reference", "PN-2026-E2E-1")
    page.select_option("#id_language", "fr")
    page.fill("#id_summary", "Sale of fake concert tickets through the messenger.")
    page.select_option("#id_validation_authority_type", "prosecutor")
    page.fill("#id_validation_authority_name", "Parquet de Paris")
    page.fill("#id_validation_reference", "PQ-2026-17")
    page.fill("#id_validation_date", (now - timedelta(days=2)).date().isoformat())
    page.select_option("#id_targets-0-kind", "username")
    page.fill("#id_targets-0-value", "ticket_seller_75")
    page.fill("#id_data_from", local(data_from))
    page.fill("#id_data_to", local(data_to))
    page.check("input[name=data_categories][value=subscriber]")
    page.fill("#id_offence_description", "Fraud (escroquerie)")
    page.fill("#id_offence_legal_provisions", "Art. 313-1 Code pénal")
    page.fill("#id_max_sentence_months", "60")
    page.check("#id_via_information_system")
    return data_from, data_to


# --- a real SMTP server on loopback ----------------------------------------------------------------

@dataclass
class Handler:
    messages: list[email.message.EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def body_text(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    return part.get_content() if part else ""


@pytest.fixture
def smtp(settings) -> Iterator[Handler]:
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=5)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield handler
    controller.stop()
