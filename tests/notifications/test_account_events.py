"""Account e-mails: the officer hears when the legal team approves their account."""

import pytest

from accounts.models import ApprovalStatus, User
from accounts.services import officer_approve
from requests_app.notifications import EVENTS

from .conftest import deliver

pytestmark = pytest.mark.django_db


def test_an_approved_officer_is_told(authority, team, smtp):
    pending = User.objects.create_user(email="new@interieur.gouv.fr", password="x" * 16, authority=authority,
                                       approval_status=ApprovalStatus.PENDING)
    officer_approve(actor=team.admin, officer=pending)
    deliver()
    mails = smtp.with_subject(str(EVENTS["notify.account_approved"].subject))
    assert [m.rcpt_tos for m in mails] == [["new@interieur.gouv.fr"]]
    assert str(EVENTS["notify.account_approved"].body) in mails[0].text


def test_the_legal_admins_hear_of_a_registration_request(team, smtp):
    from accounts.services import authority_registration_request_create

    authority_registration_request_create(data={
        "authority_name": "Polizia di Stato", "country": "IT", "authority_type": "other_competent",
        "email_domain": "poliziadistato.it", "contact_email": "ufficio@poliziadistato.it",
        "switchboard_phone": "+390646861", "official_source": "https://www.poliziadistato.it/"})
    deliver()
    mails = smtp.with_subject(str(EVENTS["alert.authority_registration"].subject))
    assert sorted(a for m in mails for a in m.rcpt_tos) == sorted(team.admins)
    assert all("poliziadistato" not in m.everything() for m in mails)


def test_a_held_account_is_told_to_the_authority_admins_neutrally(authority, officer, team, smtp):
    from requests_app.services.review import emergency_callback_record
    from requests_app.services.submission import request_submit
    from requests_app.services.validation import request_validate
    from tests.conftest import epoc_body, validated

    chief = User.objects.create_user(email="chief@interieur.gouv.fr", password="x" * 16, authority=authority,
                                     approval_status=ApprovalStatus.APPROVED, is_authority_admin=True)
    offence = {**epoc_body()["offence"], "description": "Abduction"}
    held, _ = request_submit(actor=officer, data=validated(emergency=True, emergency_reason="Threat to life",
                                                           validation=None, summary="Missing person.",
                                                           offence=offence))
    request_validate(request_id=held.pk)
    held.refresh_from_db()
    assert held.status == "verification_hold"
    deliver()
    emergency_callback_record(actor=team.reviewer, request=held, outcome="not_confirmed")
    deliver()
    mails = [m for m in smtp.messages if m.subject.endswith(str(EVENTS["alert.account_held"].subject))]
    assert sorted(a for m in mails for a in m.rcpt_tos) == [chief.email]
    assert all("fraud" not in m.everything().lower() for m in mails)
    legal = [m for m in smtp.messages if m.subject.endswith(str(EVENTS["alert.suspected_fraud"].subject))]
    assert set(team.admins) <= {a for m in legal for a in m.rcpt_tos}
