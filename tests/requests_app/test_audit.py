import pytest

from requests_app import audit
from requests_app.models import AuditEvent


@pytest.mark.django_db(transaction=True)
def test_scratch():
    audit.record("x.y", data={"a": 1})
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_scratch2():
    audit.record("x.y", data={"a": 1})
    assert AuditEvent.objects.count() == 1
