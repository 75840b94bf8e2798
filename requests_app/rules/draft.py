"""The mutable working state of one evaluation, turned into a frozen Decision at the end."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from . import vocab as v
from .catalogue import CLARIFY, REFUSE, REROUTE, finding, kind_of
from .config import ProviderConfig
from .model import RequestFacts
from .result import CategoryVerdict, Deadline, Decision, Finding, ParamValue, TargetVerdict

# Order-wide findings of these kinds block every category; order-wide clarifications do not
# (the category stays lawful once the order is completed).
_ORDER_WIDE = frozenset({REROUTE, REFUSE})

# The engine recommends, a person decides (domain.md §13.12): a route that would refuse or
# reroute brings the request into review, where the legal team decides from the drafted
# Annex III; only a clarification (an Annex III asking, not refusing) is sent on its own.
_STATUS_BY_ROUTE = {
    v.REROUTED: v.ST_IN_REVIEW,
    v.NOT_EXECUTABLE: v.ST_IN_REVIEW,
    v.CLARIFICATION_REQUIRED: v.ST_CLARIFICATION_REQUESTED,
}
# States the engine may ask for; anything else (a final state) is never emitted.
AUTOMATIC_TARGETS = frozenset(
    {v.ST_IN_REVIEW, v.ST_CLARIFICATION_REQUESTED, v.ST_VERIFICATION_HOLD, v.ST_AWAITING_EA, v.ST_PRESERVING}
)


class Draft:
    """Collects findings, the basis of each allowed category, deadlines and a status hint.

    ``period_start`` is when our own response period starts: the receipt, or the arrival of
    a clarification (domain.md §12.4). Authority windows always count from the receipt.
    """

    __slots__ = (
        "_errors",
        "_route",
        "_scanned",
        "acts_beyond_data",
        "annex",
        "basis",
        "categories",
        "config",
        "deadlines",
        "facts",
        "findings",
        "period_start",
        "status",
    )

    def __init__(
        self, facts: RequestFacts, config: ProviderConfig, period_start: datetime | None = None
    ) -> None:
        self.facts = facts
        self.config = config
        self.annex = facts.instrument in v.EEVIDENCE_INSTRUMENTS
        self.period_start = period_start or facts.received_at
        self.findings: list[Finding] = []
        self.basis: dict[str, tuple[str | None, list[str]]] = {}
        self.deadlines: list[Deadline] = []
        self.status = v.ST_IN_REVIEW
        # The order asks for an act besides data (DSA Art. 9: act against content): refusing
        # every data category does not refuse the order.
        self.acts_beyond_data = False
        cats = facts.data_categories
        self.categories = _in_order(cats if isinstance(cats, frozenset) else frozenset(cats))
        # The error findings with their kind and target, each read once (see _error_rows),
        # and the last route with what it was computed from.
        self._errors: list[tuple[Finding, str, int | None]] = []
        self._scanned = 0
        self._route: tuple[int, bool, str] | None = None

    # --- recording ---------------------------------------------------------------------
    def add(
        self,
        code: str,
        *,
        category: str | None = None,
        field: str | None = None,
        rule_id: str | None = None,
        legal_basis: str | None = None,
        annex_reason: str | None = None,
        **params: ParamValue,
    ) -> None:
        self.findings.append(
            finding(
                code,
                category=category,
                field=field,
                rule_id=rule_id,
                legal_basis=legal_basis,
                annex=self.annex,
                annex_reason=annex_reason,
                **params,
            )
        )

    def allow(self, category: str, rule_id: str | None, *articles: str) -> None:
        """Record why ``category`` is allowed (rule row and article fragments)."""
        current_rule, parts = self.basis.setdefault(category, (rule_id, []))
        if current_rule is None and rule_id is not None:
            self.basis[category] = (rule_id, parts)
        for article in articles:
            if article not in parts:
                parts.append(article)

    # --- reading -------------------------------------------------------------------------
    def _error_rows(self) -> list[tuple[Finding, str, int | None]]:
        """(finding, kind, target index) of every error finding, in order. Findings are only
        ever appended, so each is read once however often the rules ask (issue 9)."""
        findings = self.findings
        if self._scanned < len(findings):
            for f in findings[self._scanned :]:
                if f.severity == "error":
                    self._errors.append((f, kind_of(f.code), target_index(f)))
            self._scanned = len(findings)
        return self._errors

    def blocked(self, category: str) -> bool:
        return any(f.data_category == category for f, _, _ in self._error_rows())

    def has(self, code: str) -> bool:
        return any(f.code == code for f in self.findings)

    def route(self) -> str:
        """Partial execution (Reg. 2023/1543 Art. 10(8), Annex III [A]): a finding about one
        data category or one target blocks that part only; the valid part keeps its
        deadline. Only when nothing valid is left does the order as a whole go to
        clarification (something to complete) or non-execution."""
        rows = self._error_rows()
        memo = self._route
        if memo is not None and memo[0] == len(rows) and memo[1] == self.acts_beyond_data:
            return memo[2]
        route = self._compute_route(rows)
        self._route = (len(rows), self.acts_beyond_data, route)
        return route

    def _compute_route(self, rows: list[tuple[Finding, str, int | None]]) -> str:
        if not rows:
            return v.ACCEPTED  # nothing blocks a category, a target or the order
        refused: set[str] = set()
        clarified: set[str] = set()
        bad_targets: set[int] = set()
        target_clarify = target_refuse = False
        order_refused = clarify = False
        for f, kind, index in rows:
            if kind == REROUTE:
                return v.REROUTED
            if f.data_category is None and index is not None:
                bad_targets.add(index)
                target_clarify |= kind == CLARIFY
                target_refuse |= kind == REFUSE
            elif kind == REFUSE:
                if f.data_category is None:
                    order_refused = True
                else:
                    refused.add(f.data_category)
            elif kind == CLARIFY:
                if f.data_category is None:
                    clarify = True
                else:
                    clarified.add(f.data_category)
        blocked = refused | clarified
        # An order that acts on content as well (DSA Art. 9) is not void when its data part is.
        all_categories = (bool(self.categories) and blocked.issuperset(self.categories)
                          and not self.acts_beyond_data)
        all_targets = bool(self.facts.targets) and len(bad_targets) >= len(self.facts.targets)
        if order_refused or (all_categories and not clarified - refused):
            return v.NOT_EXECUTABLE
        if all_targets and target_refuse and not target_clarify:
            return v.NOT_EXECUTABLE
        if clarify or all_categories or all_targets:
            return v.CLARIFICATION_REQUIRED
        return v.PARTIALLY_ACCEPTED if blocked or bad_targets else v.ACCEPTED

    # --- result ---------------------------------------------------------------------------
    def decision(self) -> Decision:
        route = self.route()
        rows = self._error_rows()
        verdicts = tuple([self._verdict(c, rows) for c in self.categories])
        deadlines = () if route == v.REROUTED else tuple(self.deadlines)
        return Decision(
            route=route,
            verdicts=verdicts,
            findings=tuple(self.findings),
            deadlines=deadlines,
            target_status=self._target_status(route),
            rulebook_version=v.RULEBOOK_VERSION,
            targets=tuple(
                [self._target_verdict(i, t.kind, rows) for i, t in enumerate(self.facts.targets)]
            ),
        )

    @staticmethod
    def _target_verdict(
        index: int, kind: str, rows: list[tuple[Finding, str, int | None]]
    ) -> TargetVerdict:
        for f, finding_kind, target in rows:
            order_wide = f.data_category is None and finding_kind in _ORDER_WIDE
            if target == index or (order_wide and target is None):
                return TargetVerdict(index, kind, False, f.code, f.legal_basis)
        return _allowed_target(index, kind)

    def _target_status(self, route: str) -> str:
        status = _STATUS_BY_ROUTE.get(route, self.status)
        return status if status in AUTOMATIC_TARGETS else v.ST_IN_REVIEW

    def _verdict(self, category: str, rows: list[tuple[Finding, str, int | None]]) -> CategoryVerdict:
        rule_id, parts = self.basis.get(category, (None, []))
        for f, kind, _ in rows:
            if f.data_category == category or (f.data_category is None and kind in _ORDER_WIDE):
                return CategoryVerdict(category, False, f.code, f.rule_id or rule_id, f.legal_basis)
        return _allowed_category(category, rule_id, tuple(parts))


# Verdicts are frozen values: the allowed ones, few and the same for many requests, are built
# once (issue 9).
@lru_cache(maxsize=1024)
def _allowed_target(index: int, kind: str) -> TargetVerdict:
    return TargetVerdict(index, kind, True, "allowed")


@lru_cache(maxsize=1024)
def _allowed_category(category: str, rule_id: str | None, parts: tuple[str, ...]) -> CategoryVerdict:
    return CategoryVerdict(category, True, "allowed", rule_id, _join(list(parts)))


@lru_cache(maxsize=256)
def _in_order(categories: frozenset[str]) -> tuple[str, ...]:
    """The requested categories in the vocabulary's order (a pure function of the set)."""
    return tuple(c for c in v.CATEGORIES if c in categories)


def target_index(f: Finding) -> int | None:
    """The target a finding is about (``field="targets[2]"`` → 2), or None."""
    where = f.field or ""
    if where.startswith("targets[") and where.endswith("]"):
        inner = where[len("targets[") : -1]
        return int(inner) if inner.isdigit() else None
    return None


def _join(parts: list[str]) -> str:
    """Merge fragments that share a prefix: [reg('4(1)(a)'), reg('5(3)')] → one citation."""
    if not parts:
        return ""
    prefix = v.REG + " Art. "
    if all(p.startswith(prefix) for p in parts):
        return prefix + ", ".join(p[len(prefix) :] for p in parts)
    return "; ".join(parts)
