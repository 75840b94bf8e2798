"""Branded 403, 404 and 500 pages for the portal and the admin, no debug page in any mode,
and a favicon (issue 13 item 9)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.requests_app.admin.conftest import login

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]


def _branded(response, status: int, *, admin_area: bool) -> str:
    assert response.status_code == status
    html = response.content.decode()
    assert '<link rel="icon" href="/static/favicon.svg"' in html
    assert f'<p class="error-code">{status}</p>' in html
    assert ("legal team" in html) is admin_area
    assert 'href="/admin/"' in html if admin_area else 'id="error-home">Back to the portal' in html
    assert "style=" not in html and "<script" not in html
    assert "Traceback" not in html and "urlpatterns" not in html.lower() and "URLconf" not in html
    return html


def test_portal_404_is_branded():
    html = _branded(Client().get("/no-such-page/"), 404, admin_area=False)
    assert "/no-such-page/" not in html  # the path is not echoed back


def test_admin_404_is_branded(reviewer):
    _branded(login(reviewer).get("/admin/requests_app/nosuchmodel/"), 404, admin_area=True)


def test_admin_403_is_branded_and_audited():
    from accounts.models import User
    from audit.models import AuditEvent

    helpdesk = User.objects.create_user(email="helpdesk@provider.example", password=None, is_staff=True)
    response = login(helpdesk).get("/admin/requests_app/legalrequest/")
    _branded(response, 403, admin_area=True)
    assert AuditEvent.objects.filter(action="access.admin_forbidden").exists()


@pytest.mark.urls("tests.web.error_urls")
@pytest.mark.parametrize("path,admin_area", [("/boom/", False), ("/admin/boom/", True)])
def test_500_is_branded_and_shows_no_detail(path, admin_area):
    response = Client(raise_request_exception=False).get(path)
    html = _branded(response, 500, admin_area=admin_area)
    assert "secret detail" not in html and "RuntimeError" not in html


def test_favicon():
    response = Client().get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/favicon.svg"
    assert (REPO / "static" / "favicon.svg").read_text().startswith("<svg")


def test_portal_and_admin_pages_carry_the_favicon(reviewer):
    assert '<link rel="icon" href="/static/favicon.svg"' in Client().get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg"' in login(reviewer).get("/admin/").content.decode()


def test_debug_is_off_in_the_embedded_mode_by_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ENV", "DATABASE_URL", "REDIS_URL",
                                                              "DJANGO_SETTINGS_MODULE"}}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", PORTAL_VAR_DIR=str(tmp_path))
    code = "from django.conf import settings as s; print('DEBUG', s.DEBUG)"
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout
    env["DEBUG"] = "1"
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert "DEBUG True" in result.stdout


@pytest.mark.parametrize("path,admin_area", [("/requests/new/", False), ("/admin/login/", True)])
def test_a_refused_form_csrf_is_branded_and_says_what_to_do(path, admin_area, officer):
    """A form left open too long, or posted from another site, is refused: with the branded page
    and what to do, not Django's bare "CSRF verification failed"."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    html = _branded(client.post(path, {"action": "submit"}), 403, admin_area=admin_area)
    assert "reload the page" in html
    assert "CSRF verification failed" not in html


@pytest.mark.parametrize("language,title", [("fr", "Page introuvable"), ("de", "Seite nicht gefunden")])
def test_the_error_page_declares_the_language_it_is_written_in(language, title):
    """The 404 was written in French or German but declared ``<html lang="en">`` (screen readers
    then read French text with English pronunciation)."""
    html = Client().get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert title in html
    assert f'<html lang="{language}">' in html
