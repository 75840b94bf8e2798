"""No article in a finding's text precedes a value it does not agree with.

On 972af46 the texts wrote "An order of a {issuer_type} authority" and "No statement of
reasons from a {issuer_type}": "an order of a administrative authority", "the referenced
request is a epoc, not a epoc_pr", and in French and German a type in quotes
("une autorité de type « autorité administrative »"). Now the article belongs to the value
(requests_app/finding_texts.py AUTHORITIES_BY, rules/vocab.py AUTHORITY_BY: gendered and
declined per language) or the text is worded so that no article precedes a variable (the
instruments). Every text is rendered here for every value its placeholder can take, in
English, French and German. Pure rendering: no clock is read (the frozen clock of
tests/conftest.py applies all the same); no database.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import translation

from requests_app.finding_texts import CODE_VALUE_PARAMETERS, finding_text
from requests_app.rules import Issuer, Offence, RequestFacts, Target, Validation, evaluate
from requests_app.rules import vocab as v
from requests_app.rules.catalogue import AUTHORITY_BY_PARAMETERS, finding

LANGUAGES = ("en", "fr", "de")
T0 = datetime(2026, 9, 1, 9, 30, tzinfo=UTC)  # after 18 August 2026: the Regulation applies

# (code, parameter that takes an authority type, the other parameters of its text)
AUTHORITY_TEXTS: list[tuple[str, str, dict[str, Any]]] = [
    ("EE_VALIDATION_REQUIRED", "issuer_type",
     {"category": "content", "validators": "x", "validators_code": "judicial"}),
    ("EE_VALIDATOR_NOT_COMPETENT", "validator_type",
     {"category": "traffic", "validators": "x", "validators_code": "judicial"}),
    ("EE_EMERGENCY_VALIDATOR_NOT_COMPETENT", "validator_type",
     {"category": "subscriber", "validators": "x", "validators_code": "judicial_or_prosecutor"}),
    ("DSA10_REASONS_WITHHELD_CHECK", "issuer_type", {}),
]
# (code, parameter that takes an instrument, the other parameters of its text)
INSTRUMENT_TEXTS: list[tuple[str, str, dict[str, Any]]] = [
    ("LINKED_MISMATCH", "linked_instrument", {"expected": v.EPOC_PR}),
    ("LINKED_MISMATCH", "expected", {"linked_instrument": v.EPOC}),
    ("US_COURT_NOT_IDENTIFIED", "instrument_code", {"instrument": "x"}),
]

# An article directly before a word it cannot stand before, or two determiners in a row.
BAD = {
    "en": [r"\b[Aa] (?=[aeiou])", r"\b[Aa]n (?=[bcdfgjklmnpqrstvwxyz])",
           r"\b(?:a|an|the|A|An|The) (?:a|an|the)\b"],
    "fr": [r"\b(?:de|le|la|que|ce) (?=[aeiouéèêh])", r"\b(?:de|à) (?:le|les)\b",
           r"\b(?:un|une|le|la|les|des|du|au) (?:un|une|le|la|les|des|du|l')\b"],
    "de": [r"\b(?:ein|eine|einen|einer|eines|einem|der|die|das|den|dem|des) "
           r"(?:ein|eine|einen|einer|eines|einem|der|die|das|den|dem|des)\b"],
}


def _render(code: str, params: dict, language: str) -> str:
    with translation.override(language):
        return finding_text(finding(code, **params).to_dict())


def _bad(text: str, language: str) -> list[str]:
    return [m.group(0) + text[m.end():m.end() + 15] for p in BAD[language] for m in re.finditer(p, text)]


def test_the_article_patterns_catch_the_old_texts() -> None:
    """The patterns below would have caught what 972af46 wrote."""
    assert _bad("An order of a administrative authority for content data", "en")
    assert _bad("The referenced request is a epoc, not a epoc_pr.", "en")
    assert _bad("No statement of reasons from a an investigating judge", "en")
    assert _bad("Aucun exposé des motifs de la part de une autorité", "fr")
    assert _bad("validée par de le juge", "fr")
    assert _bad("Eine Anordnung einer eine Verwaltungsbehörde", "de")
    assert not _bad("An order issued by an administrative authority; a US court order", "en")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("code", "name", "others"), AUTHORITY_TEXTS)
@pytest.mark.parametrize("authority_type", sorted(v.AUTHORITY_TYPES))
def test_every_authority_type_reads_with_its_own_article(
    authority_type: str, code: str, name: str, others: dict, language: str
) -> None:
    text = _render(code, {**others, name: authority_type}, language)
    assert not _bad(text, language), f"{code} ({language}, {authority_type}): {text}"
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), f"a code left in {text}"  # "other_competent"
    with translation.override(language):
        phrase = str(CODE_VALUE_PARAMETERS[(code, name)][authority_type])
    assert phrase in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("code", "name", "others"), INSTRUMENT_TEXTS)
@pytest.mark.parametrize("instrument", sorted(v.INSTRUMENTS))
def test_every_instrument_reads_without_an_article_before_it(
    instrument: str, code: str, name: str, others: dict, language: str
) -> None:
    text = _render(code, {**others, name: instrument}, language)
    assert not _bad(text, language), f"{code} ({language}, {instrument}): {text}"
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), f"a code left in {text}"  # "epoc_pr", "us_subpoena"


@pytest.mark.parametrize(("code", "name"), sorted(AUTHORITY_BY_PARAMETERS.items()))
@pytest.mark.parametrize("authority_type", sorted(v.AUTHORITY_TYPES))
def test_the_engines_english_is_the_portals(code: str, name: str, authority_type: str) -> None:
    """The API's English message (rules/catalogue.py) and the portal's English text agree,
    article included, for every type."""
    others = next(o for c, n, o in AUTHORITY_TEXTS if (c, n) == (code, name))
    sample = finding(code, **{**others, name: authority_type})
    assert not _bad(sample.message, "en"), sample.message
    assert sample.message_params[name] == authority_type  # stored as the code, translated by it
    validators = {"judicial": "a judge, court or investigating judge",
                  "judicial_or_prosecutor": "a judge, court, investigating judge or public prosecutor"}
    if "validators" in others:
        sample = finding(code, **{**others, name: authority_type,
                                  "validators": validators[others["validators_code"]]})
    with translation.override("en"):
        assert finding_text(sample.to_dict()) == sample.message


def _decision_finding(code: str, **facts: object) -> dict:
    base: dict = dict(
        instrument="epoc",
        received_at=T0,
        data_categories=frozenset({"content"}),
        targets=(Target("username", "@suspect_account"),),
        case_reference="RG 123/26",
        summary="Investment fraud run through a channel.",
        offence=Offence("Aggravated fraud", "c.p. art. 640", max_sentence_months=120),
        language="en",
    )
    base.update(facts)
    decision = evaluate(RequestFacts(**base))
    return next(f.to_dict() for f in decision.findings if f.code == code)


EXACT = {
    ("EE_VALIDATION_REQUIRED", "administrative"): {
        "en": "An order issued by an administrative authority for content data is valid only once validated by a "
              "judge, court or investigating judge; no validation is stated.",
        "fr": "Une injonction émise par une autorité administrative portant sur des données relatives au contenu "
              "n'est valable qu'une fois validée par un juge, une juridiction ou un juge d'instruction ; aucune "
              "validation n'est indiquée.",
        "de": "Eine durch eine Verwaltungsbehörde erlassene Anordnung für Inhaltsdaten ist erst nach Validierung "
              "durch einen Richter, ein Gericht oder einen Ermittlungsrichter wirksam; es ist keine Validierung "
              "angegeben.",
    },
    ("EE_VALIDATION_REQUIRED", "other_competent"): {
        "en": "An order issued by the police or another competent authority for content data is valid only once "
              "validated by a judge, court or investigating judge; no validation is stated.",
        "fr": "Une injonction émise par la police ou une autre autorité compétente portant sur des données "
              "relatives au contenu n'est valable qu'une fois validée par un juge, une juridiction ou un juge "
              "d'instruction ; aucune validation n'est indiquée.",
        "de": "Eine durch die Polizei oder eine andere zuständige Behörde erlassene Anordnung für Inhaltsdaten ist "
              "erst nach Validierung durch einen Richter, ein Gericht oder einen Ermittlungsrichter wirksam; es "
              "ist keine Validierung angegeben.",
    },
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", sorted(EXACT))
def test_an_unvalidated_order_of_an_administrative_or_police_authority(key: tuple[str, str], language: str) -> None:
    code, issuer = key
    refusal = _decision_finding(code, issuer=Issuer(issuer, "IT"))
    with translation.override(language):
        assert finding_text(refusal) == EXACT[key][language]
    if language == "en":
        assert refusal["message"] == EXACT[key]["en"]  # the API's English too


JUDICIAL_REASONS = {
    "judge": {
        "en": "The order, issued by a judge, gives no statement of reasons: allowed only if it serves the "
              "prevention, detection, investigation or prosecution of criminal offences; a person checks that it "
              "does, otherwise asks for the reasons.",
        "fr": "L'injonction, émise par un juge, ne comporte aucun exposé des motifs : admis uniquement si elle sert "
              "à la prévention et à la détection des infractions pénales, aux enquêtes et aux poursuites en la "
              "matière ; une personne le vérifie et, à défaut, demande les motifs.",
        "de": "Die durch einen Richter erlassene Anordnung enthält keine Begründung: nur zulässig, wenn sie der "
              "Verhütung, Aufdeckung, Ermittlung oder Verfolgung von Straftaten dient; eine Person prüft dies und "
              "fordert andernfalls die Begründung an.",
    },
    "court": {
        "en": "The order, issued by a court, gives no statement of reasons: allowed only if it serves the "
              "prevention, detection, investigation or prosecution of criminal offences; a person checks that it "
              "does, otherwise asks for the reasons.",
        "fr": "L'injonction, émise par une juridiction, ne comporte aucun exposé des motifs : admis uniquement si "
              "elle sert à la prévention et à la détection des infractions pénales, aux enquêtes et aux poursuites "
              "en la matière ; une personne le vérifie et, à défaut, demande les motifs.",
        "de": "Die durch ein Gericht erlassene Anordnung enthält keine Begründung: nur zulässig, wenn sie der "
              "Verhütung, Aufdeckung, Ermittlung oder Verfolgung von Straftaten dient; eine Person prüft dies und "
              "fordert andernfalls die Begründung an.",
    },
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("issuer", sorted(JUDICIAL_REASONS))
def test_a_judicial_issuer_without_reasons(issuer: str, language: str) -> None:
    sample = finding("DSA10_REASONS_WITHHELD_CHECK", issuer_type=issuer).to_dict()
    with translation.override(language):
        assert finding_text(sample) == JUDICIAL_REASONS[issuer][language]
    assert sample["message"] == JUDICIAL_REASONS[issuer]["en"]


@pytest.mark.parametrize(
    ("validator", "language", "expected"),
    [
        ("administrative", "en", "An order for traffic data cannot be validated by an administrative authority; "
                                 "required: a judge, court or investigating judge."),
        ("administrative", "fr", "Une injonction portant sur des données relatives au trafic ne peut pas être "
                                 "validée par une autorité administrative ; requis : validation par un juge, une "
                                 "juridiction ou un juge d'instruction."),
        ("administrative", "de", "Eine Anordnung für Verkehrsdaten kann nicht durch eine Verwaltungsbehörde "
                                 "validiert werden; erforderlich ist die Validierung durch einen Richter, ein "
                                 "Gericht oder einen Ermittlungsrichter."),
        ("prosecutor", "en", "An order for traffic data cannot be validated by a public prosecutor; required: a "
                             "judge, court or investigating judge."),
    ],
)
def test_a_validator_that_cannot_validate(validator: str, language: str, expected: str) -> None:
    refusal = _decision_finding(
        "EE_VALIDATOR_NOT_COMPETENT", issuer=Issuer("other_competent", "IT"),
        data_categories=frozenset({"traffic"}), validation=Validation(validator, "Autorità X"),
    )
    with translation.override(language):
        assert finding_text(refusal) == expected


def test_english_names_the_instruments() -> None:
    mismatch = finding("LINKED_MISMATCH", linked_instrument=v.EPOC, expected=v.EPOC_PR).to_dict()
    court = finding("US_COURT_NOT_IDENTIFIED", instrument="us court order", instrument_code=v.US_COURT_ORDER)
    with translation.override("en"):
        assert finding_text(mismatch) == (
            "The referenced request is of type European Production Order (EPOC), not European Preservation Order "
            "(EPOC-PR)."
        )
        assert finding_text(court.to_dict()) == (
            "This US court order (2703(d)) must be issued by a court; neither the issuer nor the validation is a "
            "court or judge."
        )
