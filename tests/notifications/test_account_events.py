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
