"""The engine's proposal of a refusal: a drafted Annex III that a person decides and signs.

Pure (no Django). The engine never refuses on its own (domain.md §13.12): where its route is
``not_executable`` or ``rerouted`` (or some categories or targets are blocked) it drafts the
Annex III of Reg. (EU) 2023/1543, section D, with the reasons ticked from the error findings,
one item per data category and target concerned, and a free-text explanation made of the
findings' messages and the articles that decide. The legal team edits and signs it in the
admin (``services.review.not_executed``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from . import vocab as v
from .catalogue import CLARIFY, REFUSE, REROUTE, kind_of
from .result import Decision

_TARGET_FIELD = re.compile(r"^targets\[(\d+)\]")

# What the engine recommends a person to do, by route.
RECOMMENDATION = {
    v.NOT_EXECUTABLE: v.ST_NOT_EXECUTED,
    v.REROUTED: v.ST_REROUTED,
    v.PARTIALLY_ACCEPTED: "partial_execution",
    v.CLARIFICATION_REQUIRED: v.ST_CLARIFICATION_REQUESTED,
    v.ACCEPTED: "execute",
}


def target_index(field: str | None) -> int | None:
    match = _TARGET_FIELD.match(field or "")
    return int(match.group(1)) if match else None


def target_label(kind: str, value: str) -> str:
    return f"{kind}: {value}"


def item_key(target: int | None, category: str | None) -> str:
    """A stable name for one Annex III item: ``order``, ``target_1``, ``traffic``, ``target_1.traffic``."""
    parts = ([f"target_{target}"] if target is not None else []) + ([category] if category else [])
    return ".".join(parts) or "order"


def draft_annex_iii(decision: Decision | dict[str, Any], targets: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """The drafted Annex III for ``decision`` (a Decision or its ``to_dict()``).

    ``targets`` are the request's identifiers as ``(kind, value)`` in their order, so that
    ``targets[i]`` findings name the identifier. Returns ``{"recommendation", "route",
    "items": [{"key", "target", "identifier", "data_category", "reasons", "explanation",
    "findings", "legal_basis"}]}``; ``items`` is empty when nothing is to be refused.
    """
    record = decision.to_dict() if isinstance(decision, Decision) else decision
    route = str(record.get("route") or "")
    items: dict[str, dict[str, Any]] = {}
    for finding in record.get("findings") or []:
        if finding.get("severity") != "error":
            continue
        try:
            kind = kind_of(str(finding.get("code", "")))
        except KeyError:
            # A code of an older rulebook stored with the decision: still an error a person
            # must see in the draft (reason ``other`` unless the finding names one).
            kind = REFUSE
        if kind not in {REFUSE, REROUTE, CLARIFY}:
            continue
        index = target_index(finding.get("field"))
        if index is not None and index >= len(targets):
            index = None
        category = finding.get("data_category")
        key = item_key(index, category)
        item = items.setdefault(key, {
            "key": key,
            "target": index,
            "identifier": target_label(*targets[index]) if index is not None else "",
            "data_category": category,
            "reasons": [],
            "explanation": "",
            "findings": [],
            "legal_basis": [],
        })
        reason = finding.get("annex_iii_reason") or v.AIII_OTHER
        if reason not in item["reasons"]:
            item["reasons"].append(reason)
        item["findings"].append(finding.get("code"))
        basis = finding.get("legal_basis") or ""
        if basis and basis not in item["legal_basis"]:
            item["legal_basis"].append(basis)
        message = str(finding.get("message") or "").strip()
        line = f"{message} ({basis})" if basis else message
        item["explanation"] = f"{item['explanation']}\n{line}".strip() if line else item["explanation"]
    ordered = sorted(items.values(), key=lambda i: (i["target"] is not None, i["target"] or 0,
                                                    _category_order(i["data_category"])))
    return {"recommendation": RECOMMENDATION.get(route, "review"), "route": route, "items": ordered}


def _category_order(category: str | None) -> int:
    return -1 if category is None else (v.CATEGORIES.index(category) if category in v.CATEGORIES else len(v.CATEGORIES))


def decided_verdicts(items: Sequence[dict[str, Any]], categories: Sequence[str],
                     targets: Sequence[tuple[str, str]], *, eevidence: bool = True) -> dict[str, list[dict[str, Any]]]:
    """What the signed Annex III decides, per data category and per target.

    An item without target and category refuses the whole order; one with a category refuses
    that category for every target; one with a target refuses that target (for its category,
    or every category). ``reason_code`` is the first Annex III reason, ``legal_basis`` the
    findings' articles (for an e-Evidence order, after the Annex III of Reg. (EU) 2023/1543).
    ``targets`` lists only the targets whose verdict differs from their category's.
    """

    def specificity(item: dict[str, Any]) -> int:
        return 2 * (item.get("target") is not None) + (item.get("data_category") is not None)

    ranked = sorted(items, key=specificity, reverse=True)  # the most specific item decides

    def covering(target: int | None, category: str) -> dict[str, Any] | None:
        for item in ranked:
            t, c = item.get("target"), item.get("data_category")
            if t in (None, target) and c in (None, category):
                return item
        return None

    def verdict(item: dict[str, Any] | None) -> dict[str, Any]:
        if item is None:
            return {"allowed": True, "reason_code": "allowed", "legal_basis": ""}
        bases = [*([f"{v.REG} Annex III"] if eevidence else []), *(item.get("legal_basis") or [])]
        return {"allowed": False, "reason_code": (item.get("reasons") or [v.AIII_OTHER])[0],
                "legal_basis": "; ".join(bases)}

    by_category = {c: verdict(covering(None, c)) for c in categories}
    category_rows = [{"data_category": c, **by_category[c]} for c in categories]
    target_rows = []
    for index, (kind, value) in enumerate(targets):
        per_category = {c: verdict(covering(index, c)) for c in categories}
        if any(per_category[c] != by_category[c] for c in categories):
            target_rows.append({"index": index, "identifier": target_label(kind, value),
                                "categories": [{"data_category": c, **per_category[c]} for c in categories]})
    return {"categories": category_rows, "targets": target_rows}
