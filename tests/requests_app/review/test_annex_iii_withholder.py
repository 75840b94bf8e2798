"""What the enforcing authority's copy of an Annex III withholds from free text
(``requests_app.annex_iii_redaction``; security.md R6), and what it keeps: the law cited,
dates, article numbers. One row per shape of identifier."""

from __future__ import annotations

import pytest

from requests_app.annex_iii_redaction import Withholder

KNOWN = Withholder([("suspect_account", "[withheld: target 1]"), ("Rita Martin", "[withheld: name]"),
                    ("Rita", "[withheld: name]")])


@pytest.mark.parametrize(("text", "gone", "placeholder"), [
    ("The account suspect_account is closed.", "suspect_account", "[withheld: target 1]"),
    ("The account SUSPECT_ACCOUNT is closed.", "SUSPECT_ACCOUNT", "[withheld: target 1]"),
    ("Decided by Rita Martin.", "Rita Martin", "[withheld: name]"),
    ("Write to jean.dupont@mail.example today.", "jean.dupont@mail.example", "[withheld: e-mail address]"),
    ("Call +33 6 12 34 56 78 now.", "+33 6 12 34 56 78", "[withheld: telephone number]"),
    ("Call +33612345678 now.", "+33612345678", "[withheld: telephone number]"),
    ("Call 06 99 88 77 66 now.", "06 99 88 77 66", "[withheld: telephone number]"),
    ("Call 0699887766 now.", "0699887766", "[withheld: telephone number]"),
    ("Seen from 203.0.113.7 at noon.", "203.0.113.7", "[withheld: IP address]"),
    ("Seen from 2001:db8::1 at noon.", "2001:db8::1", "[withheld: IP address]"),
    ("Seen from 2001:0db8:85a3:0000:0000:8a2e:0370:7334 at noon.", "2001:0db8:85a3", "[withheld: IP address]"),
    ("See https://t.example/c/123 here.", "https://t.example/c/123", "[withheld: link]"),
    ("The handle @dupont85 posted it.", "@dupont85", "[withheld: account name]"),
    ("Account id 1234567890123 is closed.", "1234567890123", "[withheld: number]"),
])
def test_free_text_identifiers_are_withheld(text, gone, placeholder):
    out = KNOWN.text(text)
    assert gone not in out and gone.lower() not in out.lower()
    assert placeholder in out


@pytest.mark.parametrize("kept", [
    "Reg. (EU) 2023/1543 Art. 10(2), 12(1)",
    "Art. 12(1)(a): immunity.",
    "18 U.S.C. § 2702(b)(8)",
    "received on 2026-09-15 at 10:30, 10 days (Reg. 1182/71)",
    "at 10:30:00 UTC",
    "Annex III section D",
])
def test_the_law_and_dates_stay(kept):
    assert KNOWN.text(kept) == kept


@pytest.mark.parametrize(("item", "scope"), [
    ({"target": 0, "identifier": "suspect_account"}, "[withheld: target 1]"),
    ({"target": 2, "identifier": "anything"}, "[withheld: target 3]"),
    ({"identifier": "suspect_account"}, "[withheld: target 1]"),
    ({"identifier": "someone_not_in_the_order"}, "[withheld: identifier]"),
    ({"identifier": ""}, ""),
])
def test_a_section_d_scope_names_the_targets_position_never_its_value(item, scope):
    assert KNOWN.identifier(item) == scope
