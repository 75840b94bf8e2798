"""The page's language, everywhere: finding texts, deadline explanations, data categories,
allauth's messages, the language menu; a new officer's language from their authority's
country, changeable in the profile. Through the test client, asserting the rendered text."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.services import default_language, officer_create
from requests_app.states import DataCategory

from .conftest import signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_instant")]  # dates named in the expectations
PASSWORD = "a-long-and-unusual-passphrase-42"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    """The page's visible text, entities decoded, whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _speaking(user: User, language: str) -> User:
    User.objects.filter(pk=user.pk).update(language=language)
    user.refresh_from_db()
    return user


# --- Findings, deadlines and data categories on the request page ----------------------------
@pytest.fixture
def refused_content_request(make_request):  # type: ignore[no-untyped-def]
    """Content data on a prosecutor's validation: a refusal is recommended (EE_VALIDATOR_NOT_COMPETENT),
    Annex III is due within the production period."""
    return make_request(data_categories=["content"])


def test_request_page_in_french(officer, refused_content_request):  # type: ignore[no-untyped-def]
    legal_request = refused_content_request
    codes = {f["code"] for f in legal_request.decision["findings"]}
    assert "EE_VALIDATOR_NOT_COMPETENT" in codes, codes
    page = _text(signed_in(_speaking(officer, "fr")).get(f"/requests/{legal_request.reference}/"))
    assert ("Une injonction portant sur des données relatives au contenu ne peut pas être validée par un "
            "procureur ; requis : validation par un juge, une juridiction ou un juge d'instruction.") in page
    english = next(f["message"] for f in legal_request.decision["findings"]
                   if f["code"] == "EE_VALIDATOR_NOT_COMPETENT")
    assert english not in page
    # Data categories by their labels, in French (the request's and the finding's).
    assert "Catégories de données Données relatives au contenu" in page
    assert "Catégorie de données : Données relatives au contenu" in page
    # The deadline explanation (Annex III within the production period), dates in French.
    assert "Envoyer l'annexe III avec les motifs dans le délai de production : Transmettre au plus tard" in page
    assert "septembre 2026" in page and "heure de Bruxelles" in page
    deadline = legal_request.decision["deadlines"][0]
    assert deadline["explanation"] not in page


def test_request_page_in_german(officer, refused_content_request):  # type: ignore[no-untyped-def]
    legal_request = refused_content_request
    page = _text(signed_in(_speaking(officer, "de")).get(f"/requests/{legal_request.reference}/"))
    assert "Inhaltsdaten" in page
    assert "Datenkategorie: Inhaltsdaten" in page
    assert "Anhang III mit den Gründen innerhalb der Herausgabefrist senden: Spätestens übermitteln" in page
    assert "September 2026" in page and "Ortszeit Brüssel" in page


def test_request_page_in_english_shows_the_labels(officer, refused_content_request):  # type: ignore[no-untyped-def]
    page = _text(signed_in(officer).get(f"/requests/{refused_content_request.reference}/"))
    assert f"Data category: {DataCategory.CONTENT.label}" in page
    assert "Data category: content" not in page


# --- The language menu ---------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_language_menu_names_each_language_in_its_own_name(client, language):  # type: ignore[no-untyped-def]
    body = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<html lang="{language}">' in body
    options = re.findall(r'<option value="(\w+)" lang="(\w+)"[^>]*>([^<]+)</option>', body)
    assert [(code, name) for code, _, name in options] == [("en", "English"), ("fr", "Français"),
                                                            ("de", "Deutsch")]
    assert all(code == lang for code, lang, _ in options)


