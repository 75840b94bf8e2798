"""The read-only record lists open for the legal team and refuse every change."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

MODELS = ["target", "attachment", "message", "internalnote", "callbackverification", "approval", "annexiii",
          "responsepackage", "responsefile", "idempotencyrecord"]


@pytest.mark.parametrize("model", MODELS)
def test_each_record_list_opens_and_cannot_be_added_to(as_admin, model, make_request):
    make_request()
    assert as_admin.get(reverse(f"admin:requests_app_{model}_changelist")).status_code == 200
    assert as_admin.get(reverse(f"admin:requests_app_{model}_add")).status_code == 403
