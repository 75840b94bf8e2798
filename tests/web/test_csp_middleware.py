"""portal/csp.py sets exactly the headers django-csp's own middleware sets, and builds the
policy text once per setting instead of for every response (at 5da51ce: twice per response,
the policy and the report-only one)."""

from __future__ import annotations

import pytest
from csp.constants import NONE, SELF
from csp.decorators import csp_exempt, csp_update
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse, HttpResponseNotFound
from django.test import RequestFactory

from portal import csp as portal_csp

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def plain(request):  # type: ignore[no-untyped-def]
    return HttpResponse("ok")


def with_nonce(request):  # type: ignore[no-untyped-def]
    return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")


@csp_update({"img-src": ["https://img.example"]})
def updated(request):  # type: ignore[no-untyped-def]
    return HttpResponse("ok")


@csp_exempt()
def exempt(request):  # type: ignore[no-untyped-def]
    return HttpResponse("ok")


def preset(request):  # type: ignore[no-untyped-def]
    response = HttpResponse("ok")
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def not_found(request):  # type: ignore[no-untyped-def]
    return HttpResponseNotFound("no")


def headers(middleware_class, view, path: str = "/x/") -> tuple[dict[str, str], str | None]:
    request = RequestFactory().get(path)
    response = middleware_class(view)(request)
    nonce = getattr(request, "_csp_nonce", None)
    found = {name: response[name] for name in HEADERS if name in response}
    if nonce:  # each request draws its own nonce: compare the texts around it
        found = {name: value.replace(nonce, "NONCE") for name, value in found.items()}
    return found, nonce


@pytest.mark.parametrize("view", [plain, with_nonce, updated, exempt, preset, not_found])
def test_the_headers_are_django_csps(view):
    ours, nonce = headers(portal_csp.CSPMiddleware, view)
    theirs, _ = headers(DjangoCSPMiddleware, view)
    assert ours == theirs
    if view is with_nonce:
        assert nonce  # drawn while rendering: django-csp's own path


def test_report_only_and_excluded_prefixes_are_django_csps(settings):
    settings.CONTENT_SECURITY_POLICY = {"EXCLUDE_URL_PREFIXES": ["/skip/"],
                                        "DIRECTIVES": {"default-src": [SELF], "object-src": [NONE]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": [SELF, "https://cdn.example"]}}
    for path in ("/x/", "/skip/x/"):
        for view in (plain, not_found):
            assert headers(portal_csp.CSPMiddleware, view, path) == headers(DjangoCSPMiddleware, view, path)
    assert "Content-Security-Policy" not in headers(portal_csp.CSPMiddleware, plain, "/skip/x/")[0]
    assert "cdn.example" in headers(portal_csp.CSPMiddleware, plain)[0]["Content-Security-Policy-Report-Only"]


def test_a_changed_setting_gives_its_own_policy(settings):
    before = headers(portal_csp.CSPMiddleware, plain)[0]["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": [NONE]}}
    assert headers(portal_csp.CSPMiddleware, plain)[0]["Content-Security-Policy"] == "default-src 'none'"
    assert before != "default-src 'none'"


@pytest.mark.django_db
def test_the_portal_uses_it_for_api_responses(api):
    response = api.get("/api/v1/requests/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == portal_csp.static_policies()[0]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
