"""Render an Annex III form (Reg. (EU) 2023/1543) as a PDF the issuing authority downloads.

The sections follow the Annex: A the certificate concerned, B the issuing authority, C the
addressee, D the reasons per identifier, E conflicting obligations, F the clarification
asked, G preservation of the data, H the signature of the person who decided. No internal
notes ever appear here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import translation
from fpdf import FPDF

from .annex_iii_redaction import Withholder
from .models import AnnexIII, AnnexIIIOrigin, AnnexIIIReason
from .rules.vocab import EEVIDENCE_INSTRUMENTS
from .states import DataCategory

KIND_TITLES = {"clarification": "Request for clarification", "non_execution": "Impossibility to execute",
               "refusal": "Refusal on grounds", "reroute": "Rerouting: this channel is not the one to use"}

# The one Annex III vocabulary (rules.vocab.ANNEX_III_REASONS) with its labels.
REASON_LABELS = dict(AnnexIIIReason.choices)
_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


class _Form(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.unicode = (_FONT_DIR / "DejaVuSans.ttf").exists()
        if self.unicode:
            self.add_font("DejaVu", "", str(_FONT_DIR / "DejaVuSans.ttf"))
            self.add_font("DejaVu", "B", str(_FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.family = "DejaVu" if self.unicode else "Helvetica"
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()

    def text_safe(self, value: str) -> str:
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font(self.family, "B", 11)
        self.multi_cell(0, 6, self.text_safe(text), new_x="LMARGIN", new_y="NEXT")

    def line_item(self, label: str, value: str) -> None:
        self.set_font(self.family, "B", 9)
        self.multi_cell(0, 5, self.text_safe(label), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", 9)
        self.multi_cell(0, 5, self.text_safe(value or "—"), new_x="LMARGIN", new_y="NEXT")


class _Content:
    """Stands in for ``_Form`` to learn what a form says without laying it out: ``_render``
    draws through it, every call and its arguments are noted, ``output`` returns the notes.
    Laying out (fonts, line breaks) is where the time goes (~0.3 s a PDF); the notes cost a few
    queries. Two forms with the same notes render to the same bytes (the layout depends on
    nothing else: the fonts and fpdf2 are those of the process)."""

    def __init__(self) -> None:
        self.unicode = (_FONT_DIR / "DejaVuSans.ttf").exists()
        self.family = "DejaVu" if self.unicode else "Helvetica"
        self.calls: list[tuple[str, tuple[Any, ...], list[tuple[str, Any]]]] = []

    def text_safe(self, value: str) -> str:
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def __getattr__(self, name: str) -> Any:
        def note(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args, sorted(kwargs.items())))
        return note

    def output(self) -> bytes:
        return repr(self.calls).encode()


def render(form: AnnexIII, *, withheld: bool = False) -> bytes:
    """The complete form (the issuing authority's download), or with ``withheld`` the enforcing
    authority's e-mailed copy without personal identifiers (``annex_iii_redaction``)."""
    # The form is laid out in English, the Regulation's common language for the certificates;
    # the labels are translatable for the e-mails, so pin the language here.
    with translation.override("en"):
        return _render(form, Withholder.for_form(form) if withheld else None)


def content_key(form: AnnexIII, *, withheld: bool = False) -> str:
    """SHA-256 of what ``render(form, withheld=...)`` would draw, without laying it out: the
    same code path with every drawing call noted (``_Content``). Equal keys, equal PDFs."""
    with translation.override("en"):
        notes = _render(form, Withholder.for_form(form) if withheld else None, pdf=_Content())
    return hashlib.sha256(notes).hexdigest()


@dataclass(frozen=True)
class Prerendered:
    """A PDF rendered ahead of time (outside the request's lock) with the key of what it says."""

    key: str
    content: bytes


def prerender(form: AnnexIII, *, withheld: bool = False) -> Prerendered:
    """Render ``form`` now (it may be an unsaved instance holding the values it will be saved
    with), for ``render_as_known`` to use later if the form still says the same."""
    return Prerendered(key=content_key(form, withheld=withheld), content=render(form, withheld=withheld))


def render_as_known(form: AnnexIII, *, withheld: bool = False, known: Prerendered | None = None) -> bytes:
    """``render(form)``, taken from ``known`` when its key is the form's (the cheap check a
    locked transaction can afford); rendered here otherwise (the form changed since)."""
    if known is not None and known.key == content_key(form, withheld=withheld):
        return known.content
    return render(form, withheld=withheld)


def filename(form: AnnexIII, *, withheld: bool = False) -> str:
    suffix = "-identifiers-withheld" if withheld else ""
    return f"annex-iii-{form.request.reference}-{form.pk}{suffix}.pdf"


def attachment(form: AnnexIII, *, withheld: bool = True, known: Prerendered | None = None) -> Any:
    """The sent form as an outbox attachment for the enforcing authority (Art. 10(5)-(8),
    11(4)-(5)): by default the copy without personal identifiers (security.md R6); with
    ``withheld=False`` the same bytes the issuing authority downloads in the portal (``render``
    is deterministic for a sent form), only for an agreed encrypted channel. ``known``: the
    same rendered ahead of time (``render_as_known``)."""
    from outbox.relay import Attachment

    return Attachment(filename=filename(form, withheld=withheld),
                      content=render_as_known(form, withheld=withheld, known=known), content_type="application/pdf")


def _render(form: AnnexIII, withholder: Withholder | None = None, pdf: _Form | _Content | None = None) -> bytes:
    request = form.request
    w = withholder
    pdf = _Form() if pdf is None else pdf
    # The document's date is the form's, not the rendering's: the PDF of a sent form is the same
    # bytes whenever and wherever it is rendered (portal, API, the enforcing authority's e-mail),
    # so the SHA-256 recorded when it was sent identifies it.
    pdf.set_creation_date(form.sent_at or form.created_at)
    pdf.set_title(f"Annex III {request.reference}")
    pdf.set_font(pdf.family, "B", 13)
    eevidence = request.instrument in EEVIDENCE_INSTRUMENTS
    # For an EPOC / EPOC-PR the Annex III of Reg. (EU) 2023/1543; for other instruments (DSA
    # orders, US process, voluntary requests) the same structured notice of the reasons.
    title = ("ANNEX III — Information on the impossibility to execute an EPOC / EPOC-PR" if eevidence
             else "Notice of the reasons for not executing the request (structured as Annex III)")
    pdf.multi_cell(0, 7, pdf.text_safe(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "", 9)
    kind = KIND_TITLES.get(form.kind, form.kind)
    if form.partial:
        kind += " (partial: the categories and identifiers not listed in section D are executed)"
    issued = form.sent_at or form.created_at
    basis = "Regulation (EU) 2023/1543" if eevidence else request.get_instrument_display()
    pdf.multi_cell(0, 5, pdf.text_safe(f"{kind} · {basis} · issued {issued:%Y-%m-%d %H:%M} UTC"),
                   new_x="LMARGIN", new_y="NEXT")
    automatic = form.origin == AnnexIIIOrigin.AUTOMATIC_VALIDATION
    if w is not None:
        from .notifications import provider_contact

        contact = provider_contact()
        pdf.set_font(pdf.family, "B", 9)
        pdf.multi_cell(0, 5, pdf.text_safe(
            "Copy for the enforcing authority: personal identifiers are withheld (\"[withheld: target 1]\" is "
            "the order's first target). The complete " + ("" if automatic else "signed ")
            + "form is available on request through a secure channel"
            + (f" from the provider's legal team, {contact}" if contact else "")
            + f", quoting the reference {request.reference}."), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.family, "", 9)

    pdf.heading("A. Certificate concerned")
    pdf.line_item("Portal reference", request.reference)
    # The issuing authority's file number may name the case or the person: withheld from the copy
    # (the e-mails' rule); the portal reference and the dates identify the order.
    pdf.line_item("Issuing authority's file number",
                  ("[withheld: file number]" if request.case_reference else "") if w else request.case_reference)
    pdf.line_item("Instrument", request.get_instrument_display())
    pdf.line_item("Received", f"{request.received_at:%Y-%m-%d %H:%M} UTC")
    pdf.heading("B. Issuing authority")
    pdf.line_item("Authority", f"{request.authority.name} ({request.authority.country})")
    pdf.heading("C. Addressee")
    pdf.line_item("Addressee", "The provider's designated establishment / legal representative")

    pdf.heading("D. Reasons why the order cannot be executed, per identifier and data category")
    if not form.reasons:
        pdf.line_item("All identifiers", "See section F.")
    categories = dict(DataCategory.choices)
    for item in form.reasons:
        reasons = "; ".join(str(REASON_LABELS.get(code, code)) for code in item.get("reasons", []))
        explanation = item.get("explanation") or ""
        category = item.get("data_category")
        identifier = w.identifier(item) if w else str(item.get("identifier") or "")
        scope = (identifier or "All identifiers") + " — " + (
            str(categories.get(category, category)) if category else "all data categories")
        if w is not None:
            explanation = w.text(explanation)
            # The legal bases stay (public law); the complete form shows them in the reasons' text.
            bases = "; ".join(item.get("legal_basis") or [])
            reasons += f" ({bases})" if bases else ""
        pdf.line_item(scope, reasons + (f". {explanation}" if explanation else ""))
    if form.route_to:
        pdf.line_item("Route to use instead", w.text(form.route_to) if w else form.route_to)
    pdf.heading("E. Conflicting obligations under third-country law (Art. 17)")
    conflicting = w.text(form.conflicting_obligations) if w else form.conflicting_obligations
    pdf.line_item("Conflicting obligations", conflicting or "None raised")
    pdf.heading("F. Information required from the issuing authority")
    asked = w.text(form.clarification_asked) if w else form.clarification_asked
    pdf.line_item("Clarification asked", asked or "None")
    pdf.heading("G. Preservation of the data")
    preserved = "Yes" if form.data_preserved else "No"
    if form.data_preserved and form.preserved_until:
        preserved += f", until {form.preserved_until:%Y-%m-%d %H:%M} UTC"
    if form.identification:
        _identification(pdf, form, categories, w)
    else:
        pdf.line_item("Data preserved", preserved)
    pdf.heading("H. Signature of the addressee")
    if automatic:
        _automatic_signature(pdf, form)
        return bytes(pdf.output())
    signer = form.signed_by.get_full_name() if form.signed_by and w is None else ""
    signed = f"{signer or 'Legal team of the provider'}, {form.signed_at:%Y-%m-%d %H:%M} UTC" if form.signed_at else "—"
    pdf.line_item("Decided and signed by a person of the legal team", signed)
    if form.approved_by is not None and form.approved_at is not None:
        approver = (w is None and form.approved_by.get_full_name()) or "Legal team of the provider"
        pdf.line_item("Approved by a second person of the legal team",
                      f"{approver}, {form.approved_at:%Y-%m-%d %H:%M} UTC")
    return bytes(pdf.output())


def _identification(pdf: _Form | _Content, form: AnnexIII, categories: dict[str, Any], w: Withholder | None) -> None:
    """Section G of the automatic clarification (Art. 10(6), 10(9)): per target and data
    category whether the order as received allows the data to be identified and preserved, and
    that no person has placed a hold yet (the form says what it knows, nothing more)."""
    for row in form.identification:
        if row.get("data_category"):
            scope = f"Data category: {categories.get(row['data_category'], row['data_category'])}"
        elif row.get("target") is not None:
            scope = w.identifier(row) if w else str(row.get("identifier") or "")
        else:
            scope = "The order"
        why = str(row.get("why") or "")
        answer = "Identification and preservation possible" if row.get("possible") else (
            "Identification and preservation not possible on the order as received"
            + (f": {w.text(why) if w else why}" if why else ""))
        pdf.line_item(scope, answer)
    pdf.line_item("Data preserved", "Not confirmed by this form: it was drafted automatically on receipt, before any "
                  "person of the provider's legal team acted on the order. Under Art. 10(9) the provider preserves "
                  "the data that can be identified, as far as possible, pending the clarification; its legal team "
                  "confirms the preservation on request.")


def _automatic_signature(pdf: _Form | _Content, form: AnnexIII) -> None:
    """Section H of a form no person signed: said plainly, with whom to contact."""
    from .notifications import provider_contact

    contact = provider_contact()
    issued = form.sent_at or form.created_at
    pdf.line_item("Drafted and sent automatically, not signed by a person",
                  f"The provider's automatic validation of the order, on behalf of its legal team, "
                  f"{issued:%Y-%m-%d %H:%M} UTC, from the findings on the order as received. It asks for "
                  f"clarification only; it decides no non-execution or refusal (those are signed by a person of the "
                  f"legal team)." + (f" Contact: the provider's legal team, {contact}." if contact else ""))
