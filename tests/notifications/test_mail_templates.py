"""The e-mail templates rendered with their constant ``{% translate %}`` tags looked up once per
language (requests_app/mail_templates.py) give what Django's ``render_to_string`` gives, character for
character, for every e-mail template, every language the portal speaks and generated contexts, and
``notifications.render`` gives for every kind of e-mail what it gave through ``render_to_string``.
That a receipt no longer renders a ``TranslateNode``, and that the receipt the validation task sends
is the one sent before, byte for byte: tests/requests_app/perf/test_receipt_budget.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.signals import setting_changed
from django.template import engines
from django.template.loader import render_to_string
from django.templatetags.i18n import TranslateNode
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from requests_app import mail_templates, notifications
from requests_app.models import LegalRequest

LANGUAGES = [code for code, _name in settings.LANGUAGES]
TEMPLATES = ["emails/notification.txt", "emails/notification.html", "emails/digest.txt"]

# What a value may hold that the templates treat specially: markup, quotes, percent signs, non-ASCII.
_TEXT = st.text(st.characters(codec="utf-8") | st.sampled_from(
    list("<>&\"'%{}é€😀\n")), max_size=60)
_DUE = st.none() | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                                timezones=st.just(UTC))
_CONTEXT = st.fixed_dictionaries({
    "subject": _TEXT, "body": _TEXT, "personal_data_attached": st.booleans(), "reference": _TEXT,
    "status": _TEXT, "due_at": _DUE, "receipt_hash": _TEXT, "link": _TEXT, "contact": _TEXT,
    "outside": st.booleans(), "urgent": st.booleans(), "details": st.lists(st.tuples(_TEXT, _TEXT), max_size=3),
    # emails/digest.txt
    "items": st.lists(st.fixed_dictionaries({"subject": _TEXT, "reference": _TEXT, "status": _TEXT,
                                              "link": _TEXT}), max_size=3),
})
_ZONES = st.sampled_from(["UTC", "Europe/Paris", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])


@hypothesis_settings(max_examples=150, deadline=None)
@given(context=_CONTEXT, languages=st.permutations(LANGUAGES), zone=_ZONES)
def test_every_template_renders_as_render_to_string_in_every_language(context, languages, zone):
    # The languages in a generated order: what one language kept is never given in another.
    for language in languages:
        with translation.override(language), timezone.override(ZoneInfo(zone)):
            for name in TEMPLATES:
                assert mail_templates.render(name, context) == render_to_string(name, context), (name, language)


def test_the_constant_texts_are_translated_in_each_language():
    context = {"subject": "S", "body": "B", "reference": "LRP-1", "status": "x", "link": "https://p.example/"}
    texts = {}
    for language in [*LANGUAGES, *LANGUAGES]:
        with translation.override(language):
            texts.setdefault(language, set()).add(mail_templates.render("emails/notification.html", context))
    assert all(len(rendered) == 1 for rendered in texts.values())
    assert len({next(iter(rendered)) for rendered in texts.values()}) == len(LANGUAGES)
    with translation.override("fr"):
        assert "Référence" in mail_templates.render("emails/notification.html", context)


def test_the_engines_own_template_keeps_its_translate_nodes():
    mail_templates.render("emails/notification.txt", {})
    loaded = engines["django"].engine.get_template("emails/notification.txt")  # type: ignore[attr-defined]
    assert loaded.nodelist.get_nodes_by_type(TranslateNode)


def test_what_was_kept_is_forgotten_when_the_catalogues_change():
    with translation.override("de"):
        mail_templates.render("emails/notification.txt", {"reference": "LRP-1"})
    assert any(node.rendered for node in mail_templates._NODES)
    setting_changed.send(sender=None, setting="LOCALE_PATHS", value=[], enter=True)
    assert not any(node.rendered for node in mail_templates._NODES)


# --- the e-mails themselves -----------------------------------------------------------------

@pytest.fixture
def through_render_to_string(monkeypatch):
    """The path before mail_templates: Django's render_to_string."""
    def use_django():  # type: ignore[no-untyped-def]
        monkeypatch.setattr(mail_templates, "render", render_to_string)
    return use_django


_EVENTS = ["notify.new_request", "notify.clarification_requested", "notify.decision", "notify.withdrawn",
           "notify.mailbox_ack", "notify.registration_invite", "alert.emergency", "alert.deadline_breach",
           "notify.annex_iii_enforcing_authority"]


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_events_email_is_rendered_as_before(api, language, through_render_to_string):
    response = api.post("/api/v1/requests/", _body(), format="json")
    request = LegalRequest.objects.get(reference=response.json()["reference"])
    request.due_at = timezone.now() + timedelta(days=10)
    request.receipt_hash = "ab" * 32
    cases = [(event, legal_team, zone, copy) for event in _EVENTS for legal_team in (False, True)
             for zone in (ZoneInfo("UTC"), ZoneInfo("Europe/Paris"))
             for copy in (("full", "redacted", "notice_only") if event.startswith("notify.annex_iii") else ("",))]
    ours = [notifications.render(e, request, language, legal_team=t, zone=z, copy=c) for e, t, z, c in cases]
    ours.append(notifications.render("notify.new_request", None, language, zone=ZoneInfo("UTC")))
    through_render_to_string()
    theirs = [notifications.render(e, request, language, legal_team=t, zone=z, copy=c) for e, t, z, c in cases]
    theirs.append(notifications.render("notify.new_request", None, language, zone=ZoneInfo("UTC")))
    assert ours == theirs


def _body():  # type: ignore[no-untyped-def]
    from tests.conftest import epoc_body

    return epoc_body()
