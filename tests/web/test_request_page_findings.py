"""The findings on the officer's request page: each once, and the provider's own duties as what
the provider does, never as the officer's next step (issue 13 item 2; rules/catalogue.py
``provider_duty``)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from requests_app.rules import catalogue
from requests_app.states import Status
from tests.requests_app.review.conftest import staff

from .test_request_page_next_step import UNVALIDATED_TRAFFIC

pytestmark = pytest.mark.django_db
BACKEND = "django.contrib.auth.backends.ModelBackend"


def page(client: Client, legal_request) -> str:
    response = client.get(reverse("portal:request_detail", args=[legal_request.reference]))
    assert response.status_code == 200
    return response.content.decode()


def section(body: str, start: str, end: str) -> str:
    assert start in body, start
    return body.split(start, 1)[1].split(end, 1)[0]


def test_a_blocking_finding_appears_once_on_the_request_page(make_request, officer_client):
    legal_request = make_request(**UNVALIDATED_TRAFFIC)
    blocking = [f for f in legal_request.decision["findings"] if f["severity"] == "error"]
    assert {(f["code"], f["data_category"]) for f in blocking} == {
        ("EE_VALIDATION_REQUIRED", "subscriber"), ("EE_VALIDATION_REQUIRED", "traffic")}
    body = page(officer_client, legal_request)
    # Each of the two findings once: in the row of the category it blocks, not again below.
    assert body.count('data-code="EE_VALIDATION_REQUIRED"') == 2
    table = section(body, 'id="decision-categories"', "</table>")
    for category in ("subscriber", "traffic"):
        row = section(table, f'data-category="{category}"', "</tr>")
        assert row.count('data-code="EE_VALIDATION_REQUIRED"') == 1
    assert "The rules found nothing to correct." not in body


def test_a_finding_about_the_whole_order_is_written_out_once(make_request, officer_client):
    # The whole time range lies after the receipt: no category can be produced (Art. 3(8)), one
    # finding without a data category blocks them all.
    legal_request = make_request(data_categories=["subscriber", "traffic"], data_from="2099-01-01T00:00:00+00:00",
                                 data_to="2099-02-01T00:00:00+00:00")
    findings = [f for f in legal_request.decision["findings"] if f["code"] == "RANGE_AFTER_RECEIPT"]
    assert len(findings) == 1 and findings[0]["data_category"] is None
    verdicts = {v["data_category"]: v for v in legal_request.decision["categories"]}
    assert {v["reason_code"] for v in verdicts.values()} == {"RANGE_AFTER_RECEIPT"}
    body = page(officer_client, legal_request)
    assert body.count('data-code="RANGE_AFTER_RECEIPT"') == 1
    traffic = section(section(body, 'id="decision-categories"', "</table>"), 'data-category="traffic"', "</tr>")
    assert "The same reason as for Subscriber data." in traffic


def test_the_catalogue_says_which_findings_are_the_providers_own_duties():
    for code in ("EE_PRESERVE_ON_RECEIPT", "EE_PRESERVE_UNTIL_PRODUCTION", "EE_EXTENSION_GRANTED",
                 "EE_EXTENSION_AFTER_CONFIRMATION", "US_PRESERVATION", "US_RENEWAL_GRANTED",
                 "EE_EMERGENCY_VERIFICATION", "DSA10_ACK_RECEIPT"):
        assert catalogue.CATALOGUE[code].provider_duty and catalogue.is_provider_duty(code), code
    for code in ("EE_VALIDATION_REQUIRED", "TGT_NONE", "EE_EA_GROUND_RAISED", "RANGE_TRUNCATED"):
        assert not catalogue.is_provider_duty(code), code
    assert not catalogue.is_provider_duty("NO_SUCH_CODE")
    # One definition: the request page keeps no list of its own.
    from requests_app.web.views import detail

    assert not hasattr(detail, "PRESERVATION_DUTIES")


def test_preserve_now_on_an_open_request_is_what_the_provider_does(make_request, officer_client):
    legal_request = make_request(**UNVALIDATED_TRAFFIC)
    assert legal_request.is_open
    assert "EE_PRESERVE_ON_RECEIPT" in {f["code"] for f in legal_request.decision["findings"]}
    body = page(officer_client, legal_request)
    duties = section(body, 'id="provider-duties"', "</section>")
    assert "What the provider does" in duties and "Nothing is needed from you" in duties
    assert 'data-code="EE_PRESERVE_ON_RECEIPT"' in duties
    assert body.count('data-code="EE_PRESERVE_ON_RECEIPT"') == 1  # nowhere else: not among the findings to fix
    steps = section(body, 'id="next-steps"', "</section>")
    assert not re.search(r"(?i)preserve", steps)


def test_the_providers_duties_section_is_translated(make_request, officer):
    legal_request = make_request(**UNVALIDATED_TRAFFIC)
    type(officer).objects.filter(pk=officer.pk).update(language="fr")
    officer.refresh_from_db()
    client = Client()
    client.force_login(officer)
    body = page(client, legal_request)
    assert "Ce que fait le fournisseur" in section(body, 'id="provider-duties"', "</section>")


def test_a_closed_request_has_no_providers_duties_section(make_request, officer_client):
    legal_request = make_request(**UNVALIDATED_TRAFFIC)
    type(legal_request).objects.filter(pk=legal_request.pk).update(status=Status.NOT_EXECUTED)
    body = page(officer_client, legal_request)
    assert 'id="provider-duties"' not in body and 'data-code="EE_PRESERVE_ON_RECEIPT"' not in body


def test_the_admin_marks_the_providers_duties(make_request, db):
    legal_request = make_request(**UNVALIDATED_TRAFFIC)
    client = Client()
    from requests_app.permissions import REVIEWER

    client.force_login(staff("duty-reader@provider.example", REVIEWER), backend=BACKEND)
    with translation.override("en"):
        body = client.get(reverse("admin:requests_app_legalrequest_change", args=[legal_request.pk])).content.decode()
    assert 'data-provider-duty="EE_PRESERVE_ON_RECEIPT"' in body
    assert 'data-provider-duty="EE_VALIDATION_REQUIRED"' not in body


@pytest.mark.parametrize("path", ["/requests/check/", "/requests/new/"])
def test_the_rule_check_lists_preserve_now_as_what_the_provider_does(officer_client, path):
    from .forms import form_data

    data = form_data(data_categories=["traffic"], action="check")  # a prosecutor cannot validate traffic data
    body = officer_client.post(path, data, HTTP_HX_REQUEST="true").content.decode()
    problems = section(body, 'id="check-findings"', "</ul>")
    duties = section(body, 'id="check-provider-duties"', "</div>")
    assert 'data-code="EE_VALIDATOR_NOT_COMPETENT"' in problems
    assert 'data-code="EE_PRESERVE_ON_RECEIPT"' not in problems
    assert 'data-code="EE_PRESERVE_ON_RECEIPT"' in duties and "What the provider does" in duties


def test_an_authority_reads_citations_without_verification_tags(make_request, officer_client):
    from requests_app.templatetags.findings import citation

    assert citation("Reg. (EU) 2023/1543 Art. 10(8) [M]") == "Reg. (EU) 2023/1543 Art. 10(8)"
    assert citation("Reg. (EU) 2023/1543 Art. 9 [M]; Dir. (EU) 2023/1544 Art. 4") == (
        "Reg. (EU) 2023/1543 Art. 9; Dir. (EU) 2023/1544 Art. 4")
    assert citation("18 U.S.C. § 2703(f) [V]/[S]") == "18 U.S.C. § 2703(f)"
    legal_request = make_request(**UNVALIDATED_TRAFFIC)  # its Annex III deadline cites "Art. 10(8) [M]"
    assert any("[M]" in d["legal_basis"] for d in legal_request.decision["deadlines"])
    body = page(officer_client, legal_request)
    assert not re.search(r"\[[VSMPA]\]", body.split("<main", 1)[1])


def test_an_english_reader_reads_the_issuers_type_in_words(make_request, officer_client):
    legal_request = make_request(**UNVALIDATED_TRAFFIC)  # a police order without validation
    body = page(officer_client, legal_request)
    assert "other_competent" not in body
    assert "An order issued by the police or another competent authority for traffic data" in body
