"""The officer's request page says what was submitted, the decision per category and the next
step; submitting what the check calls unexecutable asks for confirmation; after the
re-authentication of a download the officer is back on the request (issue 13 item 2)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from requests_app.models import LegalRequest
from requests_app.services import review
from requests_app.states import Status

from .conftest import reauthenticated
from .forms import form_data

pytestmark = pytest.mark.django_db
NEW = "/requests/new/"

# A police order for traffic data without any validation: Reg. 2023/1543 Art. 4(2)(b) needs a
# judge or court, so the check says it cannot be executed as it stands.
UNVALIDATED_TRAFFIC = {"data_categories": ["subscriber", "traffic"], "validation": None}
UNVALIDATED_TRAFFIC_FORM = {"data_categories": ["subscriber", "traffic"], "validation_authority_type": "",
                            "validation_authority_name": "", "validation_reference": "", "validation_date": ""}


def detail(legal_request: LegalRequest) -> str:
    return reverse("portal:request_detail", args=[legal_request.reference])


def test_the_page_shows_what_was_submitted(make_request, officer_client):
    legal_request = make_request(data_categories=["subscriber"], confidential=True,
                                 confidentiality_reason="Art. 13(2): ongoing covert investigation")
    body = officer_client.get(detail(legal_request)).content.decode()
    assert 'id="submitted-fields"' in body
    assert "Subscriber data" in body  # the category's label, not ``subscriber``
    assert "<code>suspect_account</code>" in body and "+33612345678" in body
    assert "Fraud" in body and "Art. 313-1 Code pénal" in body and "maximum sentence 60 months" in body
    assert "Parquet de Paris" in body and "PQ-2026-1" in body
    assert "Public prosecutor" in body or "prosecutor" in body.lower()
    assert "Confidential: only you" in body and "ongoing covert investigation" in body


def test_the_decision_is_shown_per_category_with_the_blocking_finding(make_request, officer_client):
    legal_request = make_request(**UNVALIDATED_TRAFFIC)
    decision = legal_request.decision
    verdicts = {row["data_category"]: row for row in decision["categories"]}
    assert not verdicts["traffic"]["allowed"]
    body = officer_client.get(detail(legal_request)).content.decode()
    table = body.split('id="decision-categories"', 1)[1].split("</table>", 1)[0]
    traffic_row = table.split('data-category="traffic"', 1)[1].split("</tr>", 1)[0]
    assert "Cannot be executed as it stands" in traffic_row
    assert f'data-code="{verdicts["traffic"]["reason_code"]}"' in traffic_row


def test_a_missing_validation_says_to_upload_a_validated_order(make_request, officer_client):
    legal_request = make_request(**UNVALIDATED_TRAFFIC)
    assert legal_request.is_open
    body = officer_client.get(detail(legal_request)).content.decode()
    steps = body.split('id="next-steps"', 1)[1].split("</section>", 1)[0]
    assert 'data-step="upload_validated_order"' in steps
    assert "validated by a judge or a court" in steps
    assert f'{detail(legal_request)}#attachment-form' in steps


def test_a_request_that_can_be_executed_has_no_next_step_box(own_request, officer_client):
    assert own_request.decision["route"] in {"accepted", "partially_accepted"}
    body = officer_client.get(detail(own_request)).content.decode()
    assert 'id="next-steps"' not in body


def test_a_closed_request_offers_a_new_request_and_no_due_date(make_request, officer_client):
    legal_request = make_request(**UNVALIDATED_TRAFFIC)
    LegalRequest.objects.filter(pk=legal_request.pk).update(status=Status.NOT_EXECUTED)
    body = officer_client.get(detail(legal_request)).content.decode()
    assert 'data-step="closed_not_executed"' in body
    assert 'id="request-due"' not in body and 'id="deadlines"' not in body


def test_submitting_what_the_check_calls_unexecutable_asks_for_confirmation(officer_client):
    data = form_data(**UNVALIDATED_TRAFFIC_FORM)
    before = LegalRequest.objects.count()
    response = officer_client.post(NEW, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_confirm_not_executable"' in body
    assert "confirm that you want to submit it anyway" in body
    assert LegalRequest.objects.count() == before  # nothing stored

    confirmed = officer_client.post(NEW, {**data, "confirm_not_executable": "yes"})
    assert confirmed.status_code == 302
    assert LegalRequest.objects.count() == before + 1


def test_an_executable_request_is_submitted_without_confirmation(officer_client):
    assert officer_client.post(NEW, form_data()).status_code == 302


def test_the_live_check_offers_the_confirmation_before_submitting(officer_client):
    response = officer_client.post("/requests/check/", form_data(**UNVALIDATED_TRAFFIC_FORM), HTTP_HX_REQUEST="true")
    assert 'id="id_confirm_not_executable"' in response.content.decode()




def test_after_reauthenticating_for_a_download_the_officer_is_back_on_the_request(
        make_request, officer_client, officer, reviewer):
    legal_request = make_request()
    form = review.clarification_request(actor=reviewer, request=legal_request, clarification_asked="Which account?")
    download = reverse("portal:annex_iii_download", args=[legal_request.reference, form.pk])

    response = officer_client.get(download)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("account_reauthenticate")
    back = parse_qs(location.query)["next"][0]
    assert urlsplit(back).path == detail(legal_request)  # not the file: the request page

    reauthenticated(officer_client, officer)
    page = officer_client.get(back).content.decode()
    assert f'<meta http-equiv="refresh" content="0;url={download}">' in page
    assert 'id="download-started"' in page
    pdf = officer_client.get(download)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action="annex_iii.downloaded", request_id=legal_request.pk).count() == 1


def test_the_page_starts_only_its_own_downloads(make_request, officer_client, other_officer):
    legal_request = make_request()
    for foreign in ("https://evil.example/x", "/admin/", reverse("portal:request_list"),
                    reverse("portal:annex_iii_download", args=["LRP-2026-999999", 1])):
        page = officer_client.get(f"{detail(legal_request)}?download={foreign}").content.decode()
        assert 'http-equiv="refresh"' not in page, foreign


def test_the_next_step_speaks_the_officers_language(make_request, officer, officer_client):
    from accounts.models import User

    User.objects.filter(pk=officer.pk).update(language="de")
    legal_request = make_request(**UNVALIDATED_TRAFFIC)
    body = officer_client.get(detail(legal_request)).content.decode()
    assert "Nächste Schritte" in body and "von einem Richter oder Gericht validierte Anordnung" in body
