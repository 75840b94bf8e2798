"""States are data: one transition table per lifecycle and one guarded ``transition()``.

Nothing else assigns ``LegalRequest.status`` (DESIGN.md §4.2). A move not in the table of
the request's lifecycle is refused with ``TransitionNotAllowed`` and leaves no trace.
Guards hold the preconditions no caller may skip: a person of the legal team (never an
automatic actor) for every non-execution, refusal or reroute, four eyes before approval and release,
the emergency call-back before an emergency request leaves ``verification_hold``, and the
enforcing authority's window before release (``docs/workflow.md`` draws the tables).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from audit import trail as audit
from portal import compiled

from . import report_facts
from .models import LegalRequest
from .states import TERMINAL_STATES, Lifecycle, Status

S = Status

# Moves every lifecycle shares: intake, validation, clarification (Annex III), refusal.
_COMMON: dict[str, set[str]] = {
    S.RECEIVED: {S.VALIDATING},
    # Validation brings a request only into review or clarification (and, per lifecycle,
    # verification): a person decides every refusal (no machine-final refusal, DESIGN.md §8).
    S.VALIDATING: {S.IN_REVIEW, S.CLARIFICATION_REQUESTED},
    S.CLARIFICATION_REQUESTED: {S.VALIDATING, S.NOT_EXECUTED},
    S.IN_REVIEW: {S.CLARIFICATION_REQUESTED, S.NOT_EXECUTED, S.REFUSED, S.REROUTED},
}
# Moves of the lifecycles that end in a disclosure reviewed by two people.
_DISCLOSURE: dict[str, set[str]] = {
    S.IN_REVIEW: {S.APPROVED},
    S.APPROVED: {S.PRODUCED, S.IN_REVIEW},  # back to review if the approval is withdrawn
    S.PRODUCED: {S.CLOSED},
}

# An emergency in any lifecycle waits in the verification hold for the call-back.
_HOLD: dict[str, set[str]] = {
    S.VALIDATING: {S.VERIFICATION_HOLD},
    S.VERIFICATION_HOLD: {S.IN_REVIEW, S.REFUSED},
}


def _table(*parts: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    moves: dict[str, set[str]] = {}
    for part in (_COMMON, *parts):
        for state, targets in part.items():
            moves.setdefault(state, set()).update(targets)
    # The authority may withdraw any open request until the data have been produced.
    for state in Status.values:
        if state not in TERMINAL_STATES and state != S.PRODUCED:
            moves.setdefault(state, set()).add(S.WITHDRAWN)
    return {state: frozenset(targets) for state, targets in moves.items()}


TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    # EPOC (Reg. (EU) 2023/1543 Art. 10): 10 days, 8 hours in emergencies. Traffic and
    # content wait for the enforcing authority's 10 days unless it confirms earlier; its
    # ground for refusal refuses (Art. 8, 10(2), 12). An emergency waits for the call-back.
    # The provider may object for conflicting third-country law (Art. 17).
    Lifecycle.PRODUCTION: _table(
        _DISCLOSURE,
        {
            S.VALIDATING: {S.AWAITING_ENFORCING_AUTHORITY, S.VERIFICATION_HOLD},
            S.VERIFICATION_HOLD: {S.IN_REVIEW, S.AWAITING_ENFORCING_AUTHORITY, S.REFUSED},
            S.AWAITING_ENFORCING_AUTHORITY: {S.IN_REVIEW, S.REFUSED},
            S.IN_REVIEW: {S.OBJECTION_FILED},
            S.OBJECTION_FILED: {S.IN_REVIEW, S.NOT_EXECUTED},
        },
    ),
    # EPOC-PR (Art. 11): preserve 60 days, +30 once (Annex VI), or until production after
    # Annex V; US 2703(f): 90 days + one 90-day renewal. Annex V/VI requests are their own
    # rows: once applied to the order they refer to, they close.
    Lifecycle.PRESERVATION: _table(
        {
            S.VALIDATING: {S.PRESERVING, S.VERIFICATION_HOLD, S.CLOSED},
            S.VERIFICATION_HOLD: {S.PRESERVING, S.IN_REVIEW, S.REFUSED},
            S.IN_REVIEW: {S.PRESERVING, S.CLOSED},
            S.PRESERVING: {S.RELEASED},
        }
    ),
    # DSA Art. 9/10: check the order, give effect, inform the authority of the effect.
    Lifecycle.DSA: _table(_DISCLOSURE, _HOLD),
    # US process (18 U.S.C. § 2703): review, approve, produce; objection if we contest.
    Lifecycle.US_PROCESS: _table(
        _DISCLOSURE,
        _HOLD,
        {S.IN_REVIEW: {S.OBJECTION_FILED}, S.OBJECTION_FILED: {S.IN_REVIEW, S.NOT_EXECUTED}},
    ),
    # Voluntary emergency disclosure (18 U.S.C. § 2702(c)(4), provider policy): always held
    # until a call-back to the authority's registry number confirms it (security.md §1.6).
    Lifecycle.EMERGENCY: _table(
        _DISCLOSURE,
        {
            S.VALIDATING: {S.VERIFICATION_HOLD},
            S.VERIFICATION_HOLD: {S.IN_REVIEW, S.REFUSED},
        },
    ),
}


class TransitionGuardFailed(Exception):
    """The move is in the table, but its precondition does not hold."""

    def __init__(self, request: LegalRequest, target: str, reason: str) -> None:
        self.current = request.status
        self.target = target
        self.reason = reason
        super().__init__(f"{request.reference}: cannot move from {request.status} to {target}: {reason}")


def _has_confirmed_callback(request: LegalRequest) -> bool:
    return request.callbacks.filter(outcome="confirmed").exists()


# States that close a request against the authority: only a person of the legal team enters
# them (the engine recommends, a person decides; Art. 10(4)-(5), 11(3)-(4) and Annex III of
# Reg. (EU) 2023/1543 leave the non-execution to the addressee, i.e. to a person).
DECIDED_BY_A_PERSON = frozenset({S.NOT_EXECUTED, S.REFUSED, S.REROUTED})


def is_person(actor: Any) -> bool:
    """A signed-in, active member of the provider's legal team (not a task, timer or shell)."""
    from .permissions import is_reviewer

    return bool(actor is not None and getattr(actor, "pk", None) is not None and is_reviewer(actor))



