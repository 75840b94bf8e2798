"""One Annex III reason vocabulary (Reg. (EU) 2023/1543 Annex III section D): the engine's
findings, the models, the service, the PDF, the admin forms and the API agree on the codes."""

from __future__ import annotations

import pytest

from requests_app.admin_views.forms import REASON_CHOICES
from requests_app.annex_iii_pdf import REASON_LABELS
from requests_app.rules import CATALOGUE
from requests_app.rules import vocab as v
from requests_app.services import review
from requests_app.states import Status
from tests.four_eyes import approve_annex

pytestmark = pytest.mark.django_db


def test_every_layer_uses_the_one_vocabulary():
    from requests_app.api.serializers import AnnexIIIItemSerializer
    from requests_app.models import AnnexIIIReason

    codes = list(v.ANNEX_III_REASONS)
    assert len(set(codes)) == len(codes) == 11
    assert list(AnnexIIIReason.values) == codes
    assert list(review.ANNEX_III_REASONS) == codes
    assert [code for code, _label in REASON_CHOICES] == codes
    assert list(REASON_LABELS) == codes
    api_choices = AnnexIIIItemSerializer().fields["reasons"].child.choices
    assert list(api_choices) == codes


def test_every_reason_the_engine_ticks_is_in_the_vocabulary():
    ticked = {spec.annex_iii_reason for spec in CATALOGUE.values() if spec.annex_iii_reason}
    assert ticked and ticked <= set(review.ANNEX_III_REASONS) and ticked <= set(REASON_LABELS)


def test_a_reason_the_engine_ticked_is_accepted_by_the_service_and_labelled(submit, reviewer, approver):
    """On f02ea04 the engine ticked ``not_issued_per_art_4`` and the service only knew
    ``not_issued_or_validated_per_art_4``: the engine's own draft could not be signed."""
    request = submit(data_categories=["traffic"])  # Art. 4(2): not validated by a judge
    engine_reasons = {f["annex_iii_reason"] for f in request.decision["findings"] if f["severity"] == "error"}
    assert v.AIII_NOT_ISSUED_PER_ART_4 in engine_reasons
    form = review.not_executed(actor=reviewer, request=request,
                               reasons=[{"identifier": "", "reasons": sorted(engine_reasons)}])
    approve_annex(approver, form)
    request.refresh_from_db()
    assert request.status == Status.NOT_EXECUTED
    assert form.reasons[0]["reasons"] == sorted(engine_reasons)
    assert all(code in REASON_LABELS and REASON_LABELS[code] != code for code in engine_reasons)


def test_an_unknown_reason_is_refused_and_changes_nothing(submit, reviewer):
    request = submit(data_categories=["traffic"])
    with pytest.raises(review.ServiceError):
        review.not_executed(actor=reviewer, request=request,
                            reasons=[{"identifier": "", "reasons": ["not_issued_or_validated_per_art_4"]}])
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW and not request.annex_iii.exists()
