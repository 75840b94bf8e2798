"""Findings and deadline explanations are written by code, in English, French and German.

The engine's English ``message`` / ``explanation`` stay in the API (the public contract);
the portal never reads them back: it looks each text up by the finding code (or the
deadline's ``explanation_code``) and fills it with the structured parameters.
"""

from __future__ import annotations

import ast
import re
import string
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation

from requests_app.deadline_texts import HOW, PREFIXES, STARTS, WHAT, deadline_text
from requests_app.finding_texts import FINDING_TEXTS, HELPER_PARAMETERS, finding_text
from requests_app.rules import Issuer, Offence, ProviderConfig, RequestFacts, Target, evaluate
from requests_app.rules import catalogue as rule_catalogue
from requests_app.rules.catalogue import CATALOGUE, finding
from requests_app.rules.deadlines import START_CODES
from tests.test_i18n import catalogue as po_catalogue
from tests.test_i18n import parse_po, po_path

BASE = Path(settings.BASE_DIR)
RULES = BASE / "requests_app" / "rules"
T0 = datetime(2026, 9, 1, 9, 30, tzinfo=UTC)
FORMATTER = string.Formatter()


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in FORMATTER.parse(template) if name}


def _english(text: Any) -> str:
    with translation.override("en"):
        return str(text)


def emitted_codes() -> set[str]:
    """Every finding code the engine can emit: the catalogue, and every literal code passed to
    ``finding(...)`` / ``d.add(...)`` / ``d.has(...)`` in requests_app/rules/ (scanned, so a
    code used without a catalogue entry is caught too)."""
    codes = set(CATALOGUE)
    for path in RULES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if (name in {"finding", "add"} and isinstance(first, ast.Constant) and isinstance(first.value, str)
                    and re.fullmatch(r"[A-Z][A-Z0-9_]+", first.value)):
                codes.add(first.value)
    return codes


# --- Every code has its text in en, fr and de --------------------------------------------------
def test_the_scan_finds_the_codes_the_rules_emit() -> None:
    scanned = emitted_codes()
    assert {"EE_VALIDATION_REQUIRED", "DSA18_REFERRAL", "TGT_NONE", "US_COURT_NOT_IDENTIFIED"} <= scanned
    assert scanned <= set(CATALOGUE), f"codes emitted without a catalogue entry: {scanned - set(CATALOGUE)}"


@pytest.mark.parametrize("language", ["fr", "de"])
def test_every_emitted_code_has_a_translated_text(language: str) -> None:
    codes = emitted_codes()
    assert set(FINDING_TEXTS) == set(CATALOGUE), "finding_texts.py and rules/catalogue.py list other codes"
    entries = po_catalogue(language)
    all_entries = parse_po(po_path(language).read_text(encoding="utf-8"))
    problems = []
    for code in sorted(codes):
        english = _english(FINDING_TEXTS[code])
        assert english.strip(), f"{code}: no English text"
        entry = entries.get((f"finding {code}", english, None))
        if entry is None:
            problems.append((code, "missing"))
        elif not entry.msgstr.get(0, "").strip():
            problems.append((code, "empty"))
        elif "fuzzy" in entry.flags:
            problems.append((code, "fuzzy"))
    assert not problems, f"{language}: {problems}"
    assert any(e.msgctxt == "finding TGT_NONE" for e in all_entries)


def test_the_portal_texts_take_the_engines_parameters() -> None:
    """The portal's template of a code uses exactly the parameters the engine's message uses."""
    differ = {code: (_names(spec.message), _names(_english(FINDING_TEXTS[code])))
              for code, spec in CATALOGUE.items()
              if _names(spec.message) != _names(_english(FINDING_TEXTS[code]))}
    assert not differ


