"""The second person's step of a refusal, rerouting or non-execution (issue 11 item 3): the
approver names the Annex III draft they saw by its id and the digest of its content."""

from __future__ import annotations

from typing import Any

from requests_app.models import AnnexIII
from requests_app.services import review


def approve_annex(approver: Any, form: AnnexIII, note: str = "") -> AnnexIII:
    form.refresh_from_db()
    return review.refusal_approve(actor=approver, request=form.request, annex_iii_id=form.pk,
                                  digest=review.annex_iii_digest(form), note=note)
