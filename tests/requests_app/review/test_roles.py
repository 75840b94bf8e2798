"""The legal team's roles (requests_app.permissions): who may do what."""

from __future__ import annotations

import pytest

from requests_app.permissions import PERMISSIONS, can

from .conftest import staff

pytestmark = pytest.mark.django_db

ACTIONS = ("review", "assign", "verify_emergency", "prepare_response", "approve", "administer")
REVIEWER_ACTIONS = {"review", "assign", "verify_emergency", "prepare_response"}
MATRIX = {
    "reviewer": REVIEWER_ACTIONS,
    "approver": REVIEWER_ACTIONS | {"approve"},
    "legal_admin": REVIEWER_ACTIONS | {"approve", "administer"},
    "superuser": set(ACTIONS),
    "officer": set(),
    "staff_without_role": set(),
    "inactive_reviewer": set(),
    "reviewer_not_staff": set(),
    "anonymous": set(),
}


@pytest.fixture
def persona(request, officer, reviewer, approver, legal_admin, superuser):
    from django.contrib.auth.models import AnonymousUser

    name = request.param
    if name == "staff_without_role":
        return staff("nobody@provider.example")
    if name == "inactive_reviewer":
        user = staff("gone@provider.example", "legal_reviewer")
        user.is_active = False
        user.save()
        return user
    if name == "reviewer_not_staff":
        user = staff("intern@provider.example", "legal_reviewer")
        user.is_staff = False
        user.save()
        return user
    return {"reviewer": reviewer, "approver": approver, "legal_admin": legal_admin, "superuser": superuser,
            "officer": officer, "anonymous": AnonymousUser()}[name]


def test_the_matrix_covers_every_rule():
    assert set(PERMISSIONS) == set(ACTIONS)


@pytest.mark.parametrize("persona", list(MATRIX), indirect=True)
@pytest.mark.parametrize("action", ACTIONS)
def test_can(persona, action, request):
    name = request.node.callspec.params["persona"]
    assert can(persona, action) is (action in MATRIX[name])


def test_an_officer_in_a_legal_group_still_cannot_act(officer):
    from django.contrib.auth.models import Group

    officer.groups.add(Group.objects.get_or_create(name="legal_admin")[0])
    assert not any(can(officer, action) for action in ACTIONS)
