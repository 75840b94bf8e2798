"""How authentic an inbound message is, as data (issue 12 item 3).

Three independent facts, none of which is trust on its own:

- **DKIM**, verified here with dkimpy, one result per ``DKIM-Signature``. The DNS lookup is
  injectable (``dnsfunc``, dkimpy's own argument) so tests sign with keys they generate.
- **SPF, DMARC, ARC** as the provider's receiving server saw them: its
  ``Authentication-Results`` header (RFC 8601), parsed with authres. Only the *topmost* header
  carrying the configured authserv-id (``MAILBOX_AUTHSERV_ID``) counts: that server adds its
  header on top; a header with the same id further down was written by someone else (the
  sender can write any header) and is flagged ``auth_results_forged``.
- **Alignment**: whether the ``From`` domain is authenticated (DMARC pass, or a passing DKIM
  signature of the same organisational domain, relaxed alignment of RFC 7489 §3.1.1
  approximated by a label suffix match) and belongs to a verified authority.

A hacked police mailbox passes all three: the verdicts inform the legal team, they never
replace the call-back (issue 12 item 3, security.md "hacked police mailboxes").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import authres
import authres.arc
import authres.dmarc
import dkim

DnsFunc = Callable[..., bytes | None]

_AR_CONTEXT = authres.FeatureContext(authres.dmarc, authres.arc)


@dataclass(frozen=True)
class DkimVerdict:
    domain: str
    selector: str
    result: str  # pass | fail | permerror
    aligned: bool
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "selector": self.selector, "result": self.result,
                "aligned": self.aligned, "error": self.error}


@dataclass(frozen=True)
class AuthResults:
    trusted: bool = False  # a header of the trusted server was found (topmost)
    spf: str = ""
    dmarc: str = ""
    arc: str = ""
    forged: bool = False  # another header claims the trusted authserv-id


@dataclass
class Authenticity:
    dkim: list[DkimVerdict] = field(default_factory=list)
    results: AuthResults = field(default_factory=AuthResults)

    @property
    def dkim_aligned_pass(self) -> bool:
        return any(v.result == "pass" and v.aligned for v in self.dkim)

    @property
    def from_authenticated(self) -> bool:
        """The From domain is the sender's own: DMARC passed, or (no DMARC verdict) aligned DKIM passed."""
        if self.results.dmarc:
            return self.results.dmarc == "pass"
        return self.dkim_aligned_pass


def aligned(signing_domain: str, from_domain: str) -> bool:
    """Relaxed alignment (RFC 7489 §3.1.1), approximated without the public suffix list:
    one domain equals the other or is a subdomain of it, and the shorter has at least two labels."""
    a, b = signing_domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    if not a or not b:
        return False
    shorter = a if len(a) <= len(b) else b
    if shorter.count(".") < 1:
        return False
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def verify_dkim(raw: bytes, from_domain: str, *, dnsfunc: DnsFunc | None = None) -> list[DkimVerdict]:
    """One verdict per DKIM-Signature header, in header order."""
    try:
        checker = dkim.DKIM(raw)
        count = sum(1 for name, _ in checker.headers if name.lower() == b"dkim-signature")
    except Exception as exc:  # unparsable header block
        return [DkimVerdict("", "", "permerror", False, f"{type(exc).__name__}")] if b"DKIM-Signature" in raw else []
    verdicts = []
    for index in range(count):
        checker = dkim.DKIM(raw)
        error = ""
        try:
            ok = checker.verify(idx=index, dnsfunc=dnsfunc) if dnsfunc else checker.verify(idx=index)
            result = "pass" if ok else "fail"
        except dkim.ValidationError as exc:
            # A body that no longer matches its hash was altered: the signature fails (RFC 8601 §2.7.1).
            result = "fail" if "body hash mismatch" in str(exc) else "permerror"
            error = str(exc)[:200]
        except dkim.DKIMException as exc:
            result, error = "permerror", str(exc)[:200]
        except Exception as exc:  # DNS failure and the like: not the sender's fault, not a pass
            result, error = "temperror", f"{type(exc).__name__}: {exc}"[:200]
        domain = _text(checker.domain)
        selector = _text(checker.selector) if checker.domain else ""
        verdicts.append(DkimVerdict(domain, selector, result, aligned(domain, from_domain), error))
    return verdicts


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return str(value or "")


def parse_auth_results(message: Message, authserv_id: str) -> AuthResults:
    """SPF, DMARC and ARC from the topmost Authentication-Results of ``authserv_id``."""
    if not authserv_id:
        return AuthResults()
    headers = [str(v) for v in (message.get_all("Authentication-Results") or [])]
    found: AuthResults | None = None
    forged = False
    for index, value in enumerate(headers):
        try:
            parsed = _AR_CONTEXT.parse_value(" ".join(value.split()))
        except Exception:
            if authserv_id.lower() in value.lower():
                forged = forged or index > 0
            continue
        if str(parsed.authserv_id).lower() != authserv_id.lower():
            continue
        if index == 0 and found is None:
            found = _results(parsed)
        else:
            forged = True
    if found is None:
        return AuthResults(forged=forged)
    return AuthResults(trusted=True, spf=found.spf, dmarc=found.dmarc, arc=found.arc, forged=forged)


def _results(parsed: Any) -> AuthResults:
    values: dict[str, str] = {}
    for result in parsed.results:
        method = str(result.method).lower()
        if method in {"spf", "dmarc", "arc"} and method not in values:
            values[method] = str(result.result).lower()[:16]
    return AuthResults(trusted=True, spf=values.get("spf", ""), dmarc=values.get("dmarc", ""),
                       arc=values.get("arc", ""))


def assess(raw: bytes, message: Message, from_domain: str, *, authserv_id: str,
           dnsfunc: DnsFunc | None = None) -> Authenticity:
    return Authenticity(dkim=verify_dkim(raw, from_domain, dnsfunc=dnsfunc),
                        results=parse_auth_results(message, authserv_id))
