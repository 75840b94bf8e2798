"""The engine's drafted Annex III (rules.proposal): reasons ticked from the error findings,
one item per whole order, data category, target and target × category; and what a signed
form decides per category and per target."""

from __future__ import annotations

from requests_app.rules import evaluate
from requests_app.rules import vocab as v
from requests_app.rules.proposal import decided_verdicts, draft_annex_iii

from .builders import facts

TARGETS = [("username", "suspect_account"), ("username", "second_account")]


def finding(code: str, reason: str | None, *, category: str | None = None, field: str | None = None,
            severity: str = "error") -> dict:
    return {"code": code, "severity": severity, "data_category": category, "field": field,
            "legal_basis": v.reg("4(2)"), "message": f"{code} message", "annex_iii_reason": reason}


def test_items_per_order_category_and_target_with_reasons_from_the_findings():
    decision = {"route": "not_executable", "findings": [
        finding("EE_VALIDATION_REQUIRED", v.AIII_NOT_ISSUED_PER_ART_4, category="traffic"),
        finding("TGT_IP_NO_TIMESTAMP", v.AIII_INSUFFICIENT_INFORMATION, field="targets[1]"),
        finding("RANGE_AFTER_RECEIPT", None, field="targets[1]", category="content"),
        finding("EE_WRONG_ADDRESSEE", v.AIII_OTHER, severity="warning"),
    ]}
    draft = draft_annex_iii(decision, TARGETS)
    assert draft["recommendation"] == "not_executed"
    keyed = {i["key"]: i for i in draft["items"]}
    assert list(keyed) == ["traffic", "target_1", "target_1.content"]
    assert keyed["traffic"]["reasons"] == [v.AIII_NOT_ISSUED_PER_ART_4]
    assert keyed["target_1"]["identifier"] == "username: second_account"
    assert keyed["target_1.content"]["reasons"] == [v.AIII_OTHER]  # a finding with no box: "other"
    assert "EE_VALIDATION_REQUIRED message (Reg. (EU) 2023/1543 Art. 4(2))" in keyed["traffic"]["explanation"]


def test_the_real_engine_drafts_its_refusal():
    decision = evaluate(facts(issuer=("prosecutor", "DE"), categories=("traffic",)))
    draft = draft_annex_iii(decision, [("username", "@suspect_account")])
    assert draft["items"] and all(set(i["reasons"]) <= set(v.ANNEX_III_REASONS) for i in draft["items"])
    assert draft_annex_iii({"route": "accepted", "findings": []})["items"] == []


def test_the_most_specific_item_decides_and_targets_list_only_differences():
    items = [
        {"target": None, "data_category": "traffic", "reasons": [v.AIII_NOT_ISSUED_PER_ART_4], "legal_basis": []},
        {"target": 1, "data_category": None, "reasons": [v.AIII_DATA_NOT_STORED], "legal_basis": []},
    ]
    decided = decided_verdicts(items, ["subscriber", "traffic"], TARGETS)
    assert [(c["data_category"], c["allowed"], c["reason_code"]) for c in decided["categories"]] == [
        ("subscriber", True, "allowed"), ("traffic", False, v.AIII_NOT_ISSUED_PER_ART_4)]
    (second,) = decided["targets"]
    assert second["index"] == 1
    assert [(c["allowed"], c["reason_code"]) for c in second["categories"]] == [
        (False, v.AIII_DATA_NOT_STORED), (False, v.AIII_DATA_NOT_STORED)]
    us = decided_verdicts(items[:1], ["traffic"], [], eevidence=False)
    assert us["categories"][0]["legal_basis"] == ""


def test_a_code_of_an_older_rulebook_is_still_drafted_not_a_crash():
    """A decision stored under an earlier rulebook may name a code the catalogue no longer
    has; drafting its Annex III (now done for every refusal and rerouting) raised KeyError."""
    decision = {"route": "not_executable", "findings": [
        finding("RETIRED_CODE_OF_2025", v.AIII_NOT_ISSUED_PER_ART_4, category="traffic")]}
    draft = draft_annex_iii(decision, TARGETS)
    (item,) = draft["items"]
    assert (item["data_category"], item["reasons"], item["findings"]) == (
        "traffic", [v.AIII_NOT_ISSUED_PER_ART_4], ["RETIRED_CODE_OF_2025"])
