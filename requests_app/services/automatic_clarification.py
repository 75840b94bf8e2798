"""The Annex III of the clarification the validation task asks for (Reg. (EU) 2023/1543 Art.
10(6) for an EPOC, Art. 11 for an EPOC-PR).

Where the order is incomplete, contains manifest errors or lacks sufficient information, the
provider informs the issuing authority "and, where a notification has taken place, the
enforcing authority" without undue delay and asks for clarification "using the form set out
in Annex III", saying whether identification and preservation were possible (Art. 10(6),
10(9)). When the engine's findings send a request to clarification this module writes that
form: the reasons ticked from the clarification findings, per data category and target
(``rules.proposal.draft_annex_iii``), what is asked (section F), and per target and category
whether the order as received lets the data be identified and preserved (section G). It is
sent at once, like the legal team's clarification (a clarification decides nothing, so no
four eyes), and the enforcing authority of a notified order gets its copy under the same
rules (``enforcing_authority_copy.copy_to_enforcing_authority``: ANNEX_III_EA_EMAIL, outbox
row, audit event with the SHA-256).

No person signs it and the form does not pretend one did: ``signed_by`` and ``signed_at``
stay empty, ``origin`` says it was drafted automatically, and the PDF's section H says so
with the provider's contact. Only clarification findings become reasons: a finding that
would refuse a category is a person's to decide (domain.md §13.12), never ticked here.

Called by ``services.validation`` inside the transaction that moves the request into
clarification, after the check that it was still being validated: a second delivery of the
same task finds it moved and writes nothing, so there is one form per clarification round.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from audit import trail as audit

from ..models import AnnexIII, AnnexIIIKind, AnnexIIIOrigin, LegalRequest
from ..rules import vocab as v
from ..rules.catalogue import CLARIFY, kind_of
from ..rules.proposal import draft_annex_iii, target_index, target_label


def _is_clarification(finding: dict[str, Any]) -> bool:
    if finding.get("severity") != "error":
        return False
    try:
        return kind_of(str(finding.get("code", ""))) == CLARIFY
    except KeyError:  # a code of an older rulebook: not ticked automatically
        return False


def _asked(findings: list[dict[str, Any]], targets: list[tuple[str, str]]) -> str:
    """Section F: what the issuing authority must complete or correct, one line per finding."""
    lines = []
    for finding in findings:
        index = target_index(finding.get("field"))
        # The target's position and kind (its value is in the message, withheld in the copy).
        where = (f"target {index + 1} ({targets[index][0]})" if index is not None and index < len(targets)
                 else str(finding.get("field") or "the order"))
        basis = finding.get("legal_basis") or ""
        message = str(finding.get("message") or "").strip()
        lines.append(f"- {where}: {message}" + (f" ({basis})" if basis else ""))
    return ("The order cannot be executed as received. Please complete or correct it through the portal "
            "(answer to this clarification request):\n" + "\n".join(lines))


def _identification(findings: list[dict[str, Any]], targets: list[tuple[str, str]],
                    categories: list[str]) -> list[dict[str, Any]]:
    """Section G, per target and data category: whether the order as received identifies the
    data well enough to preserve them (Art. 10(6), 10(9)). A target with a finding of its own
    cannot be identified; a data category with a finding of its own cannot; an order without
    any target identifies nothing."""
    on_target: dict[int, list[str]] = {}
    on_category: dict[str, list[str]] = {}
    for finding in findings:
        index = target_index(finding.get("field"))
        message = str(finding.get("message") or finding.get("code") or "").strip()
        if index is not None and index < len(targets):
            on_target.setdefault(index, []).append(message)
        elif finding.get("data_category"):
            on_category.setdefault(str(finding["data_category"]), []).append(message)
    if not targets:
        return [{"target": None, "identifier": "", "data_category": None, "possible": False,
                 "why": "The order names no identifier."}]
    rows = [{"target": index, "identifier": target_label(kind, value), "data_category": None,
             "possible": index not in on_target, "why": " ".join(on_target.get(index, []))}
            for index, (kind, value) in enumerate(targets)]
    rows += [{"target": None, "identifier": "", "data_category": category,
              "possible": category not in on_category, "why": " ".join(on_category.get(category, []))}
             for category in categories]
    return rows


def clarification_annex_iii(request: LegalRequest, record: dict[str, Any]) -> AnnexIII | None:
    """Write and send the Annex III of the automatic clarification of ``request`` (locked,
    just moved to ``clarification_requested`` by the validation task) from its decision
    ``record``; copy it to the enforcing authority where it was notified. None for an
    instrument outside Reg. (EU) 2023/1543 (its clarification e-mail and page say what is
    missing; Annex III is the Regulation's form)."""
    if request.instrument not in v.EEVIDENCE_INSTRUMENTS:
        return None
    from .enforcing_authority_copy import copy_to_enforcing_authority
    from .review import annex_iii_digest

    targets = [(t.kind, t.value) for t in request.targets.all()]
    findings = [f for f in record.get("findings") or [] if _is_clarification(f)]
    drafted = draft_annex_iii({"route": record.get("route"), "findings": findings}, targets)
    reasons = [{key: item[key] for key in ("identifier", "data_category", "reasons", "explanation", "legal_basis")}
               | ({"target": item["target"]} if item["target"] is not None else {})
               for item in drafted["items"]]
    categories = [c for c in v.CATEGORIES if c in (request.data_categories or [])]
    identification = _identification(findings, targets, categories)
    now = timezone.now()
    form = AnnexIII.objects.create(
        request=request, kind=AnnexIIIKind.CLARIFICATION, origin=AnnexIIIOrigin.AUTOMATIC_VALIDATION,
        reasons=reasons, clarification_asked=_asked(findings, targets), identification=identification,
        # Nobody has acted on the order yet: the form states what the order allows, not a hold
        # that no person has placed.
        data_preserved=False, engine_proposal=record.get("proposal") or {}, sent_at=now,
    )
    audit.record("annex_iii.sent_automatically", request=request, obj=form, authority_id=request.authority_id,
                 data={"annex_iii_id": form.pk, "kind": form.kind, "origin": form.origin,
                       "sha256": annex_iii_digest(form), "codes": [f.get("code") for f in findings],
                       "enforcing_authority_copy": bool(request.enforcing_authority_notified)})
    copy_to_enforcing_authority(request=request, form=form, actor=None)
    return form
