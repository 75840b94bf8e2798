"""Structural checks of a request: is it complete and well-formed enough to be assessed?

Pure (no ORM, no clock): the validation task and ``POST /requests/check/`` feed it the same
``RequestFacts`` as the jurisdiction rules. Shape errors (wrong types, unknown values) are
refused by the API with 400 before anything is stored; what is checked here is what the law
calls an *incomplete* certificate or one with *manifest errors*, which the provider answers
with a clarification request (Reg. (EU) 2023/1543 Art. 10(4), 11(3); Annex III).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import phonenumbers

from .rules.model import RequestFacts, Target
from .rules.result import Finding

EEVIDENCE = {"epoc", "epoc_pr", "preservation_extension", "production_confirmation"}
ART_10_4 = "Reg. (EU) 2023/1543 Art. 10(4)"
ART_11_3 = "Reg. (EU) 2023/1543 Art. 11(3)"
ANNEX_INCOMPLETE = "incomplete"
ANNEX_MANIFEST_ERROR = "manifest_errors"
ANNEX_INSUFFICIENT = "insufficient_information"

# A time range that ends more than this after receipt is a manifest error (data from the future).
FUTURE_TOLERANCE = timedelta(days=1)
# Ranges longer than this are accepted but flagged: they are rarely proportionate.
LONG_RANGE = timedelta(days=366 * 2)
USERNAME_RE = re.compile(r"^@?[A-Za-z][A-Za-z0-9_]{3,31}$")
USER_ID_RE = re.compile(r"^[0-9]{1,20}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL_KINDS = {"channel_url", "message_url"}


def _basis(instrument: str) -> str:
    if instrument in EEVIDENCE:
        return ART_11_3 if instrument in {"epoc_pr", "preservation_extension"} else ART_10_4
    if instrument == "dsa_removal_order":
        return "Reg. (EU) 2022/2065 Art. 9(2)"
    if instrument == "dsa_information_order":
        return "Reg. (EU) 2022/2065 Art. 10(2)"
    if instrument.startswith("us_"):
        return "18 U.S.C. § 2703"
    if instrument == "emergency_disclosure":
        return "18 U.S.C. § 2702(c)(4); provider emergency policy"
    return "Provider policy: law enforcement guidelines"


def _error(facts: RequestFacts, code: str, message: str, field: str, *, annex: str = ANNEX_INCOMPLETE,
           category: str | None = None, **params: str | int | None) -> Finding:
    return Finding(
        code=code,
        severity="error",
        legal_basis=_basis(facts.instrument),
        message=message,
        data_category=category,
        message_params=dict(params),
        annex_iii_reason=annex,
        field=field,
    )


def is_provider_url(url: str, domains: Iterable[str]) -> bool:
    """True for an http(s) URL whose host is one of the provider's domains (or a subdomain)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    if parts.scheme not in {"http", "https"} or parts.username or parts.password or not parts.hostname:
        return False
    host = parts.hostname.rstrip(".").lower()
    return any(host == d or host.endswith("." + d) for d in (d.lower() for d in domains))


def is_e164(value: str) -> bool:
    if not re.fullmatch(r"\+[1-9][0-9]{6,14}", value):
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(value, None))
    except phonenumbers.NumberParseException:
        return False


def _target_findings(facts: RequestFacts, index: int, target: Target, domains: Iterable[str]) -> Iterator[Finding]:
    field = f"targets[{index}]"
    kind, value = target.kind, target.value.strip()
    bad = None
    if kind == "phone" and not is_e164(value):
        bad = "a phone number in E.164 form (+ country code and number, e.g. +32470123456)"
    elif kind == "ip_address":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            bad = "a valid IPv4 or IPv6 address"
        else:
            if target.timestamp is None:
                yield _error(
                    facts, "ip_timestamp_missing",
                    "An IP address identifies nobody without the date, time and time zone of its use.",
                    field, annex=ANNEX_INSUFFICIENT, value=value,
                )
            elif facts.received_at and target.timestamp > facts.received_at + FUTURE_TOLERANCE:
                yield _error(facts, "ip_timestamp_in_future", "The IP time stamp lies in the future.",
                             field, annex=ANNEX_MANIFEST_ERROR)
    elif kind in URL_KINDS and not is_provider_url(value, domains):
        bad = "a link to the provider's own service (" + ", ".join(domains) + ")"
    elif kind == "username" and not USERNAME_RE.match(value):
        bad = "a username of 4 to 32 letters, digits or underscores"
    elif kind == "user_id" and not USER_ID_RE.match(value):
        bad = "a numeric user ID"
    elif kind == "email" and not EMAIL_RE.match(value):
        bad = "an e-mail address"
    if bad:
        yield _error(facts, f"target_{kind}_invalid", f"Target {index + 1} must be {bad}.", field,
                     annex=ANNEX_MANIFEST_ERROR, kind=kind)


