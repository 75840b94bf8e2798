"""What the enforcing authority's e-mailed copy of an Annex III may show (issue 11; security.md R6).

The Annex III reaches the enforcing authority notified under Art. 8 (Reg. (EU) 2023/1543
Art. 10(5)-(8), 11(4)-(5)); an e-mail carries no personal data (security.md R6). The owner's
decision (docs/law.md, "Annex III copy to the enforcing authority"): by default the e-mail
carries this copy, in which every personal identifier is replaced by a placeholder naming
its place in the order ("[withheld: target 1]"), while the reference, the issuing authority,
the reasons ticked, the legal bases and the provider's contact stay. The complete form stays
in the portal (the issuing authority's download) and goes to the enforcing authority only on
request through a secure channel, or with ``ANNEX_III_EA_EMAIL = "full"`` over an agreed
encrypted channel.

Withheld: the order's target identifiers (exactly as stored, then wherever free text quotes
them), the names and addresses of the people known to the request (the submitting officer,
the legal team's signatory and approver), the issuing authority's file number (it may name
the case or the person; the portal reference and the dates identify the order), and in free
text anything shaped like an e-mail address, a telephone number, an IP address, a link, an
@handle or a long number (an account id). A name the portal does not know, written in free
text, cannot be recognised: that limit is recorded in docs/law.md with the decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Longest first, so an e-mail is withheld as one before its parts could be.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE), "[withheld: e-mail address]"),
    (re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE), "[withheld: link]"),
    # IPv6: "::" or at least three colons (a time such as 10:30:00 has two).
    (re.compile(r"(?<![\w:])(?=[0-9a-f:]*::|(?:[0-9a-f]{1,4}:){3})(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:])",
                re.IGNORECASE), "[withheld: IP address]"),
    (re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])"), "[withheld: IP address]"),
    # International numbers (+33 6 12 34 56 78) and national ones starting with 0 (06 99 88 77 66).
    (re.compile(r"(?<![\w+])\+\d(?:[ ().-]?\d){6,14}"), "[withheld: telephone number]"),
    (re.compile(r"(?<![\w-])0\d(?:[ .-]?\d{2}){3,5}(?![\w-])"), "[withheld: telephone number]"),
    (re.compile(r"(?<![\w@])@\w{2,}"), "[withheld: account name]"),
    # Account ids and other long numbers (a date or an article number is shorter).
    (re.compile(r"(?<!\w)\d{9,}(?!\w)"), "[withheld: number]"),
)


@dataclass
class Withholder:
    """Replaces the personal identifiers of one request in the texts of its Annex III."""

    # (value, placeholder), longest value first so a value containing another is withheld whole.
    known: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def for_form(cls, form: Any) -> Withholder:
        request = form.request
        known: list[tuple[str, str]] = []
        for position, value in enumerate(request.targets.values_list("value", flat=True).order_by("id"), start=1):
            known.append((value, f"[withheld: target {position}]"))
        people = [getattr(request, "submitted_by", None), form.signed_by, form.approved_by]
        for person in people:
            if person is None:
                continue
            for value in (person.get_full_name(), person.first_name, person.last_name, person.email):
                if value and len(value.strip()) >= 3:
                    known.append((value.strip(), "[withheld: name]"))
        known.sort(key=lambda pair: len(pair[0]), reverse=True)
        return cls(known)

    def text(self, value: str | None) -> str:
        """Free text with every personal identifier in it replaced."""
        out = value or ""
        for known, placeholder in self.known:
            out = re.sub(re.escape(known), placeholder, out, flags=re.IGNORECASE)
        for pattern, placeholder in _PATTERNS:
            out = pattern.sub(placeholder, out)
        return out

    def identifier(self, item: dict[str, Any]) -> str:
        """The scope of a section D item: the target's position, never its value."""
        if item.get("target") is not None:
            return f"[withheld: target {int(item['target']) + 1}]"
        identifier = str(item.get("identifier") or "").strip()
        if not identifier:
            return ""
        # An identifier outside the order's targets is withheld whole: it may be anything.
        return next((placeholder for value, placeholder in self.known
                     if value.lower() == identifier.lower() and placeholder.startswith("[withheld: target")),
                    "[withheld: identifier]")

    def values(self) -> Iterable[str]:
        return (value for value, _ in self.known)