# --- Translation keyed by code ------------------------------------------------------------------
FRENCH_REFUSAL = (
    "Une injonction émise par un procureur portant sur des données relatives au contenu "
    "n'est valable qu'une fois validée par un juge, une juridiction ou un juge d'instruction ; aucune "
    "validation n'est indiquée."
)
GERMAN_REFUSAL = (
    "Eine durch eine Staatsanwaltschaft erlassene Anordnung für Inhaltsdaten ist erst nach Validierung "
    "durch einen Richter, ein Gericht oder einen Ermittlungsrichter wirksam; es ist keine Validierung "
    "angegeben."
)


def _prosecutor_content_order() -> dict:
    decision = evaluate(
        RequestFacts(
            instrument="epoc",
            issuer=Issuer("prosecutor", "IT"),
            received_at=T0,
            data_categories=frozenset({"content"}),
            targets=(Target("username", "@suspect_account"),),
            case_reference="RG 123/26",
            summary="Investment fraud run through a channel.",
            offence=Offence("Aggravated fraud", "c.p. art. 640", max_sentence_months=120),
            language="en",
        )
    )
    return next(f.to_dict() for f in decision.findings if f.code == "EE_VALIDATION_REQUIRED")


def test_a_real_finding_is_translated() -> None:
    refusal = _prosecutor_content_order()
    assert refusal["message_params"]["validators_code"] == "judicial"
    with translation.override("en"):
        assert finding_text(refusal) == refusal["message"]
    with translation.override("fr"):
        assert finding_text(refusal) == FRENCH_REFUSAL
    with translation.override("de"):
        assert finding_text(refusal) == GERMAN_REFUSAL