def _required_fields(facts: RequestFacts) -> Iterator[Finding]:
    instrument = facts.instrument
    if not facts.case_reference.strip():
        yield _error(facts, "case_reference_missing", "The authority's file number is missing.", "case_reference")
    needs_targets = instrument not in {"dsa_removal_order"} and instrument not in {
        "preservation_extension", "production_confirmation"
    }
    if needs_targets and not facts.targets:
        yield _error(facts, "targets_missing", "No identifier of the data sought was given.", "targets",
                     annex=ANNEX_INSUFFICIENT)
    needs_categories = instrument not in {"dsa_removal_order", "preservation_extension", "production_confirmation"}
    if needs_categories and not facts.data_categories:
        yield _error(facts, "data_categories_missing", "No data category was requested.", "data_categories")
    offence = facts.offence
    if instrument in {"epoc", "epoc_pr", "national_order"}:
        if offence is None or not offence.description.strip():
            yield _error(facts, "offence_missing", "The nature of the offence is missing (Annex I/II section G).",
                         "offence.description")
        elif not offence.legal_provisions.strip():
            yield _error(facts, "legal_provisions_missing",
                         "The statutory provisions of the offence are missing (Annex I/II section G).",
                         "offence.legal_provisions")
    if instrument == "epoc" and facts.data_categories & {"traffic", "content"}:
        has_threshold = offence is not None and (
            offence.max_sentence_months is not None or offence.listed_offence or offence.sentence_execution
        )
        if not has_threshold:
            yield _error(facts, "offence_threshold_missing",
                         "Traffic or content data need the maximum sentence, a listed offence or a sentence "
                         "execution (Art. 5(4)); none was given.", "offence.max_sentence_months")
    needs_range = bool(facts.data_categories & {"traffic", "content"}) and instrument != "dsa_removal_order"
    if needs_range and (facts.data_from is None or facts.data_to is None):
        yield _error(facts, "time_range_missing", "Traffic and content data need a time range.", "data_from",
                     annex=ANNEX_INSUFFICIENT)
    if (facts.emergency or instrument == "emergency_disclosure") and not facts.emergency_reason.strip():
        yield _error(facts, "emergency_reason_missing",
                     "An emergency request must describe the imminent threat to life, physical integrity or "
                     "safety, or to critical infrastructure.", "emergency_reason")
    if instrument in {"preservation_extension", "production_confirmation"} and facts.linked is None:
        yield _error(facts, "linked_reference_unknown",
                     "The preservation order this refers to (linked_reference) was not found among your "
                     "authority's requests.", "linked_reference", annex=ANNEX_INSUFFICIENT)
    follows_up = instrument in {"preservation_extension", "production_confirmation"}
    if follows_up and facts.linked is not None and facts.linked.instrument not in {"epoc_pr", "us_preservation"}:
        yield _error(facts, "linked_reference_not_preservation",
                     "linked_reference must name a preservation order.", "linked_reference",
                     annex=ANNEX_MANIFEST_ERROR)


def _dsa_findings(facts: RequestFacts, domains: Iterable[str]) -> Iterator[Finding]:
    if facts.instrument not in {"dsa_removal_order", "dsa_information_order"}:
        return
    dsa = facts.dsa
    required = ["legal_basis", "redress_information"]
    if facts.instrument == "dsa_removal_order":
        # Art. 9(2)(a): statement of reasons and territorial scope; (b) exact URLs.
        required += ["statement_of_reasons", "territorial_scope"]
    for name in required:
        if dsa is None or not str(getattr(dsa, name)).strip():
            yield _error(facts, f"dsa_{name}_missing", f"The order lacks its {name.replace('_', ' ')}.",
                         f"dsa.{name}")
    if facts.instrument == "dsa_removal_order":
        urls = dsa.content_urls if dsa else ()
        if not urls:
            yield _error(facts, "dsa_content_urls_missing",
                         "The order names no exact URL of the content, so the content cannot be located.",
                         "dsa.content_urls", annex=ANNEX_INSUFFICIENT)
        for i, url in enumerate(urls):
            if not is_provider_url(url, domains):
                yield _error(facts, "dsa_content_url_invalid",
                             f"URL {i + 1} does not point to the provider's service.", f"dsa.content_urls[{i}]",
                             annex=ANNEX_MANIFEST_ERROR)


def _time_range(facts: RequestFacts) -> Iterator[Finding]:
    start, end = facts.data_from, facts.data_to
    if start and end and end < start:
        yield _error(facts, "time_range_reversed", "The time range ends before it starts.", "data_to",
                     annex=ANNEX_MANIFEST_ERROR)
    if end and facts.received_at and end > facts.received_at + FUTURE_TOLERANCE:
        yield _error(facts, "time_range_in_future", "The time range ends in the future.", "data_to",
                     annex=ANNEX_MANIFEST_ERROR)
    if start and end and end - start > LONG_RANGE:
        yield Finding(code="time_range_long", severity="warning", legal_basis=_basis(facts.instrument),
                      message="The time range spans more than two years; check that it is proportionate.",
                      field="data_from")


def structural_findings(facts: RequestFacts, *, provider_domains: Iterable[str]) -> list[Finding]:
    domains = tuple(provider_domains)
    findings = list(_required_fields(facts))
    for index, target in enumerate(facts.targets):
        findings.extend(_target_findings(facts, index, target, domains))
    findings.extend(_dsa_findings(facts, domains))
    findings.extend(_time_range(facts))
    return findings