# States in which a request is being worked towards preservation or disclosure. An emergency
# reaches none of them without a confirmed call-back, whatever path it took (failed
# validation, a fallback route, an ``emergency_disclosure`` sent with ``emergency: false``).
WORK_STATES = frozenset({S.IN_REVIEW, S.AWAITING_ENFORCING_AUTHORITY, S.PRESERVING, S.OBJECTION_FILED,
                         S.APPROVED, S.PRODUCED})
CALLBACK_BASIS = "18 U.S.C. § 2702(c)(4); OWASP ASVS 2.3.5 (out-of-band verification)"


def needs_callback(request: LegalRequest) -> bool:
    """An emergency request, or any request of the voluntary emergency-disclosure lifecycle."""
    return bool(request.emergency) or request.lifecycle == Lifecycle.EMERGENCY



def _guard(request: LegalRequest, target: str, actor: Any = None) -> str | None:
    """Preconditions that no caller (admin, shell, task) can skip. None when the move may go."""
    if target in DECIDED_BY_A_PERSON and not is_person(actor):
        return "only a member of the legal team may decide a non-execution, refusal or reroute"
    leaving_hold = request.status == S.VERIFICATION_HOLD and target in {
        S.IN_REVIEW, S.PRESERVING, S.AWAITING_ENFORCING_AUTHORITY
    }
    if leaving_hold and not _has_confirmed_callback(request):
        return "an emergency request needs a confirmed call-back to the authority's registry number"
    if target in WORK_STATES and needs_callback(request) and not _has_confirmed_callback(request):
        return (f"an emergency request needs a confirmed call-back to the authority's registry number "
                f"({CALLBACK_BASIS})")
    if target == S.APPROVED:
        if not request.responses.filter(approval__isnull=False, released_at__isnull=True).exists():
            return "no second member of the legal team has approved the response (four eyes)"
        if request.emergency and not _has_confirmed_callback(request):
            return "an emergency request needs a confirmed call-back before release"
    if target == S.PRODUCED and request.status == S.APPROVED:
        if not request.responses.filter(released_at__isnull=False, approval__isnull=False).exists():
            return "no approved response package has been released"
        if request.hold_until and timezone.now() < request.hold_until:
            return f"data may not be released before {request.hold_until:%Y-%m-%d %H:%M} UTC"
    return None


