"""The enforcing authority's copy of an Annex III (Reg. (EU) 2023/1543 Art. 10(5)-(8),
11(4)-(5); Annex III: "send ... to the issuing authority and, where notified, to the
enforcing authority").

Every Annex III that is sent (the legal team's clarification, an approved non-execution,
refusal or rerouting in ``services.review``; the validation task's automatic clarification
in ``services.automatic_clarification``) is copied here to the enforcing authority notified
under Art. 8(1), in the transaction that sends the form: an outbox row
(``notify.annex_iii_enforcing_authority``) carrying what ``settings.ANNEX_III_EA_EMAIL``
says (``copy_mode``; docs/law.md, "Annex III copy to the enforcing authority") and an audit
event with the SHA-256 of what is attached.

Laying out a PDF takes ~0.1-0.3 s; a caller holding the request's row lock first renders
the PDFs with ``prerender_copy`` before taking the lock and hands them to
``copy_to_enforcing_authority``, which uses them only if the committed form still says the
same (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from audit import trail as audit
from outbox import relay as outbox

from .. import annex_iii_pdf
from ..models import AnnexIII, LegalRequest


def copy_mode() -> str:
    """``settings.ANNEX_III_EA_EMAIL``, refused clearly when it is not one of the three."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    mode, choices = settings.ANNEX_III_EA_EMAIL, settings.ANNEX_III_EA_EMAIL_CHOICES
    if mode not in choices:
        raise ImproperlyConfigured(f"ANNEX_III_EA_EMAIL must be one of {', '.join(choices)}, not {mode!r}")
    return str(mode)


@dataclass(frozen=True)
class CopyPdfs:
    """The PDFs of the enforcing authority's copy, rendered before the lock."""

    attached: annex_iii_pdf.Prerendered
    complete: annex_iii_pdf.Prerendered | None  # the complete form's, for its SHA-256 (``redacted``)


def prerender_copy(form: AnnexIII) -> CopyPdfs | None:
    """Render what ``copy_to_enforcing_authority`` will attach, from ``form`` as it will be
    saved (an unsaved or in-memory instance) and before the request is locked: the lock blocks
    every other writer of the request (the validation task, the legal team) meanwhile. Inside
    the lock the copy uses these bytes only when the form, read there, says exactly the same
    (``annex_iii_pdf.render_as_known``), otherwise it renders again: what is sent and hashed is
    always the form as committed. None where no PDF will be attached (not notified, no
    address, ``notice_only``)."""
    request = form.request
    if not request.enforcing_authority_notified or not (request.enforcing_authority_email or "").strip():
        return None
    mode = copy_mode()
    if mode == "notice_only":
        return None
    return CopyPdfs(attached=annex_iii_pdf.prerender(form, withheld=mode == "redacted"),
                    complete=annex_iii_pdf.prerender(form) if mode == "redacted" else None)


def copy_to_enforcing_authority(*, request: LegalRequest, form: AnnexIII, actor: Any,
                                prerendered: CopyPdfs | None = None) -> None:
    """Where the enforcing authority of ``request`` (locked by the caller, in the transaction
    that sends ``form``) was notified (Art. 8(1)), it receives the Annex III too: an e-mail
    notice to its recorded address, through the outbox; the delivery is the Notification row.
    What the e-mail carries is ``copy_mode()``, fixed here with the row so that a later change of
    the setting never sends a text that does not match its attachment: by default the form with
    the personal identifiers withheld (security.md R6). Recorded either way
    (``annex_iii.enforcing_authority_copy``), with the SHA-256 of the file sent (checked again
    before sending) and the reason when no address is on file. ``actor``: the person who sent
    the form, None for the validation task. ``prerendered``: the PDFs rendered before the lock
    (``prerender_copy``), used when the form still says the same."""
    if not request.enforcing_authority_notified:
        return
    address = (request.enforcing_authority_email or "").strip()
    mode = copy_mode()
    sent: dict[str, Any] = {"copy": mode}
    if address:
        attachments = []
        if mode != "notice_only":
            pdf = annex_iii_pdf.attachment(form, withheld=mode == "redacted",
                                           known=prerendered.attached if prerendered else None)
            attachments.append(pdf)
            sent.update(pdf_sha256=pdf.sha256, pdf_filename=pdf.filename)
            if mode == "redacted":
                # Which complete form the copy was made from: the issuing authority's download.
                complete = annex_iii_pdf.render_as_known(form, known=prerendered.complete if prerendered else None)
                sent["complete_pdf_sha256"] = hashlib.sha256(complete).hexdigest()
        outbox.enqueue("notify.annex_iii_enforcing_authority", request=request,
                       payload={"annex_iii_id": form.pk, "address": address, "copy": mode}, attachments=attachments)
    audit.record("annex_iii.enforcing_authority_copy", actor=actor, request=request, obj=form,
                 authority_id=request.authority_id,
                 data={"annex_iii_id": form.pk, "address": address, "queued": bool(address), **sent,
                       **({} if address else {"reason": "no e-mail address of the enforcing authority on file"})})
