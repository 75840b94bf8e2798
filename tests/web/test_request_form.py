"""The new-request form: live check (htmx), server-side check, submission and receipt."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from requests_app.models import Attachment, LegalRequest
from tests.requests_app.api.helpers import pdf_bytes, upload

from .forms import form_data

pytestmark = pytest.mark.django_db
NEW = "/requests/new/"
CHECK = "/requests/check/"


def test_form_renders_every_section_with_instrument_data_attributes(officer_client, authority):
    body = officer_client.get(NEW).content.decode()
    for section in ("issuer", "validation", "targets", "range", "categories", "offence", "emergency",
                    "confidentiality", "enforcing", "linked", "dsa", "document"):
        assert f'id="section-{section}"' in body
    assert 'data-instruments="dsa_information_order dsa_removal_order"' in body
    assert authority.name in body  # the issuer comes from the verified record
    # Every visible input has a label.
    ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', body))
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', body))
    hidden = set(re.findall(r'<input type="hidden"[^>]*\bid="([^"]+)"', body))
    assert ids - hidden - labelled == set()


def test_targets_management_form_is_outside_every_instrument_section(officer_client):
    """Sections an instrument does not use are disabled by the script; the formset's management
    form must never be inside one, or a DSA removal order could not be submitted."""
    body = officer_client.get(NEW).content.decode()
    management = body.index('name="targets-TOTAL_FORMS"')
    for match in re.finditer(r'<fieldset class="section" id="section-\w+" data-instruments="[^"]*">', body):
        end = body.index("</fieldset>", match.end())
        assert not match.start() < management < end


def test_dsa_removal_order_without_targets_is_submitted(officer_client):
    data = form_data(targets=[], instrument="dsa_removal_order", data_categories=[], data_from=None, data_to=None,
                     dsa_legal_basis="Art. 9 DSA; national law", dsa_statement_of_reasons="Illegal content.",
                     dsa_territorial_scope="FR", dsa_content_urls="https://t.me/channel/123")
    response = officer_client.post(NEW, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    legal_request = LegalRequest.objects.get()
    assert legal_request.instrument == "dsa_removal_order"
    assert legal_request.dsa["content_urls"] == ["https://t.me/channel/123"]


def test_live_check_returns_findings_with_legal_basis_next_to_fields(officer_client):
    data = form_data(data_categories=["content"], max_sentence_months="12", via_information_system=None,
                     validation_authority_type="judge", action="check")
    response = officer_client.post(CHECK, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="check-results"' in body
    assert "Reg. (EU) 2023/1543 Art." in body  # each finding names the article
    # Out-of-band slots next to the fields concerned.
    assert 'id="findings-offence_description" hx-swap-oob="true"' in body
    slot = re.search(r'id="findings-offence_description" hx-swap-oob="true">(.*?)</div>', body, re.S)
    assert slot and "finding-" in slot.group(1)
    assert LegalRequest.objects.count() == 0


def test_live_check_shows_input_errors_instead_of_findings(officer_client):
    response = officer_client.post(CHECK, form_data(case_reference="", range_timezone=""), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'href="#id_case_reference"' in body
    assert 'href="#id_range_timezone"' in body


def test_check_button_without_javascript_renders_findings_server_side(officer_client):
    data = form_data(data_categories=["content"], max_sentence_months="12", via_information_system=None,
                     validation_authority_type="judge", action="check")
    response = officer_client.post(NEW, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Result of the rule check" in body
    assert "Reg. (EU) 2023/1543 Art." in body
    assert re.search(r'id="findings-offence_description">\s*<p class="finding', body)
    assert LegalRequest.objects.count() == 0


def test_submit_creates_the_request_and_shows_the_receipt(officer_client, officer):
    response = officer_client.post(NEW, form_data())
    assert response.status_code == 302
    legal_request = LegalRequest.objects.get()
    assert response["Location"] == reverse("portal:request_receipt", args=[legal_request.reference])
    assert legal_request.status == "received"
    assert legal_request.channel == "web"
    assert legal_request.submitted_by == officer
    assert legal_request.country == "FR"
    assert AuditEvent.objects.filter(action="request.submitted", request_id=legal_request.pk).count() == 1
    ip_target = legal_request.targets.get(kind="ip_address")
    assert ip_target.timestamp is not None and ip_target.timestamp.utcoffset().total_seconds() == 0
    receipt = officer_client.get(response["Location"]).content.decode()
    assert legal_request.receipt_hash in receipt
    assert legal_request.reference in receipt
    assert 'media="print"' in receipt


def test_wall_clock_times_are_read_in_the_chosen_zone(officer_client):
    data = form_data(data_from="2026-01-10T12:00", data_to="2026-01-20T12:00", range_timezone="Europe/Paris")
    officer_client.post(NEW, data)
    legal_request = LegalRequest.objects.get()
    assert legal_request.data_from.isoformat().startswith("2026-01-10T11:00")  # CET = UTC+1


def test_submit_with_signed_order_pdf_stores_the_attachment(officer_client):
    data = form_data()
    data["order_file"] = upload(pdf_bytes())
    response = officer_client.post(NEW, data)
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.kind == "order"
    assert attachment.request.channel == "web"


def test_an_order_with_javascript_is_accepted_and_stored_without_it(officer_client):
    data = form_data()
    original = pdf_bytes(javascript=True)
    data["order_file"] = upload(original)
    assert officer_client.post(NEW, data).status_code == 302
    attachment = Attachment.objects.get()
    assert "javascript" in attachment.removed
    assert attachment.original_sha256 == hashlib.sha256(original).hexdigest()


def test_rejected_pdf_stores_nothing_and_shows_the_error(officer_client):
    data = form_data()
    data["order_file"] = upload(pdf_bytes(encrypted=True))
    response = officer_client.post(NEW, data)
    assert response.status_code == 400
    assert LegalRequest.objects.count() == 0
    assert 'href="#id_order_file"' in response.content.decode()


def test_invalid_input_shows_an_error_summary_linking_to_fields(officer_client):
    data = form_data(case_reference="", **{"targets-0-kind": "", "targets-1-timezone": ""})
    response = officer_client.post(NEW, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="error-summary"' in body
    assert 'href="#id_case_reference"' in body
    assert 'href="#id_targets-0-kind"' in body
    assert 'href="#id_targets-1-timezone"' in body
    # The field's error list exists and the input points at it for screen readers.
    assert 'id="id_case_reference_errors"' in body
    field_input = re.search(r'<input[^>]*name="case_reference"[^>]*>', body)
    assert field_input is not None
    described = re.search(r'aria-describedby="([^"]*)"', field_input.group(0))
    assert described is not None and "id_case_reference_errors" in described.group(1).split()
    assert LegalRequest.objects.count() == 0


def test_api_serializer_errors_land_on_form_fields(officer_client):
    data = form_data(data_from="2026-01-20T12:00", data_to="2026-01-10T12:00")
    response = officer_client.post(NEW, data)
    assert response.status_code == 400
    assert 'href="#id_data_to"' in response.content.decode()


def test_double_submit_creates_one_request(officer_client):
    data = form_data(submission_key="abc123")
    first = officer_client.post(NEW, data)
    second = officer_client.post(NEW, data)
    assert first["Location"] == second["Location"]
    assert LegalRequest.objects.count() == 1


def test_more_target_rows_without_javascript(officer_client):
    response = officer_client.post(NEW, form_data(action="more_targets"))
    assert response.status_code == 200
    assert 'id="id_targets-5-value"' in response.content.decode()
    assert LegalRequest.objects.count() == 0


def test_other_authoritys_reference_is_not_linked(officer_client, other_officer, make_request):
    theirs = make_request(actor=other_officer, instrument="epoc_pr")
    data = form_data(instrument="production_confirmation", linked_reference=theirs.reference, action="check")
    body = officer_client.post(CHECK, data, HTTP_HX_REQUEST="true").content.decode()
    assert "finding" in body
    assert LegalRequest.objects.count() == 1