class TransitionNotAllowed(Exception):
    def __init__(self, request: LegalRequest, target: str) -> None:
        self.current = request.status
        self.target = target
        super().__init__(f"{request.reference}: cannot move from {request.status} to {target}")


def allowed_targets(lifecycle: str, status: str) -> frozenset[str]:
    return TRANSITIONS[lifecycle].get(status, frozenset())


def lock_request(request_or_pk: LegalRequest | int, *, select_related: tuple[str, ...] = (),
                 relockable: bool = False, annotate: dict[str, Any] | None = None) -> LegalRequest:
    """Lock the request row (``SELECT ... FOR UPDATE`` of that row only) in the caller's open
    transaction and return the fresh instance, marked as locked for ``transition()``.

    ``relockable``: the instance also remembers this transaction's id (PostgreSQL), so that a
    later transaction can lock the row again with ``relock`` without reading it back when
    nothing but this transaction wrote it since. ``annotate``: expressions read with the row
    (attributes of the instance), no round trip of their own."""
    connection = _open_transaction("lock_request")
    pk = request_or_pk if isinstance(request_or_pk, int) else request_or_pk.pk
    xact = relockable and connection.vendor == "postgresql"

    def rows(key: int) -> Any:
        return _locking(select_related, xact, annotate).filter(pk=key)

    # The same statement for every call of a shape: compiled once per connection (issue 9 item 5).
    shape = (tuple(select_related), xact, tuple(annotate.items()) if annotate else ())
    locked = compiled.get(LegalRequest, shape, pk, rows)
    locked._row_locked = True  # type: ignore[attr-defined]
    return locked


def lock_next(status: str, *, order_by: tuple[str, ...], skip: Iterable[int] = (),
              select_related: tuple[str, ...] = (), relockable: bool = False,
              annotate: dict[str, Any] | None = None) -> LegalRequest | None:
    """The first request in ``status`` by ``order_by``, not one of ``skip``, that no other
    transaction holds: locked (``FOR UPDATE SKIP LOCKED`` of that row only) in the caller's
    transaction and returned as ``lock_request`` returns it; None when there is none. One
    statement for a queue's pick and the lock of what it picked (the validation queue took the
    id, then locked and read the row: a round trip per request, issue 9 item 5). PostgreSQL only
    (SKIP LOCKED; the embedded mode has one worker thread and takes its next by id)."""
    connection = _open_transaction("lock_next")
    xact = relockable and connection.vendor == "postgresql"

    def rows(excluded: list[int]) -> Any:
        # ``= ANY`` of one array parameter: one text whatever the number of ids skipped.
        return (_locking(select_related, xact, annotate, skip_locked=True).filter(status=status)
                .extra(where=[_NOT_ANY_ID], params=[excluded])  # noqa: S610 (a constant text; the ids are a parameter)
                .order_by(*order_by))

    shape = ("next", status, order_by, tuple(select_related), xact, tuple(annotate.items()) if annotate else ())
    locked = compiled.first_locked(LegalRequest, shape, sorted(skip), rows)
    if locked is not None:
        locked._row_locked = True  # type: ignore[attr-defined]
    return locked


def _open_transaction(caller: str) -> Any:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError(f"{caller} needs the caller's transaction (transaction.atomic())")
    return connection


def _locking(select_related: tuple[str, ...], xact: bool, annotate: dict[str, Any] | None,
             skip_locked: bool = False) -> Any:
    rows = LegalRequest.objects.select_for_update(of=("self",), skip_locked=skip_locked).select_related(
        *select_related)
    if xact:
        # The row lock assigns the transaction an id anyway; reading it costs no round trip.
        rows = rows.annotate(_locking_xact=_LOCKING_XACT)
    if annotate:
        rows = rows.annotate(**annotate)
    return rows


_NOT_ANY_ID = f'NOT ("{LegalRequest._meta.db_table}"."id" = ANY(%s))'
_LOCKING_XACT = RawSQL("pg_current_xact_id()::text", ())


