"""Output of the engine: a frozen, JSON-serialisable decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import Any, cast

ParamValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation about a request.

    ``code`` is stable (the Django side translates by code, using ``message_params``);
    ``message`` is the English text. ``legal_basis`` names the deciding article;
    ``annex_iii_reason`` is the Annex III box to tick when the finding goes to the issuing
    authority; ``field`` names the request field concerned (``targets[2]``, ``offence``...).
    """

    code: str
    severity: str  # error | warning | info
    legal_basis: str
    message: str
    data_category: str | None = None
    message_params: dict[str, ParamValue] = dc_field(default_factory=dict, hash=False)
    annex_iii_reason: str | None = None
    field: str | None = None
    rule_id: str | None = None  # row of domain.md §6 (R1-R24), where one applies

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "data_category": self.data_category,
            "legal_basis": self.legal_basis,
            "message": self.message,
            "message_params": dict(self.message_params),
            "annex_iii_reason": self.annex_iii_reason,
            "field": self.field,
            "rule_id": self.rule_id,
        }


@dataclass(frozen=True, slots=True)
class CategoryVerdict:
    """Whether the law lets us disclose/preserve one requested data category.

    ``reason_code`` is ``"allowed"`` or the code of the first error finding that blocks it.
    """

    data_category: str
    allowed: bool
    reason_code: str
    rule_id: str | None = None
    legal_basis: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "data_category": self.data_category,
            "allowed": self.allowed,
            "reason_code": self.reason_code,
            "rule_id": self.rule_id,
            "legal_basis": self.legal_basis,
        }


@dataclass(frozen=True, slots=True)
class TargetVerdict:
    """Whether one identifier of the request can be acted on (partial execution per target).

    ``index`` is the position in ``RequestFacts.targets``; ``reason_code`` is ``"allowed"``
    or the code of the first error finding about this target. One malformed target never
    suspends the valid ones (they keep the order's deadline).
    """

    index: int
    kind: str
    allowed: bool
    reason_code: str
    legal_basis: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "allowed": self.allowed,
            "reason_code": self.reason_code,
            "legal_basis": self.legal_basis,
        }


@dataclass(frozen=True, slots=True)
class Deadline:
    """A timer. ``informational`` deadlines change no state by themselves (e.g. the 48 h
    ex-post validation mark); ``not_before`` ones are the earliest moment to act (release at
    the end of the enforcing authority's window)."""

    kind: str
    due_at: datetime  # UTC
    explanation: str
    rule_applied: str  # hours | calendar_days | later_of_calendar_and_reg_1182_71 | internal_sla
    legal_basis: str = ""
    warn_at: datetime | None = None
    informational: bool = False
    not_before: bool = False
    time_zone: str = "UTC"  # the zone the explanation is written in (IANA name)
    # What the deadline is for, as a code, and the parts of ``explanation`` (rule, instants in
    # ISO 8601, counts, zones): the portal translates by these, never by the English text.
    explanation_code: str = ""
    explanation_params: dict[str, ParamValue] = dc_field(default_factory=dict, hash=False)
    # The outer sentence of a deadline that restates another one ("Send Annex III ...: ").
    explanation_prefix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "due_at": self.due_at.isoformat(),
            "explanation": self.explanation,
            "rule_applied": self.rule_applied,
            "legal_basis": self.legal_basis,
            "warn_at": self.warn_at.isoformat() if self.warn_at else None,
            "informational": self.informational,
            "not_before": self.not_before,
            "time_zone": self.time_zone,
            "explanation_code": self.explanation_code,
            "explanation_params": dict(self.explanation_params),
            "explanation_prefix": self.explanation_prefix,
        }


class LazyText:
    """An English text written only when it is first read: most decisions are evaluated
    for their route and instants, and the explanations of candidate deadlines that lose to
    another one are never read (issue 9). ``render(*args)`` must be pure."""

    __slots__ = ("args", "render")

    def __init__(self, render: Callable[..., str], *args: Any) -> None:
        self.render = render
        self.args = args

    def __str__(self) -> str:
        return self.render(*self.args)


def lazy_text(render: Callable[..., str], *args: Any) -> str:
    """A ``Deadline.explanation`` written by ``render(*args)`` when first read (typed as the
    ``str`` it reads as)."""
    return cast(str, LazyText(render, *args))


def _lazy_slot(cls: type, name: str) -> None:
    """Turn the slot ``name`` of a slotted dataclass into a property that renders a stored
    LazyText on first read and keeps the text. Every reader (attribute, ``==``, ``repr``,
    ``replace``, ``asdict``, ``to_dict``) sees the ``str``."""
    slot = cls.__dict__[name]

    def read(self: Any) -> str:
        value = slot.__get__(self, cls)
        if type(value) is LazyText:
            value = str(value)
            slot.__set__(self, value)
        return cast(str, value)

    def write(self: Any, value: object) -> None:  # reached only through object.__setattr__
        slot.__set__(self, value)

    setattr(cls, name, property(read, write, doc=f"{cls.__name__}.{name}, rendered once."))


_lazy_slot(Deadline, "explanation")


@dataclass(frozen=True, slots=True)
class Decision:
    route: str
    verdicts: tuple[CategoryVerdict, ...]
    findings: tuple[Finding, ...]
    deadlines: tuple[Deadline, ...]
    target_status: str
    rulebook_version: str
    targets: tuple[TargetVerdict, ...] = ()

    @property
    def primary_deadline(self) -> Deadline | None:
        """The first deadline that calls for action (the response's ``due_at``)."""
        for deadline in self.deadlines:
            if not deadline.informational:
                return deadline
        return None

    def verdict(self, category: str) -> CategoryVerdict | None:
        for verdict in self.verdicts:
            if verdict.data_category == category:
                return verdict
        return None

    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        primary = self.primary_deadline
        return {
            "route": self.route,
            "target_status": self.target_status,
            "rulebook_version": self.rulebook_version,
            "verdicts": [v.to_dict() for v in self.verdicts],
            "categories": [v.to_dict() for v in self.verdicts],
            "targets": [t.to_dict() for t in self.targets],
            "findings": [f.to_dict() for f in self.findings],
            "deadlines": [d.to_dict() for d in self.deadlines],
            "due_at": primary.due_at.isoformat() if primary else None,
            "deadline_explanation": primary.explanation if primary else "",
        }