def test_rewording_a_rule_keeps_its_translation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's English is edited (catalogue.py): the API message changes, the French and
    German texts do not disappear (on main they fell back to the new English)."""
    spec = CATALOGUE["EE_VALIDATION_REQUIRED"]
    reworded = replace(spec, message="Reworded: an order by {issuer_type} for {category} data needs {validators}.")
    monkeypatch.setitem(rule_catalogue.CATALOGUE, "EE_VALIDATION_REQUIRED", reworded)
    refusal = _prosecutor_content_order()
    assert refusal["message"] == (
        "Reworded: an order by a public prosecutor for content data needs a judge, court or investigating judge."
    )
    with translation.override("fr"):
        assert finding_text(refusal) == FRENCH_REFUSAL
    with translation.override("de"):
        assert finding_text(refusal) == GERMAN_REFUSAL


def test_the_stored_english_is_never_read_back() -> None:
    refusal = {**_prosecutor_content_order(), "message": "Anything at all"}
    with translation.override("fr"):
        assert finding_text(refusal) == FRENCH_REFUSAL


def _sample(code: str) -> dict:
    """The finding ``code`` with a distinctive value for each parameter of its text."""
    params: dict[str, Any] = {name: f"<{name}-7>" for name in sorted(_names(CATALOGUE[code].message))}
    if "validators" in params:
        params["validators_code"] = "judicial_or_prosecutor"
    if "detail" in params:
        params.update(sentence_months=3, in_absentia=True, absconded=False)
    if "recipients" in params:
        params.update(states="<states-7>", europol=False)
    return finding(code, **params).to_dict()


COMPOSED = {"validators", "detail", "recipients"}  # written from their parts, not copied


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_finding_translates_and_keeps_its_parameters(code: str) -> None:
    sample = _sample(code)
    for language in ("fr", "de"):
        with translation.override(language):
            text = finding_text(sample)
        assert text != sample["message"], f"{code} is not translated into {language}"
        for name, value in sample["message_params"].items():
            if name in COMPOSED or name in HELPER_PARAMETERS:
                continue
            assert str(value) in text, f"{code} ({language}) lost {{{name}}}: {text}"


@pytest.mark.parametrize(
    ("code", "params", "fr", "de"),
    [
        ("EE_SENTENCE_EXECUTION_CONDITIONS",
         {"category": "traffic", "detail": "3 months, rendered in absentia", "sentence_months": 3,
          "in_absentia": True, "absconded": True},
         "(3 mois, rendue par défaut)", "(3 Monate, in einem Abwesenheitsverfahren verhängt)"),
        ("DSA18_REFERRAL", {"recipients": "the law-enforcement authorities of BE and Europol",
                            "states": "BE", "europol": True},
         "les autorités répressives de BE et Europol", "die Strafverfolgungsbehörden von BE und Europol"),
        ("DSA18_REFERRAL", {"recipients": "the law-enforcement authorities of AT, DE",
                            "states": "AT, DE", "europol": False},
         "les autorités répressives de AT, DE", "die Strafverfolgungsbehörden von AT, DE informieren"),
        ("EE_VALIDATOR_NOT_COMPETENT", {"category": "subscriber", "validator_type": "administrative",
                                        "validators": "x", "validators_code": "judicial_or_prosecutor"},
         "un juge, une juridiction, un juge d'instruction ou un procureur", "Staatsanwalt"),
        ("RANGE_TRUNCATED", {"received_at": "2026-09-15T08:00:00+00:00"},
         "mar 15 septembre 2026, 10:00 heure de Bruxelles", "Di, 15. September 2026, 10:00 Ortszeit Brüssel"),
    ],
)
def test_structured_parameters_are_translated(code: str, params: dict, fr: str, de: str) -> None:
    sample = finding(code, **params).to_dict()
    with translation.override("fr"):
        assert fr in finding_text(sample)
    with translation.override("de"):
        assert de in finding_text(sample)


def test_us_instrument_translated_from_its_code() -> None:
    sample = finding("US_COURT_NOT_IDENTIFIED", instrument="us court order", instrument_code="us_court_order")
    with translation.override("en"):
        english = finding_text(sample.to_dict())
    with translation.override("fr"):
        french = finding_text(sample.to_dict())
    assert english != french and "us court order" not in french and "us_court_order" not in french


def test_fallbacks_to_the_stored_message() -> None:
    with translation.override("fr"):
        assert finding_text({"code": "NO_SUCH_CODE", "message": "As stored."}) == "As stored."
        incomplete = {"code": "TGT_MALFORMED", "message": "As stored.", "message_params": {"index": 1}}
        assert finding_text(incomplete) == "As stored."
        # Stored before the parts of {validators} existed: the English, never a half-translation.
        old = {**_prosecutor_content_order(), "message": "Stored English."}
        old["message_params"] = {k: v for k, v in old["message_params"].items() if k != "validators_code"}
        assert finding_text(old) == "Stored English."
        assert finding_text({"code": "TGT_NONE", "message": "x"}) == (
            "Aucun identifiant de l'utilisateur ou du compte n'est indiqué."
        )


def test_filter_and_portal_template_use_the_active_language() -> None:
    refusal = _prosecutor_content_order()
    template = Template("{% load findings %}{{ finding|finding_message }}")
    with translation.override("de"):
        assert "Inhaltsdaten" in template.render(Context({"finding": refusal}))
        html = render_to_string("portal/includes/finding.html", {"finding": refusal})
    assert "Eine durch eine Staatsanwaltschaft erlassene Anordnung" in html
    assert refusal["message"] not in html


# --- Deadlines ----------------------------------------------------------------------------------
def _deadlines(**kwargs: Any) -> dict[str, dict]:
    base: dict[str, Any] = dict(
        instrument="epoc",
        issuer=Issuer("judge", "DE"),
        received_at=datetime(2026, 9, 15, 8, 0, tzinfo=UTC),
        data_categories=frozenset({"content"}),
        targets=(Target("username", "@suspect_account"),),
        case_reference="AZ 1/26",
        summary="Fraud.",
        offence=Offence("Fraud", "StGB § 263", max_sentence_months=120),
        language="en",
        enforcing_authority_notified=True,
    )
    base.update(kwargs)
    decision = evaluate(RequestFacts(**base))
    return {d["kind"]: d for d in decision.to_dict()["deadlines"]}


def test_every_deadline_code_has_its_texts() -> None:
    from requests_app.rules import deadlines as engine_deadlines

    assert set(START_CODES.values()) == set(STARTS)
    for path in RULES.glob("*.py"):
        for code in re.findall(r'what_code="([a-z0-9_]+)"', path.read_text(encoding="utf-8")):
            assert code in WHAT, f"{path.name}: deadline code {code} has no text"
        for code in re.findall(r'explanation_prefix="([a-z0-9_]+)"', path.read_text(encoding="utf-8")):
            assert code in PREFIXES, code
    assert {engine_deadlines.HOURS, engine_deadlines.INTERNAL_SLA, "calendar_days",
            "later_of_calendar_and_reg_1182_71", "later_of_calendar_and_local_day_end", "immediate"} == set(HOW)


def test_the_enforcing_authority_window_in_french_and_german() -> None:
    window = _deadlines()["ea_window_end"]
    assert window["explanation_params"]["last_day"] == "2026-09-25"
    with translation.override("fr"):
        french = deadline_text(window)
    with translation.override("de"):
        german = deadline_text(window)
    assert french.startswith(
        "Ne pas transmettre avant la fin du délai de l'autorité d'exécution : pas avant le sam 26 septembre 2026, "
        "00:00 heure de Bruxelles (fin du ven 25 septembre 2026, heure de Bruxelles ; 10 jours après la réception, "
        "le mar 15 septembre 2026, règl. 1182/71"
    ), french
    assert "jours fériés de BE (toutes les régions), DE (toutes les régions)" in french and french.endswith(".")
    assert german.startswith(
        "Nicht vor Ablauf der Frist der Vollstreckungsbehörde übermitteln: nicht vor dem Sa, 26. September 2026, "
        "00:00 Ortszeit Brüssel (Ende des Fr, 25. September 2026, Ortszeit Brüssel; 10 Tage nach Eingang am "
        "Di, 15. September 2026, VO 1182/71"
    ), german
    assert "Feiertage in BE (alle Regionen), DE (alle Regionen)" in german


def test_a_deadline_at_the_end_of_a_day_reads_23_59() -> None:
    """"by" a local midnight is written as 23:59 of the last day, never as 00:00 of the next."""
    production = _deadlines()["production_due"]  # restates the window, but is a "by" deadline
    assert production["explanation_prefix"] == "transmit_after_ea_window_or_confirmation"
    with translation.override("fr"):
        french = deadline_text(production)
    with translation.override("de"):
        german = deadline_text(production)
    with translation.override("en"):
        english = deadline_text(production)
    assert "au plus tard le ven 25 septembre 2026, 23:59 heure de Bruxelles" in french
    assert french.startswith("Transmettre à la fin du délai de l'autorité d'exécution (plus tôt")
    assert "spätestens am Fr, 25. September 2026, 23:59 Ortszeit Brüssel" in german
    assert "by Fri 25 Sep 2026 23:59 Brussels time (end of Fri 25 Sep 2026 in Brussels time; 10 days after " \
           "receipt on Tue 15 Sep 2026" in english


def test_calendar_and_hour_deadlines_in_french_and_german() -> None:
    own = _deadlines(enforcing_authority_notified=False, art_8_2_exception=True,
                     person_residence_country="DE", offence_country="DE")["production_due"]
    assert own["rule_applied"] == "calendar_days", own
    with translation.override("fr"):
        assert deadline_text(own) == (
            "Transmettre au plus tard : au plus tard le ven 25 septembre 2026, 10:00 heure de Bruxelles (10 jours "
            "après la réception, le mar 15 septembre 2026, 10:00 heure de Bruxelles, comptés en jours civils de 24 "
            "heures : jamais plus tard que la fin selon le règl. 1182/71)."
        )
    with translation.override("de"):
        assert deadline_text(own) == (
            "Spätestens übermitteln: spätestens am Fr, 25. September 2026, 10:00 Ortszeit Brüssel (10 Tage nach "
            "Eingang am Di, 15. September 2026, 10:00 Ortszeit Brüssel, gezählt als Kalendertage zu 24 Stunden: "
            "nie später als das Ende nach VO 1182/71)."
        )
    emergency = _deadlines(emergency=True, emergency_reason="Threat to life",
                           enforcing_authority_notified=False, art_8_2_exception=True,
                           person_residence_country="DE", offence_country="DE")["production_due"]
    with translation.override("de"):
        assert "spätestens am Di, 15. September 2026, 18:00 Ortszeit Brüssel (8 Std. nach Eingang" in (
            deadline_text(emergency))


def test_a_deadline_stored_without_its_parts_is_read_back_in_the_language() -> None:
    """A decision stored before the structured parts existed: the English is read back into code
    and parameters, so the reader gets the same text as for a new decision."""
    for deadline in [*_deadlines().values(), *_every_kind_of_deadline()]:
        old = {k: v for k, v in deadline.items() if not k.startswith("explanation_") or k == "explanation"}
        for language in ("fr", "de", "en"):
            with translation.override(language):
                assert deadline_text(old) == deadline_text(deadline), (deadline["kind"], language)


def test_a_deadline_whose_purpose_is_unknown_shows_the_stored_english() -> None:
    stored = {"kind": "x", "due_at": "2026-09-25T08:00:00+00:00", "explanation": "Something else entirely.",
              "rule_applied": "hours"}
    with translation.override("fr"):
        assert deadline_text(stored) == "Something else entirely."


def _every_kind_of_deadline() -> list[dict]:
    from datetime import timedelta

    from requests_app.rules import (
        DEFAULT_CONFIG,
        art17_objection_deadlines,
        art18_referral,
        preservation_release,
        restart_after_clarification,
    )
    from tests.rules.builders import IP, MESSAGE, T0, dsa_details, facts

    emergency: dict[str, Any] = {"emergency": True, "emergency_reason": "Threat to life"}
    decisions = [
        evaluate(facts()),
        evaluate(facts(categories=("content",), enforcing_authority_notified=True)),
        evaluate(facts(categories=("content",), enforcing_authority_notified=True, **emergency)),
        evaluate(facts(issuer=("prosecutor", "DE"), categories=("content",), enforcing_authority_notified=True)),
        evaluate(facts(targets=(Target("user_id", "x"),))),
        evaluate(facts("epoc_pr", targets=(IP,))),
        evaluate(facts("dsa_removal_order", issuer=("administrative", "FR"), targets=(MESSAGE,),
                       dsa=dsa_details())),
        evaluate(facts("dsa_information_order", issuer=("administrative", "FR"), dsa=dsa_details())),
        evaluate(facts("us_preservation", issuer=("other_competent", "US")), ProviderConfig(us_sca_applies=True)),
        evaluate(facts("emergency_disclosure", issuer=("other_competent", "US"), **emergency),
                 ProviderConfig(us_sca_applies=True)),
        restart_after_clarification(facts(), clarification_received_at=T0 + timedelta(days=20)),
    ]
    out = [d.to_dict() for decision in decisions for d in decision.deadlines]
    out += [d.to_dict() for d in art17_objection_deadlines(facts(), DEFAULT_CONFIG)]
    out.append(preservation_release(notified_at=T0)[1].to_dict())
    out.append(art18_referral(config=DEFAULT_CONFIG, detected_at=T0).deadline.to_dict())
    return out


@pytest.mark.parametrize("language", ["fr", "de"])
def test_every_kind_of_deadline_is_written_in_the_language(language: str) -> None:
    deadlines = _every_kind_of_deadline()
    codes = {d["explanation_code"] for d in deadlines}
    assert len(codes) >= 12, codes
    assert {d["explanation_params"]["rule"] for d in deadlines} == set(HOW)
    with translation.override(language):
        untranslated = [d["kind"] for d in deadlines if deadline_text(d) == d["explanation"]]
    assert not untranslated