# No ORM here: the statement is the whole cost of the relock, so it is not compiled per call.
_RELOCK_SQL = 'SELECT xmin::text FROM "requests_app_legalrequest" WHERE id = %s FOR UPDATE'


def relock(request: LegalRequest) -> LegalRequest:
    """Lock again, in a new transaction, a request that ``lock_request(relockable=True)``
    locked in an earlier, committed one; return ``request`` itself when no other transaction
    has written the row since, else the row read afresh (``lock_request``).

    The row's ``xmin`` (the transaction that wrote its current version) is compared with the
    transaction that held the earlier lock: equal means every column is as that transaction
    left it, so the wide row is not read twice (issue 9 item 5). Any other writer (a service's
    save, a queryset ``update()``, a trigger of another transaction) gives the row a new
    ``xmin``, whatever the clock says. Only the columns that transaction wrote through the
    instance are in it: the derived report facts its own audit events set by trigger
    (``LegalRequest.DERIVED_FIELDS``) may be older in memory; nothing that relocks reads them,
    and a save never writes them back."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("relock needs the caller's transaction (transaction.atomic())")
    xact = getattr(request, "_locking_xact", None)
    if xact is None or connection.vendor != "postgresql":
        return lock_request(request.pk)
    with connection.cursor() as cursor:
        cursor.execute(_RELOCK_SQL, [request.pk])
        row = cursor.fetchone()
    if row is None:
        raise LegalRequest.DoesNotExist(f"request {request.pk} no longer exists")
    if int(row[0]) != int(xact) % 2**32:  # xmin is the 32-bit transaction id
        return lock_request(request.pk)
    request._row_locked = True  # type: ignore[attr-defined]
    return request


def is_locked(request: LegalRequest) -> bool:
    """``request`` came from ``lock_request`` (within a transaction still open)."""
    return bool(getattr(request, "_row_locked", False)) and transaction.get_connection().in_atomic_block


def transition(
    request: LegalRequest,
    target: str,
    *,
    actor: Any = None,
    reason: str = "",
    resolution: str = "",
    data: dict[str, Any] | None = None,
    extra_fields: dict[str, Any] | None = None,
    ip_address: str | None = None,
    defer_save: bool = False,
) -> LegalRequest:
    """Move the locked ``request`` to ``target`` if its lifecycle allows it; return it.

    The caller locks the row once (``lock_request``) in its open transaction and passes that
    instance; nothing is read or locked again here. The table and the guards are checked
    before anything is written, so a refusal leaves the caller's transaction usable; then the
    row is saved with ``update_fields`` and the audit event written. ``extra_fields`` are
    saved with the move (decision, due_at, ...).

    ``defer_save`` (inside ``audit.batch()`` only): the move is checked, made on the instance
    and audited as usual, but its columns are written with the next ``transition`` of the same
    instance, in one UPDATE for both moves (the first delivery of a validation: received →
    validating → its outcome, issue 9 item 5). Should no move follow, the batch writes them
    before its events (``audit.before_events``): no event is stored without its move, and
    none of them if the transaction rolls back.
    """
    if not is_locked(request):
        raise RuntimeError("transition() needs the row locked by workflow.lock_request() in the open transaction")
    if defer_save and not audit.batching():
        raise RuntimeError("transition(defer_save=True) needs an open audit.batch()")
    _check(request, target, actor)
    # No state change without its audit event: a savepoint, so that a caller catching a failure
    # here can carry on with its transaction, nothing of the move written. Inside an audit batch
    # (the event is written at the end of the caller's transaction, not here) the caller's
    # transaction is the unit and a failure here fails it: no savepoint, two round trips fewer
    # (issue 9 item 5). The refusals above are raised before anything is written either way.
    with transaction.atomic(savepoint=not audit.batching()):
        return _apply(request, target, actor, reason, resolution, data, extra_fields, ip_address, defer_save)


def _check(request: LegalRequest, target: str, actor: Any = None) -> None:
    if target not in allowed_targets(request.lifecycle, request.status):
        raise TransitionNotAllowed(request, target)
    refusal = _guard(request, target, actor)
    if refusal:
        raise TransitionGuardFailed(request, target, refusal)


def _apply(request: LegalRequest, target: str, actor: Any, reason: str, resolution: str,
           data: dict[str, Any] | None, extra_fields: dict[str, Any] | None, ip_address: str | None,
           defer_save: bool = False) -> LegalRequest:
    previous = request.status
    request.status = target
    request.status_changed_at = timezone.now()
    fields = ["status", "status_changed_at", "updated_at"]
    if resolution or target in TERMINAL_STATES:
        request.resolution = resolution or target
        fields.append("resolution")
    for name, value in (extra_fields or {}).items():
        setattr(request, name, value)
        fields.append(name)
    # The report's first times in this UPDATE, not in a second one from the audit trigger (issue 9 item 5).
    fields += report_facts.written_with_move(request, target)
    unsaved: list[str] | None = getattr(request, "_unsaved_move", None)
    if defer_save:
        if unsaved is None:
            request._unsaved_move = unsaved = []  # type: ignore[attr-defined]
        unsaved.extend(f for f in fields if f not in unsaved)
        audit.before_events(lambda: _save_unsaved_move(request))
    else:
        if unsaved:  # a deferred move of this transaction: written with this one
            fields = [*unsaved, *(f for f in fields if f not in unsaved)]
            unsaved.clear()
        request.save(update_fields=fields)
    audit.record(
        "request.status_changed",
        actor=actor,
        request=request,
        data={"from": previous, "to": target, "reason": reason, **(data or {})},
        ip_address=ip_address,
        authority_id=request.authority_id,
    )
    return request


def _save_unsaved_move(request: LegalRequest) -> None:
    """A deferred move no later move wrote: stored before the batch writes its events."""
    unsaved: list[str] | None = getattr(request, "_unsaved_move", None)
    request._unsaved_move = None  # type: ignore[attr-defined]
    if unsaved:
        request.save(update_fields=unsaved)


# --- documentation ------------------------------------------------------------------------

_INTRO = """# Workflow

