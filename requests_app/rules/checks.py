"""Checks shared by several instruments: identifiers, time range, language, confidentiality.

Each takes the Draft and an optional citation, because the same defect is cited differently
under each instrument (Annex I Section E for an EPOC, DSA Art. 10(2)(a)(iii), § 2703...).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from . import vocab as v
from .draft import Draft

_USERNAME = re.compile(r"@?[A-Za-z][A-Za-z0-9_]{3,31}")
_USER_ID = re.compile(r"-?\d{1,20}")
# E.164: a plus sign, the country code and the number (spaces, dashes, dots allowed between).
_PHONE = re.compile(r"\+[1-9]\d{6,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_MESSAGE_PATH = re.compile(r"(?:/c)?(?:/[A-Za-z0-9_]+)?/\d+/?")
_PHONE_NOISE = str.maketrans("", "", " -().")
# The dotted IPv4 form that ipaddress.ip_address accepts (four ASCII decimal octets 0-255,
# no leading zeros), matched without building an address object (issue 9: most targets are
# IPv4); anything else is still parsed by ipaddress (IPv6, and the refusals).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


def split_url(value: str) -> tuple[str, str]:
    """(host without ``www.``, path) of a URL given with or without its scheme."""
    raw = value.strip()
    if "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        host = (parts.hostname or "").lower()
    except ValueError:
        return "", ""
    return host.removeprefix("www."), parts.path


def on_our_service(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def is_message_path(path: str) -> bool:
    return _MESSAGE_PATH.fullmatch(path) is not None


def check_categories(d: Draft, *, legal_basis: str | None = None) -> None:
    if not d.categories:
        d.add("CAT_NONE", field="data_categories", legal_basis=legal_basis)


def check_targets(d: Draft, *, legal_basis: str | None = None) -> None:
    """Every identifier must single out an account or item on our service (example 16/17)."""
    facts = d.facts
    if not facts.targets:
        d.add("TGT_NONE", field="targets", legal_basis=legal_basis)
        return
    domains = d.config.provider_domains
    for i, target in enumerate(facts.targets):
        kind, value = target.kind, target.value.strip()
        if kind == "ip_address":
            _check_ip(d, i, value, target.timestamp, legal_basis)
            continue
        where = f"targets[{i}]"
        if kind == "username":
            if _USERNAME.fullmatch(value) is None:
                display = bool(value) and (" " in value or not value.isascii())
                code = "TGT_DISPLAY_NAME" if display else "TGT_MALFORMED"
                d.add(code, field=where, legal_basis=legal_basis, index=i, kind=kind, value=value)
        elif kind in _FORMATS:
            pattern, normalise = _FORMATS[kind]
            if pattern.fullmatch(normalise(value)) is None:
                _malformed(d, i, kind, value, legal_basis)
        elif kind in ("channel_url", "message_url"):
            host, path = split_url(value)
            if not host:
                _malformed(d, i, kind, value, legal_basis)
            elif not on_our_service(host, domains):
                d.add(
                    "TGT_FOREIGN_SERVICE", field=where, legal_basis=legal_basis, index=i, host=host
                )
            elif kind == "message_url" and not is_message_path(path):
                d.add("TGT_MESSAGE_URL_NO_ID", field=where, legal_basis=legal_basis, value=value)
        else:
            d.add("TGT_UNKNOWN_KIND", field=where, legal_basis=legal_basis, index=i, kind=kind)


def _malformed(d: Draft, i: int, kind: str, value: str, legal_basis: str | None) -> None:
    d.add("TGT_MALFORMED", field=f"targets[{i}]", legal_basis=legal_basis, index=i, kind=kind, value=value)


# Identifiers checked by their written form alone: pattern and what is stripped first.
_FORMATS: dict[str, tuple[re.Pattern[str], Callable[[str], str]]] = {
    "user_id": (_USER_ID, str.strip),
    "phone": (_PHONE, lambda value: value.translate(_PHONE_NOISE)),
    "email": (_EMAIL, str.strip),
}


def is_ip_address(value: str) -> bool:
    """Whether ``ipaddress.ip_address(value)`` accepts ``value``."""
    if _IPV4.fullmatch(value) is not None:
        return True
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _check_ip(
    d: Draft, i: int, value: str, timestamp: datetime | None, legal_basis: str | None
) -> None:
    if not is_ip_address(value):
        _malformed(d, i, "ip_address", value, legal_basis)
        return
    where = f"targets[{i}]"
    if timestamp is None:
        d.add("TGT_IP_NO_TIMESTAMP", field=where, legal_basis=legal_basis, value=value)
    elif timestamp.tzinfo is None or timestamp.utcoffset() is None:
        d.add("TGT_TIMESTAMP_NO_TIMEZONE", field=where, legal_basis=legal_basis, index=i)
    elif timestamp > d.facts.received_at:
        d.add("TGT_TIMESTAMP_AFTER_RECEIPT", field=where, legal_basis=legal_basis, index=i)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)  # a naive range bound is read as UTC


def check_time_range(d: Draft, *, legal_basis: str | None = None) -> None:
    """Only data stored at receipt can be produced or preserved (Art. 3(8); § 2703(f);
    DSA Art. 10(2)(b) "already collected")."""
    start, end = _utc(d.facts.data_from), _utc(d.facts.data_to)
    received = d.facts.received_at
    if start is not None and end is not None and start > end:
        d.add("RANGE_INVERTED", field="data_to", legal_basis=legal_basis)
    elif start is not None and start >= received:
        d.add("RANGE_AFTER_RECEIPT", field="data_from", legal_basis=legal_basis)
    elif end is not None and end > received:
        d.add(
            "RANGE_TRUNCATED",
            field="data_to",
            legal_basis=legal_basis,
            received_at=received.isoformat(),
        )


def check_language(d: Draft, *, legal_basis: str | None = None) -> None:
    """§12.7: an undeclared language goes to human review, never to an automatic refusal."""
    language = d.facts.language.strip().lower()
    declared = d.config.declared_languages
    if language and language not in declared and language.split("-")[0] not in declared:
        d.add(
            "LANG_NOT_DECLARED",
            field="language",
            legal_basis=legal_basis,
            language=language,
            declared=", ".join(declared),
        )


def check_confidentiality(d: Draft, *, legal_basis: str | None = None) -> None:
    if d.facts.confidential and not d.facts.confidentiality_reason.strip():
        d.add("CONF_REASON_MISSING", field="confidentiality_reason", legal_basis=legal_basis)


def judicial_order(d: Draft) -> bool:
    """Issued, or validated/signed, by a judge, court or investigating judge."""
    validation = d.facts.validation
    return d.facts.issuer.authority_type in v.JUDICIAL or (
        validation is not None and validation.authority_type in v.JUDICIAL
    )
