"""Decisions stored before deadlines carried their code and parameters (issue 11 item 5) hold
only the English explanation. The officer's page writes them in the reader's language all the
same, from what the stored deadline says (its purpose, period, start and rule), never by
showing the stored English to a French or German reader."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from accounts.models import User
from requests_app.models import LegalRequest

from .conftest import signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_instant")]  # dates named below

# What the engine stored before explanation codes existed (commit 577ca20's wording).
FIRST_FORMAT = {
    "kind": "production_due", "due_at": "2026-09-25T08:00:00+00:00", "rule_applied": "calendar_days",
    "explanation": "Transmit at the latest: 10 days from receipt (2026-09-15 08:00 UTC); calendar days of 24 hours.",
    "legal_basis": "Reg. (EU) 2023/1543 Art. 10(2)", "warn_at": None, "informational": False, "not_before": False,
}


def _text(response: Any) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _speaking(user: User, language: str) -> User:
    User.objects.filter(pk=user.pk).update(language=language)
    user.refresh_from_db()
    return user


def _stored_in_english(request: LegalRequest, deadlines: list[dict[str, Any]] | None = None) -> LegalRequest:
    """Strip the structured parts, as a decision stored by the older engine has none."""
    decision = dict(request.decision or {})
    decision["deadlines"] = deadlines if deadlines is not None else [
        {k: v for k, v in d.items() if not k.startswith("explanation_") or k == "explanation"}
        for d in decision["deadlines"]]
    primary = next(d for d in decision["deadlines"] if not d.get("informational"))
    LegalRequest.objects.filter(pk=request.pk).update(decision=decision,
                                                      deadline_explanation=primary["explanation"])
    request.refresh_from_db()
    return request


@pytest.fixture
def stored(make_request) -> LegalRequest:
    return _stored_in_english(make_request())


def test_a_decision_stored_in_english_reads_in_french(officer, stored):
    english = stored.decision["deadlines"][0]["explanation"]
    assert english.startswith("Transmit at the latest: by ")
    page = _text(signed_in(_speaking(officer, "fr")).get(f"/requests/{stored.reference}/"))
    assert english not in page
    # The officer reads times in Paris, which reads as Brussels: the zone is named (issue 13 item 1).
    assert ("Transmettre au plus tard : au plus tard le ven 25 septembre 2026, 10:00 heure de Bruxelles (= heure de "
            "Paris) (10 jours après la réception, le mar 15 septembre 2026, 10:00 heure de Bruxelles (= heure de "
            "Paris), comptés en jours civils de 24 heures") in page


def test_a_decision_stored_in_english_reads_in_german(officer, stored):
    page = _text(signed_in(_speaking(officer, "de")).get(f"/requests/{stored.reference}/"))
    assert stored.decision["deadlines"][0]["explanation"] not in page
    assert "Spätestens übermitteln: spätestens am Fr, 25. September 2026, 10:00 Ortszeit Brüssel (= Ortszeit " \
           "Paris) (10 Tage nach Eingang am Di, 15. September 2026" in page


def test_the_first_stored_wording_reads_in_french_too(officer, make_request):
    request = _stored_in_english(make_request(), [FIRST_FORMAT])
    page = _text(signed_in(_speaking(officer, "fr")).get(f"/requests/{request.reference}/"))
    assert FIRST_FORMAT["explanation"] not in page
    assert "Transmettre au plus tard : au plus tard le ven 25 septembre 2026, 10:00 heure de Bruxelles (= heure " \
           "de Paris) (10 jours après la réception, le mar 15 septembre 2026, 10:00 heure de Bruxelles" in page


def test_an_english_reader_sees_the_same_deadline(officer, stored):
    page = _text(signed_in(officer).get(f"/requests/{stored.reference}/"))
    assert "Transmit at the latest: by Fri 25 Sep 2026 10:00 Brussels time (= Paris time) (10 days after receipt " \
           "on Tue 15 Sep 2026 10:00 Brussels time (= Paris time)" in page