Generated by `manage.py workflow_docs` from `requests_app/workflow.py` (`TRANSITIONS`); a test
fails when this file and the tables disagree. Every request follows the lifecycle of its
instrument. Every state except the terminal ones may also move to `withdrawn` (the
authority withdraws); those arrows are left out of the diagrams for readability.

Guards that no caller can skip (the admin, the API, a task or a shell):

- `not_executed`, `refused` and `rerouted` are entered only by a member of the legal team
  (an actor with the reviewer role): the validation task, the timers and any other automatic
  actor bring a request into review, verification or clarification, never further; the
  rules engine only proposes a refusal (a drafted Annex III) that a person decides and signs;

- leaving `verification_hold` needs a confirmed call-back to the switchboard number of the
  authority's registry record;
- an emergency (`emergency: true`, or any request of the `emergency` lifecycle) reaches no
  working state (`in_review`, `awaiting_enforcing_authority`, `preserving`, `objection_filed`,
  `approved`, `produced`) without a confirmed call-back, whatever path it took; validation
  sends it to `verification_hold` (18 U.S.C. § 2702(c)(4); OWASP ASVS 2.3.5);
- `approved` needs a response package approved by a second member of the legal team who
  did not prepare it (four eyes; the database refuses such an approval too);
- `approved` → `produced` needs the released package and the end of any hold (the
  enforcing authority's window).
"""


def render_markdown() -> str:
    from .states import LIFECYCLE_OF_INSTRUMENT

    parts = [_INTRO]
    for lifecycle, table in TRANSITIONS.items():
        instruments = sorted(i for i, lc in LIFECYCLE_OF_INSTRUMENT.items() if lc == lifecycle)
        parts.append(f"\n## {Lifecycle(lifecycle).label} (`{lifecycle}`)\n")
        parts.append("Instruments: " + ", ".join(f"`{i}`" for i in instruments) + ".\n")
        parts.append("```mermaid\nstateDiagram-v2")
        parts.append("    [*] --> received")
        for state in Status.values:
            for target in sorted(table.get(state, ())):
                if target != S.WITHDRAWN:
                    parts.append(f"    {state} --> {target}")
        for state in sorted(TERMINAL_STATES):
            if any(state in targets for targets in table.values()):
                parts.append(f"    {state} --> [*]")
        parts.append("```\n")
    return "\n".join(parts)
