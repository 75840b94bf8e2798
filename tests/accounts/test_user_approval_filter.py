"""The users' approval filter counts officers only: a member of the legal team holds the model's
default "pending" but is never awaiting approval (issue 13: the filter listed staff as pending)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import ApprovalStatus, User
from requests_app.permissions import ADMIN

pytestmark = pytest.mark.django_db


def test_awaiting_approval_lists_officers_not_the_legal_team(authority, officer):
    colleague = User.objects.create_user(email="reviewer@provider.example", password=None, is_staff=True)
    assert colleague.approval_status == ApprovalStatus.PENDING  # the model's default
    pending = User.objects.create_user(email="pending@interieur.gouv.fr", password=None, authority=authority)
    User.objects.filter(pk=pending.pk).update(approval_status=ApprovalStatus.PENDING)
    admin_user = User.objects.create_user(email="admin@provider.example", password=None, is_staff=True,
                                          is_superuser=True)
    admin_user.groups.add(Group.objects.get_or_create(name=ADMIN)[0])
    client = Client()
    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")

    listed = client.get("/admin/accounts/user/", {"approval_status": "pending"}).context["cl"].result_list
    assert [u.email for u in listed] == [pending.email]
    everyone = client.get("/admin/accounts/user/").context["cl"].result_list
    assert {colleague.email, admin_user.email, officer.email, pending.email} <= {u.email for u in everyone}
