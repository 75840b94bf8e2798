"""The enforcing authority's Annex III PDFs are laid out outside the request's row lock (a
render takes ~0.3 s; meanwhile the lock would block the validation task and every other
member of the legal team writing the request), and what is sent is still the form as
committed: its SHA-256 in the audit event, byte-identical to the issuing authority's
download.

The renderer is patched to try, from a second database connection, to lock the request row
with NOWAIT while it lays a PDF out: that fails whenever the service renders inside its lock.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from audit.models import AuditEvent
from requests_app import annex_iii_pdf
from requests_app.models import AnnexIII, LegalRequest
from requests_app.services import review
from tests.four_eyes import approve_annex

from .conftest import PERSONAL
from .test_enforcing_authority_copy import EA, _waiting

pytestmark = pytest.mark.django_db(transaction=True)


def _row_free(request_id: int) -> bool:
    """Whether another connection can lock the request row right now (without waiting)."""

    def attempt() -> bool:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT id FROM requests_app_legalrequest WHERE id = %s FOR UPDATE NOWAIT",
                               [request_id])
            return True
        except OperationalError:  # psycopg's LockNotAvailable
            return False
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(attempt).result()


@pytest.fixture
def lock_seen_by_renderer(monkeypatch) -> tuple[list[bool], list[int]]:
    """While a PDF is laid out, whether the request row could be locked by someone else."""
    seen: list[bool] = []
    request_id: list[int] = []
    output = annex_iii_pdf._Form.output

    def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        if request_id:
            seen.append(_row_free(request_id[0]))
        return output(self, *args, **kwargs)

    monkeypatch.setattr(annex_iii_pdf._Form, "output", checked)
    return seen, request_id


def _copy_event(request: LegalRequest) -> dict[str, Any]:
    return AuditEvent.objects.get(request_id=request.pk, action="annex_iii.enforcing_authority_copy").data


@pytest.mark.parametrize("mode", ["redacted", "full"])
def test_the_approval_renders_the_copy_without_holding_the_request_lock(
        officer, team, settings, lock_seen_by_renderer, mode):
    settings.ANNEX_III_EA_EMAIL = mode
    seen, request_id = lock_seen_by_renderer
    request = _waiting(officer, enforcing_authority_email=EA)
    form = review.ea_object(actor=team.reviewer, request=request, grounds=PERSONAL["reason"])
    request_id.append(request.pk)

    approve_annex(team.approver, form)

    assert seen, "the approval rendered no PDF"
    assert all(seen), "a PDF was laid out while the request row was locked"
    del request_id[:]  # the checks below render again, outside any service
    committed = AnnexIII.objects.get(pk=form.pk)
    event = _copy_event(request)
    assert committed.approved_by == team.approver and committed.sent_at == committed.approved_at
    assert event["pdf_sha256"] == hashlib.sha256(
        annex_iii_pdf.render(committed, withheld=mode == "redacted")).hexdigest()
    if mode == "redacted":
        assert event["complete_pdf_sha256"] == hashlib.sha256(annex_iii_pdf.render(committed)).hexdigest()


def test_the_clarification_renders_the_copy_without_holding_the_request_lock(
        officer, team, lock_seen_by_renderer):
    seen, request_id = lock_seen_by_renderer
    request = _waiting(officer, enforcing_authority_email=EA)
    review.ea_confirm(actor=team.reviewer, request=request)
    request_id.append(request.pk)

    form = review.clarification_request(actor=team.reviewer, request=request, clarification_asked="Which account?")

    assert seen and all(seen), seen
    del request_id[:]
    event = _copy_event(request)
    committed = AnnexIII.objects.get(pk=form.pk)
    assert event["pdf_sha256"] == hashlib.sha256(annex_iii_pdf.render(committed, withheld=True)).hexdigest()
    assert event["complete_pdf_sha256"] == hashlib.sha256(annex_iii_pdf.render(committed)).hexdigest()


def test_a_form_changed_after_the_early_render_is_rendered_again_as_committed(officer, team):
    """The early render is only a shortcut: a form that no longer says the same (here its
    signatory's name changed between the render and the lock) is rendered inside the lock."""
    request = _waiting(officer, enforcing_authority_email=EA)
    form = review.ea_object(actor=team.reviewer, request=request, grounds=PERSONAL["reason"])
    early = annex_iii_pdf.prerender(AnnexIII.objects.get(pk=form.pk))
    team.reviewer.first_name = "Renamed"
    team.reviewer.save(update_fields=["first_name"])
    changed = AnnexIII.objects.get(pk=form.pk)
    assert annex_iii_pdf.content_key(changed) != early.key
    assert annex_iii_pdf.render_as_known(changed, known=early) == annex_iii_pdf.render(changed) != early.content
    assert annex_iii_pdf.render_as_known(AnnexIII.objects.get(pk=form.pk), known=annex_iii_pdf.prerender(
        changed)) == annex_iii_pdf.render(changed)
