"""English, French and German, complete.

* every entry of locale/{fr,de}/LC_MESSAGES/django.po is translated, none is fuzzy, and the
  compiled .mo files match the .po files;
* makemessages would add nothing: the strings xgettext extracts from the project's Python
  files and templates (the same files, keywords and template pre-processing as
  ``makemessages --ignore=.venv --ignore=var --ignore=bench --ignore=tests``) are all in
  both catalogues;
* the portal's text of every finding (``requests_app/finding_texts.py``, keyed by code) is
  extracted; tests/test_finding_texts.py renders them;
* the e-mails' subjects and bodies are translated.
"""

from __future__ import annotations

import ast
import gettext as gnu_gettext
import os
import re
import string
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management.utils import is_ignored_path
from django.utils import translation
from django.utils.translation import templatize

from requests_app.finding_texts import FINDING_TEXTS
from requests_app.notifications import EVENTS

BASE = Path(settings.BASE_DIR)
LANGUAGES = ("fr", "de")
IGNORE = [".venv", "var", "bench", "tests", "CVS", ".*", "*~", "*.pyc"]  # the command's + Django's defaults
EXTENSIONS = {".py", ".html", ".txt"}  # makemessages' defaults for the "django" domain
KEYWORDS = [  # as django.core.management.commands.makemessages passes them (plus xgettext's Python defaults)
    "--keyword=gettext_noop",
    "--keyword=gettext_lazy",
    "--keyword=ngettext_lazy:1,2",
    "--keyword=pgettext:1c,2",
    "--keyword=npgettext:1c,2,3",
    "--keyword=pgettext_lazy:1c,2",
    "--keyword=npgettext_lazy:1c,2,3",
]


# --- A small .po reader -----------------------------------------------------------------------------
@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid or "", self.msgid_plural)


def _unquote(text: str) -> str:
    value = ast.literal_eval(text.strip())
    assert isinstance(value, str)
    return value


def parse_po(text: str) -> list[Entry]:
    """msgctxt/msgid/msgid_plural/msgstr[n] blocks, continuation lines, flags, obsolete (#~) entries."""
    entries: list[Entry] = []
    current = Entry()
    last: tuple[str, int] | None = None  # which field continuation lines extend

    def flush() -> None:
        nonlocal current, last
        if current.msgid is not None:
            entries.append(current)
        current, last = Entry(), None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
            if line.startswith("|"):  # previous msgid of an obsolete entry
                continue
        if not line:
            flush()
            continue
        if line.startswith("#"):
            if current.msgid is not None and last is not None and not line.startswith("#~"):
                flush()
            if line.startswith("#,"):
                current.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith('"'):
            assert last is not None, f"line {number}: continuation without a field"
            name, index = last
            value = _unquote(line)
            if name == "msgstr":
                current.msgstr[index] += value
            else:
                setattr(current, name, (getattr(current, name) or "") + value)
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and current.msgid is not None and last and last[0].startswith("msgstr"):
            flush()
        current.obsolete = current.obsolete or obsolete
        if keyword == "msgctxt":
            current.msgctxt, last = _unquote(rest), ("msgctxt", 0)
        elif keyword == "msgid":
            current.msgid, current.line, last = _unquote(rest), number, ("msgid", 0)
        elif keyword == "msgid_plural":
            current.msgid_plural, last = _unquote(rest), ("msgid_plural", 0)
        elif keyword == "msgstr":
            current.msgstr[0], last = _unquote(rest), ("msgstr", 0)
        elif keyword.startswith("msgstr["):
            index = int(keyword[len("msgstr[") : -1])
            current.msgstr[index], last = _unquote(rest), ("msgstr", index)
        else:
            raise AssertionError(f"line {number}: unexpected {raw!r}")
    flush()
    return entries


def po_path(language: str) -> Path:
    return BASE / "locale" / language / "LC_MESSAGES" / "django.po"


def catalogue(language: str) -> dict[tuple[str | None, str, str | None], Entry]:
    entries = parse_po(po_path(language).read_text(encoding="utf-8"))
    return {e.key: e for e in entries if not e.obsolete and e.msgid}


def test_parser_reads_multiline_plural_and_obsolete_entries() -> None:
    entries = parse_po(
        'msgid ""\nmsgstr ""\n"Language: fr\\n"\n\n'
        '#, fuzzy, python-format\nmsgctxt "c"\nmsgid ""\n"one "\n"two"\nmsgstr "un deux"\n\n'
        'msgid "%(n)s file"\nmsgid_plural "%(n)s files"\nmsgstr[0] "%(n)s fichier"\nmsgstr[1] ""\n"%(n)s fichiers"\n\n'
        '#~ msgid "gone"\n#~ msgstr "parti"\n'
    )
    header, first, plural, gone = entries
    assert header.msgid == "" and header.msgstr[0] == "Language: fr\n"
    assert (first.msgctxt, first.msgid, first.msgstr[0]) == ("c", "one two", "un deux")
    assert first.flags == {"fuzzy", "python-format"}
    assert plural.msgid_plural == "%(n)s files" and plural.msgstr == {0: "%(n)s fichier", 1: "%(n)s fichiers"}
    assert gone.obsolete and gone.msgstr[0] == "parti"


