import pytest
from tests.conftest import epoc_body

pytestmark = pytest.mark.django_db

def show(r):
    try:
        print(r.status_code, r.json())
    except Exception:
        print(r.status_code, r.content[:300])

def test_probe(api, other_api, anon_api):
    show(api.post("/api/v1/requests/", epoc_body(data_categories=[]), format="json"))

def test_probe2(api, other_api, anon_api):
    show(api.post("/api/v1/requests/", {"instrument": "dsa_removal_order", "case_reference": "x"}, format="json"))

def test_probe3(api, other_api, anon_api):
    show(api.post("/api/v1/requests/", epoc_body(targets=[{"kind": "username", "value": f"u{i}"} for i in range(101)]), format="json"))
    show(api.post("/api/v1/requests/", "{not json", content_type="application/json"))
    show(api.put("/api/v1/requests/", {}, format="json"))
    show(anon_api.get("/api/v1/requests/"))
    show(api.post("/api/v1/requests/check/", epoc_body(), format="json"))
    show(api.post("/api/v1/requests/", epoc_body(targets=[{"kind": "ip_address", "value": "1.2.3.4", "timestamp": "2026-01-01T10:00:00"}]), format="json"))
    show(api.post("/api/v1/requests/", epoc_body(offence={"max_sentence_months": -1}), format="json"))
    show(api.post("/api/v1/requests/", epoc_body(targets=[{"kind": "username", "value": "   "}]), format="json"))