# --- allauth ---------------------------------------------------------------------------------
def test_allauth_pages_and_errors_in_the_page_language(client, officer):  # type: ignore[no-untyped-def]
    page = _text(client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Mot de passe oublié" in page
    failed = _text(client.post(reverse("account_login"), {"login": officer.email, "password": "wrong-one-123"},
                               HTTP_ACCEPT_LANGUAGE="de"))
    assert "Die E-Mail-Adresse und/oder das Passwort sind leider falsch." in failed


def test_allauth_sign_in_message_in_the_persons_language(client, officer):  # type: ignore[no-untyped-def]
    """The browser asks for French, the officer chose German: the page and allauth's message
    are German (on main the message was French on a German page)."""
    _speaking(officer, "de")
    response = client.post(reverse("account_login"), {"login": officer.email, "password": "correct-horse-battery"},
                           HTTP_ACCEPT_LANGUAGE="fr", follow=True)
    page = _text(response)
    assert '<html lang="de">' in response.content.decode()
    assert f"Erfolgreich als {officer.email} angemeldet." in page
    assert "Connexion avec" not in page


# --- A new officer's language --------------------------------------------------------------
@pytest.mark.parametrize(("country", "expected"), [("FR", "fr"), ("LU", "fr"), ("DE", "de"), ("AT", "de"),
                                                   ("BE", "en"), ("IT", "en")])
def test_new_officer_language_follows_the_authoritys_country(make_authority, country, expected):  # type: ignore[no-untyped-def]
    authority = make_authority(country=country, domains=[f"police.example.{country.lower()}"])
    user = officer_create(authority=authority, email=f"agent@police.example.{country.lower()}")
    assert user.language == expected
    user.refresh_from_db()
    assert user.language == expected


def test_multilingual_country_takes_the_browsers_language() -> None:
    class Belgian:
        country = "BE"

    assert default_language(Belgian(), "de") == "de"  # type: ignore[arg-type]
    assert default_language(Belgian(), "nl") == "en"  # type: ignore[arg-type]  # not one of ours
    assert default_language(None, None) == "en"


def test_officer_registered_for_a_german_authority_reads_german(make_authority):  # type: ignore[no-untyped-def]
    authority = make_authority(country="DE", domains=["polizei.example.de"])
    user = officer_create(authority=authority, email="beamtin@polizei.example.de")
    page = _text(signed_in(user).get("/requests/"))
    assert "Meine Ersuchen" in page


def test_sign_up_takes_the_country_language_over_the_browser(client, authority):  # type: ignore[no-untyped-def]
    client.post(reverse("account_signup"), {"email": "new.officer@interieur.gouv.fr", "password1": PASSWORD,
                                            "password2": PASSWORD}, HTTP_ACCEPT_LANGUAGE="de")
    assert User.objects.get(email="new.officer@interieur.gouv.fr").language == "fr"


def test_sign_up_in_a_multilingual_country_takes_the_browsers(client, make_authority):  # type: ignore[no-untyped-def]
    make_authority(country="BE", domains=["police.example.be"])
    client.post(reverse("account_signup"), {"email": "agent@police.example.be", "password1": PASSWORD,
                                            "password2": PASSWORD}, HTTP_ACCEPT_LANGUAGE="de")
    assert User.objects.get(email="agent@police.example.be").language == "de"


# --- The profile ---------------------------------------------------------------------------------
def test_profile_changes_the_language(officer, officer_client):  # type: ignore[no-untyped-def]
    page = officer_client.get(reverse("portal:profile"))
    assert page.status_code == 200
    assert re.search(r'<option value="en"[^>]*selected', page.content.decode())
    response = officer_client.post(reverse("portal:profile"), {"language": "de"}, follow=True)
    officer.refresh_from_db()
    assert officer.language == "de"
    text = _text(response)
    assert "Ihre Sprache ist gespeichert." in text and "Profil" in text
    assert "Meine Ersuchen" in _text(officer_client.get("/requests/"))


def test_profile_refuses_an_unknown_language(officer, officer_client):  # type: ignore[no-untyped-def]
    response = officer_client.post(reverse("portal:profile"), {"language": "xx"})
    assert response.status_code == 400
    officer.refresh_from_db()
    assert officer.language == "en"


def test_profile_needs_a_signed_in_person(client):  # type: ignore[no-untyped-def]
    response = client.get(reverse("portal:profile"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_officer_create_refuses_an_unknown_language(authority):  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        officer_create(authority=authority, email="agent.x@interieur.gouv.fr", language="xx")
    assert not User.objects.filter(email="agent.x@interieur.gouv.fr").exists()