# --- (a) every entry translated, nothing fuzzy, .mo compiled -----------------------------------------
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_not_fuzzy(language: str) -> None:
    entries = [e for e in parse_po(po_path(language).read_text(encoding="utf-8")) if e.msgid and not e.obsolete]
    assert len(entries) > 400
    untranslated = [(e.line, e.msgid) for e in entries if not e.msgstr or not all(e.msgstr.values())]
    fuzzy = [(e.line, e.msgid) for e in entries if "fuzzy" in e.flags]
    plural_forms = [(e.line, e.msgid) for e in entries if e.msgid_plural and len(e.msgstr) != 2]
    assert not untranslated, f"{language}: untranslated entries: {untranslated}"
    assert not fuzzy, f"{language}: fuzzy entries: {fuzzy}"
    assert not plural_forms, f"{language}: plural entries need 2 forms: {plural_forms}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_are_kept(language: str) -> None:
    formatter = string.Formatter()
    problems = []
    for entry in catalogue(language).values():
        for msgstr in entry.msgstr.values():
            for source in filter(None, (entry.msgid, entry.msgid_plural)):
                if "python-format" in entry.flags:
                    wanted = set(_percent_names(source))
                    if wanted and set(_percent_names(msgstr)) != wanted:
                        problems.append((entry.msgid, msgstr))
                if "python-brace-format" in entry.flags:
                    names = {f for _, f, _, _ in formatter.parse(source) if f is not None}
                    if {f for _, f, _, _ in formatter.parse(msgstr) if f is not None} != names:
                        problems.append((entry.msgid, msgstr))
    assert not problems, f"{language}: placeholders differ: {problems}"


def _percent_names(text: str) -> list[str]:
    return re.findall(r"%\((\w+)\)[sdfr]", text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_po(language: str, tmp_path: Path) -> None:
    """compilemessages was run after the last change of the .po file."""
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po_path(language))], check=True)
    with fresh.open("rb") as new, po_path(language).with_suffix(".mo").open("rb") as committed:
        assert gnu_gettext.GNUTranslations(committed)._catalog == gnu_gettext.GNUTranslations(new)._catalog  # type: ignore[attr-defined]


# --- (b) makemessages would add nothing -------------------------------------------------------------
def _translatable_files() -> list[Path]:
    """The files makemessages reads from the project root, with its ignore rules."""
    ignored_roots = {os.path.normpath(p) for p in (settings.MEDIA_ROOT, settings.STATIC_ROOT) if p}
    found = []
    for dirpath, dirnames, filenames in os.walk(BASE):
        for dirname in list(dirnames):
            path = os.path.normpath(os.path.join(dirpath, dirname))
            rel = os.path.relpath(path, BASE)
            if is_ignored_path(rel, IGNORE) or path in ignored_roots or dirname == "locale":
                dirnames.remove(dirname)
        for filename in filenames:
            rel = os.path.relpath(os.path.join(dirpath, filename), BASE)
            if os.path.splitext(filename)[1] in EXTENSIONS and not is_ignored_path(rel, IGNORE):
                found.append(Path(dirpath) / filename)
    return sorted(found)


def extracted_msgids(work: Path) -> dict[tuple[str | None, str, str | None], Entry]:
    inputs = []
    for path in _translatable_files():
        if path.suffix == ".py":
            inputs.append(str(path))
            continue
        rel = path.relative_to(BASE)
        target = work / f"{rel}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(templatize(path.read_text(encoding="utf-8"), origin=str(rel)), encoding="utf-8")
        inputs.append(str(target))
    assert len(inputs) > 100
    files_from = work / "files.txt"
    files_from.write_text("\n".join(inputs), encoding="utf-8")
    result = subprocess.run(
        ["xgettext", "--language=Python", *KEYWORDS, "--from-code=UTF-8", "--no-wrap",
         "--output=-", f"--files-from={files_from}"],
        check=True, capture_output=True, text=True,
    )
    return {e.key: e for e in parse_po(result.stdout) if e.msgid}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str | None, str, str | None], Entry]:
    return extracted_msgids(tmp_path_factory.mktemp("xgettext"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_makemessages_would_add_nothing(language: str, extracted: dict) -> None:
    assert len(extracted) > 400
    known = catalogue(language)
    missing = [key for key in extracted if key not in known]
    assert not missing, (
        f"{language}: strings not in the catalogue (run makemessages -l fr -l de --ignore=.venv --ignore=var "
        f"--ignore=bench --ignore=tests, translate, compilemessages): {missing}"
    )
    untranslated = [key for key in extracted if not all(known[key].msgstr.values())]
    assert not untranslated, f"{language}: {untranslated}"


def test_every_finding_text_is_extracted(extracted: dict) -> None:
    """makemessages sees the portal's text of every finding code (tests/test_finding_texts.py tests the rest)."""
    keys = {(ctx, msgid) for ctx, msgid, _ in extracted}
    assert {(f"finding {code}", str(text)) for code, text in _english_texts().items()} <= keys


def _english_texts() -> dict[str, str]:
    with translation.override("en"):
        return {code: str(text) for code, text in FINDING_TEXTS.items()}


# --- (e) e-mails -------------------------------------------------------------------------------------
@pytest.mark.parametrize("event", sorted(EVENTS))
def test_email_subjects_and_bodies_are_translated(event: str) -> None:
    with translation.override("en"):
        subject, body = str(EVENTS[event].subject), str(EVENTS[event].body)
    for language in LANGUAGES:
        with translation.override(language):
            assert str(EVENTS[event].subject) != subject, f"{event}: subject not translated into {language}"
            assert str(EVENTS[event].body) != body, f"{event}: body not translated into {language}"
