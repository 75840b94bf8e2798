"""The OpenAPI schema, the Swagger UI under the strict CSP, /healthz, and the error shape."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from tests.conftest import epoc_body

from .helpers import API, counts

pytestmark = pytest.mark.django_db

CONTRACT_PATHS = [
    "/api/v1/requests/",
    "/api/v1/requests/check/",
    "/api/v1/requests/{reference}/",
    "/api/v1/requests/{reference}/withdraw/",
    "/api/v1/requests/{reference}/clarifications/",
    "/api/v1/requests/{reference}/attachments/",
    "/api/v1/requests/{reference}/attachments/{attachment_id}/",
]


@pytest.fixture
def schema(anon_api) -> dict:
    response = anon_api.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_is_an_openapi_document_served_to_anonymous_callers(anon_api, schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Lawful Request Portal API"
    for path in CONTRACT_PATHS:
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/requests/"]) >= {"get", "post"}
    assert "post" in schema["paths"]["/api/v1/requests/{reference}/withdraw/"]
    # The default rendering (YAML) works too.
    yaml = anon_api.get("/api/v1/schema/")
    assert yaml.status_code == 200
    assert yaml.content.startswith(b"openapi: 3.")


def test_schema_names_the_contract_fields(schema):
    properties = schema["components"]["schemas"]["RequestDetail"]["properties"]
    for field in ("reference", "status", "instrument", "received_at", "due_at", "deadline_explanation", "decision",
                  "history"):
        assert field in properties, field
    assert "validation_attempts" not in properties


def test_schema_declares_bearer_authentication(schema):
    schemes = schema.get("components", {}).get("securitySchemes", {})
    assert any(s.get("type") == "http" and s.get("scheme", "").lower() == "bearer" for s in schemes.values())
    operation = schema["paths"]["/api/v1/requests/"]["post"]
    assert any(set(requirement) & set(schemes) for requirement in operation["security"])


class _Page(HTMLParser):
    """Collects the <script> and <style> elements of a page with their inline content."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.styles: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append({"src": dict(attrs).get("src"), "content": ""})
        if tag in ("script", "style"):
            self._open = tag
            if tag == "style":
                self.styles.append("")

    def handle_endtag(self, tag):
        if tag == self._open:
            self._open = None

    def handle_data(self, data):
        if self._open == "script":
            self.scripts[-1]["content"] += data
        elif self._open == "style":
            self.styles[-1] += data


def _docs_page(anon_api) -> tuple[object, _Page]:
    response = anon_api.get("/api/v1/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = _Page()
    page.feed(response.content.decode())
    return response, page


def test_docs_load_only_external_scripts_so_the_csp_allows_them(anon_api):
    response, page = _docs_page(anon_api)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.scripts, "the Swagger UI needs its scripts"
    for script in page.scripts:
        assert script["src"], script
        assert script["src"].startswith("/"), script  # same origin: allowed by script-src 'self'
        assert not script["content"].strip(), script
    init = next(s["src"] for s in page.scripts if s["src"].startswith("/api/v1/docs/"))
    script = anon_api.get(init)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"/api/v1/schema/" in script.content


def test_docs_have_no_inline_style_blocked_by_the_csp(anon_api):
    _, page = _docs_page(anon_api)
    assert not [style for style in page.styles if style.strip()]


def test_healthz_answers_ok_without_authentication(anon_api):
    response = anon_api.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "no-cache" in response["Cache-Control"]
    assert anon_api.post("/healthz").status_code == 405


# --- One error shape --------------------------------------------------------------------------


def test_an_unsupported_content_type_is_415(api):
    before = counts()
    response = api.post(API, "instrument=epoc", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert counts() == before


def test_an_unacceptable_accept_header_is_406(api):
    response = api.get(API, HTTP_ACCEPT="application/xml")
    assert response.status_code == 406


@pytest.mark.parametrize(("status", "call"), [
    (400, lambda c, anon: c.post(API, epoc_body(instrument="x"), format="json")),
    (401, lambda c, anon: anon.get(API, HTTP_AUTHORIZATION="Bearer wrong")),
    (401, lambda c, anon: anon.get(API)),
    (404, lambda c, anon: c.get(f"{API}LRP-2099-000001/")),
    (405, lambda c, anon: c.delete(API)),
    (415, lambda c, anon: c.post(API, "<xml/>", content_type="application/xml")),
])
def test_every_error_has_one_shape(status, call, api, anon_api):
    response = call(api, anon_api)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "fields"}
    assert isinstance(body["error"]["code"], str) and body["error"]["message"]
