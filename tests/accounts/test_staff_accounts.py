"""Staff accounts: only a superuser changes a staff member's password, e-mail or groups; every
such change is audited; a new staff address takes effect once confirmed (issue 14 item 4)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from requests_app.permissions import ADMIN, APPROVER, REVIEWER

pytestmark = pytest.mark.django_db
BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(user: User) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


def form_data(user: User, **overrides) -> dict:
    data = {"email": user.email, "username": user.username, "language": user.language,
            "is_active": "on", "is_staff": "on" if user.is_staff else "",
            "groups": [g.pk for g in user.groups.all()]}
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def test_a_legal_administrator_cannot_set_a_staff_members_password(legal_admin, reviewer):
    before = User.objects.get(pk=reviewer.pk).password
    response = login(legal_admin).post(f"/admin/accounts/user/{reviewer.pk}/password/",
                                       {"password1": "Another-long-passphrase-1",
                                        "password2": "Another-long-passphrase-1"})
    assert response.status_code == 403
    assert User.objects.get(pk=reviewer.pk).password == before


def test_a_legal_administrator_cannot_change_a_staff_members_address(legal_admin, reviewer):
    client = login(legal_admin)
    page = client.get(f"/admin/accounts/user/{reviewer.pk}/change/").content.decode()
    assert 'name="email"' not in page
    client.post(f"/admin/accounts/user/{reviewer.pk}/change/", form_data(reviewer, email="attacker@evil.example"))
    assert User.objects.get(pk=reviewer.pk).email == "reviewer@provider.example"
    assert not EmailAddress.objects.filter(email="attacker@evil.example").exists()


def test_a_superuser_sets_a_staff_password_and_it_is_audited(superuser, reviewer):
    response = login(superuser).post(f"/admin/accounts/user/{reviewer.pk}/password/",
                                     {"password1": "Another-long-passphrase-1",
                                      "password2": "Another-long-passphrase-1", "usable_password": "true"})
    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert reviewer.check_password("Another-long-passphrase-1")
    event = AuditEvent.objects.get(action="staff.account_changed")
    assert event.actor_id == superuser.pk and event.object_id == str(reviewer.pk)
    assert event.data["changes"] == {"password": "changed"}


def test_a_staff_address_changes_only_once_confirmed(superuser, reviewer, mailoutbox,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(superuser).post(f"/admin/accounts/user/{reviewer.pk}/change/",
                                         form_data(reviewer, email="reviewer.new@provider.example"))
    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert reviewer.email == "reviewer@provider.example"  # not yet
    address = EmailAddress.objects.get(email="reviewer.new@provider.example")
    assert address.user_id == reviewer.pk and not address.verified
    assert [m.to for m in mailoutbox] == [["reviewer.new@provider.example"]]
    requested = AuditEvent.objects.get(action="staff.email_change_requested")
    assert requested.actor_id == superuser.pk and requested.data["to"] == "reviewer.new@provider.example"

    key = EmailConfirmationHMAC(address).key
    Client().post(f"/accounts/confirm-email/{key}/")
    reviewer.refresh_from_db()
    assert reviewer.email == "reviewer.new@provider.example"
    changed = AuditEvent.objects.filter(action="staff.account_changed").last()
    assert changed is not None and changed.data["changes"]["email"] == {
        "from": "reviewer@provider.example", "to": "reviewer.new@provider.example"}


def test_group_changes_of_staff_are_audited_on_every_path(superuser, reviewer):
    approver_group = Group.objects.get(name=APPROVER)
    response = login(superuser).post(f"/admin/accounts/user/{reviewer.pk}/change/",
                                     form_data(reviewer, groups=[Group.objects.get(name=REVIEWER).pk,
                                                                 approver_group.pk]))
    assert response.status_code == 302
    assert set(reviewer.groups.values_list("name", flat=True)) == {REVIEWER, APPROVER}
    by_admin = AuditEvent.objects.filter(action="staff.groups_changed", actor_id=superuser.pk)
    assert [e.data["groups"] for e in by_admin] == [[APPROVER]]

    # Outside the admin (a shell, a script): still an event, with no actor to hide behind.
    reviewer.groups.add(Group.objects.get(name=ADMIN))
    shell = AuditEvent.objects.filter(action="staff.groups_changed").order_by("seq").last()
    assert shell is not None and shell.actor_id is None and shell.data == {
        "user": reviewer.email, "operation": "add", "groups": [ADMIN]}


def test_an_e_mail_change_outside_the_admin_is_audited(reviewer):
    reviewer.email = "elsewhere@provider.example"
    reviewer.save()
    event = AuditEvent.objects.get(action="staff.account_changed")
    assert event.data["changes"]["email"]["to"] == "elsewhere@provider.example"
