"""Languages: the switcher, and complete French and German catalogues."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db
LOCALE = Path(settings.BASE_DIR) / "locale"


def test_switching_language_saves_it_on_the_account(officer, officer_client):
    response = officer_client.post(reverse("portal:set_language"), {"language": "de", "next": "/requests/"})
    assert response.status_code == 302 and response["Location"] == "/requests/"
    officer.refresh_from_db()
    assert officer.language == "de"
    page = officer_client.get("/requests/").content.decode()
    assert '<html lang="de">' in page
    assert "Meine Ersuchen" in page


def test_anonymous_can_switch_language(client):
    client.post(reverse("portal:set_language"), {"language": "fr", "next": "/"})
    page = client.get("/").content.decode()
    assert '<html lang="fr">' in page
    assert "Se connecter" in page


def test_unknown_language_is_ignored(officer, officer_client):
    officer_client.post(reverse("portal:set_language"), {"language": "xx", "next": "/"})
    officer.refresh_from_db()
    assert officer.language == "en"


def _entries(po: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for every entry of a .po file, plural forms flattened."""
    entries, block = [], []
    for line in [*po.read_text(encoding="utf-8").splitlines(), ""]:
        if line.strip():
            block.append(line)
            continue
        if block:
            entries.append(_parse(block))
            block = []
    return [e for e in entries if e is not None]


def _parse(block: list[str]) -> tuple[str, str, bool] | None:
    fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in block)
    current, fields = None, {}
    for line in block:
        if line.startswith("#"):
            continue
        match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?|msgctxt) "(.*)"$', line)
        if match:
            current = match.group(1)
            fields[current] = match.group(2)
        elif line.startswith('"') and current:
            fields[current] += line[1:-1]
    if "msgid" not in fields:
        return None
    strs = [v for k, v in fields.items() if k.startswith("msgstr")]
    return fields["msgid"], "" if any(s == "" for s in strs) else strs[0], fuzzy


@pytest.mark.parametrize("language", ["fr", "de"])
def test_catalogue_is_complete(language):
    entries = _entries(LOCALE / language / "LC_MESSAGES" / "django.po")
    assert len(entries) > 300
    header = [e for e in entries if e[0] == ""]
    assert len(header) == 1 and not header[0][2]
    missing = [msgid for msgid, msgstr, _ in entries if msgid and not msgstr]
    fuzzy = [msgid for msgid, _, is_fuzzy in entries if msgid and is_fuzzy]
    assert missing == []
    assert fuzzy == []
    assert (LOCALE / language / "LC_MESSAGES" / "django.mo").exists()


@pytest.mark.parametrize(("language", "expected"), [("fr", "Nouvelle demande"), ("de", "Neues Ersuchen")])
def test_strings_render_translated(language, expected):
    with translation.override(language):
        assert translation.gettext("New request") == expected
        assert translation.gettext("Skip to content") != "Skip to content"
