"""Automatic validation of a request by the jurisdiction rules (``requests_app.rules``).

The pure engine does the structural checks too (identifiers, time range, required elements
per instrument, links to earlier orders), so one decision carries every finding.

Called by the Celery tasks; idempotent. A drain takes a new request from the queue of those
waiting in ``received`` (``validation_queue``, ``validate_next_pending``); a re-validation and
the stuck-request sweeper name their request (``request_validate``). Either way every delivery
first locks the request row. The first delivery of a new request (``received``, never
claimed, and the first to find it so: a Redis counter per request, ``_count_try``) claims,
assesses and decides under that one lock in one transaction: received → validating is
audited, and both moves are written in one UPDATE with the decision (issue 9 item 5). A copy
delivered meanwhile waits for the lock and then finds the request decided. A worker killed in
that transaction leaves nothing behind but the counter, which a rollback cannot undo: the
redelivery finds the request still ``received`` with the counter past one.

Every other delivery (a redelivery after a crash or a failure, a re-validation after a
clarification, the embedded mode on SQLite, Redis unreachable) takes the durable path: it
claims the request (``received`` → ``validating``, the attempt counted) in one transaction,
assesses it outside any lock (the rules are pure), then stores the decision, the deadlines
(timers) and the move in a second transaction, after checking the request is still
``validating`` (a withdrawal may have happened meanwhile). A worker killed between the two
leaves the request in ``validating``; the sweeper re-queues it and the task resumes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from audit import trail as audit
from portal import compiled

from .. import notifications, timers
from ..api.throttling import redis_client
from ..codec import facts_from_request
from ..models import CallbackOutcome, LegalRequest, MessageKind
from ..provider import config_fingerprint, provider_config
from ..rules import Decision, evaluate, restart_after_clarification
from ..rules.proposal import draft_annex_iii
from ..states import LINKED_INSTRUMENTS, Instrument, Status
from ..workflow import (
    DECIDED_BY_A_PERSON,
    WORK_STATES,
    allowed_targets,
    lock_next,
    lock_request,
    needs_callback,
    relock,
    transition,
)
from .automatic_clarification import clarification_annex_iii

log = logging.getLogger(__name__)

# After this many claims the request goes to a human instead of looping on a poison message.
MAX_ATTEMPTS = 5

# Namespace of the session advisory locks that mark a validation in progress ("LRV"), above
# the 32-bit keys used elsewhere (poll_mailbox, the audit sealer's hashtext).
_IN_PROGRESS_LOCKS = 0x4C5256 << 32


def _in_progress_lock(request_id: int) -> bool:
    """True when no other delivery of this request's validation is between its two transactions.

    With ``acks_late`` a task can be delivered twice (two workers, the outbox relay and its
    sweeper, the stuck-request sweeper): a copy that arrives while another runs must neither
    decide twice nor count as an attempt against ``MAX_ATTEMPTS``. A delivery on the durable
    path holds a PostgreSQL session advisory lock on the request from its claim until after
    its decision (taken under the row lock, so a copy sees either the lock or the request
    decided); the lock goes with its database session if its worker dies (SIGKILL closes the
    socket), so a redelivery after a crash, or a retry after a failure, is a new attempt. The
    first delivery in one transaction needs none: the row lock covers it from claim to decision.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_IN_PROGRESS_LOCKS + int(request_id)])
        return bool(cursor.fetchone()[0])


def _release_in_progress_lock(request_id: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_IN_PROGRESS_LOCKS + int(request_id)])
    except DatabaseError:  # the session is gone, and its lock with it
        log.warning("could not release the validation lock of request %s", request_id, exc_info=True)


# The deliveries that found a request ``received`` under its row lock, counted in Redis (the
# shared cache) per database and request: outside the transaction, so neither a rollback nor a
# SIGKILL undoes a count, and only the very first delivery of a request reads 1. Kept a week
# (a request is decided or swept long before); a lost key only makes the next delivery count as
# a first again (the decision is still once: the row lock and the state decide that).
_TRIES_TTL_SECONDS = 7 * 24 * 3600
_tries_down_until = 0.0
# The database's oid, read with the row lock (no round trip of its own): a database created
# again under the same name (a test database) restarts its ids, and must not find old counts.
_DATABASE_OID = RawSQL("(SELECT oid FROM pg_database WHERE datname = current_database())::text", ())


def _count_try(request: LegalRequest) -> int | None:
    """This delivery's number among those that found ``request`` received; None when the count
    cannot be taken (no Redis cache, Redis unreachable: the durable path is taken)."""
    global _tries_down_until
    database = getattr(request, "_database_oid", None)
    backend = caches["default"]  # the backend itself: ``cache`` is a proxy, never a RedisCache
    if database is None or not isinstance(backend, RedisCache) or time.monotonic() < _tries_down_until:
        return None
    key = backend.make_key(f"validation-try:{database}:{request.pk}")
    try:
        client = redis_client(backend, key)
        # The first delivery (nearly every one): one command, the count and its time to live
        # together (a MULTI/INCR/EXPIRE/EXEC pipeline cost the worker ~5 % of its time per request).
        if client.set(key, 1, nx=True, ex=_TRIES_TTL_SECONDS):
            return 1
        # A later one: the key exists and keeps its time to live; one that expired in between is
        # created again by INCR without one, and given it.
        tries = int(client.incr(key))
        if tries == 1:
            client.expire(key, _TRIES_TTL_SECONDS)
        return tries
    except Exception as exc:  # redis ConnectionError, TimeoutError, ...: the durable path
        # Not asked again for a while: an outage costs one failed round trip per process, not per task.
        _tries_down_until = time.monotonic() + settings.THROTTLE_CACHE_RETRY_SECONDS
        log.warning("validation try counter unreachable (%s: %s); durable claims for %ss",
                    type(exc).__name__, exc, settings.THROTTLE_CACHE_RETRY_SECONDS)
        return None


# What a validation reads with the row lock. Relockable: the decision's transaction of the
# durable path locks the row again without reading it back; the submitter is read with it for
# the receipt the task sends (notifications.recipients).
_WITH_THE_LOCK = ("authority", "submitted_by")


def _annotations() -> dict[str, Any] | None:
    if connection.vendor != "postgresql":
        return None
    # The targets read with the lock (``_with_targets``): no round trip of their own.
    return {"_database_oid": _DATABASE_OID, "_targets_rows": compiled.reverse_rows(LegalRequest, "targets")}


def _lock_for_validation(request_id: int) -> LegalRequest | None:
    """The request locked, with what its validation reads; None when there is nothing to do."""
    try:
        request = lock_request(request_id, select_related=_WITH_THE_LOCK, relockable=True, annotate=_annotations())
    except LegalRequest.DoesNotExist:
        return None
    if request.status not in {Status.RECEIVED, Status.VALIDATING}:
        return None
    return _with_targets(request)


def _lock_next_for_validation(skip: set[int]) -> LegalRequest | None:
    """The queue's next request (``_NEXT_PENDING``), locked with what its validation reads, in one
    statement with its pick; None when none waits that no other drain holds."""
    request = lock_next(Status.RECEIVED, order_by=_NEXT_PENDING, skip=skip, select_related=_WITH_THE_LOCK,
                        relockable=True, annotate=_annotations())
    return None if request is None else _with_targets(request)


def _with_targets(request: LegalRequest) -> LegalRequest:
    # The targets are read once, here: the facts and the drafted proposal use the same rows
    # (they change only in clarification_requested, never while validating). The prefetch's
    # statement is compiled once per connection (issue 9 item 5); ``request.targets.all()`` reads
    # these rows.
    if "_targets_rows" in request.__dict__:  # read with the lock (``_annotations``)
        compiled.prefetched_from_rows(request, "targets", request.__dict__.pop("_targets_rows"))
    else:
        compiled.prefetch_reverse(request, "targets")
    return request


def _claim(request: LegalRequest, tries: int | None) -> LegalRequest:
    """The durable claim: the request in ``validating``, the attempt counted (also the
    deliveries that died in a first-delivery transaction, which left only their count)."""
    attempts = {"validation_attempts": max(request.validation_attempts + 1, tries or 0)}
    if request.status == Status.RECEIVED:
        return transition(request, Status.VALIDATING, reason="automatic validation started", extra_fields=attempts)
    request.validation_attempts = attempts["validation_attempts"]
    request.save(update_fields=["validation_attempts", "updated_at"])
    return request


def request_claim_for_validation(*, request_id: int) -> LegalRequest | None:
    """Move a received request to validating (the durable claim, in its own transaction);
    None when there is nothing to do."""
    with transaction.atomic(), audit.batch():  # one unit: the move and its event (no savepoint)
        request = _lock_for_validation(request_id)
        if request is None:
            return None
        return _claim(request, _count_try(request) if request.status == Status.RECEIVED else None)


def _clarified_at(request: LegalRequest) -> datetime | None:
    answer = request.messages.filter(kind=MessageKind.CLARIFICATION_ANSWER).order_by("-created_at", "-pk").first()
    return answer.created_at if answer else None


def assess(request: LegalRequest) -> tuple[Decision, datetime]:
    """The decision for a request and the moment its own response period starts."""
    facts = facts_from_request(request)
    config = provider_config()
    # A clarification can only follow a first decision: skip the look-up on first validation.
    clarified_at = _clarified_at(request) if request.decision is not None else None
    if clarified_at is not None:
        decision = restart_after_clarification(facts, config, clarification_received_at=clarified_at)
    else:
        decision = evaluate(facts, config)
    return decision, clarified_at or request.received_at


_fingerprint: tuple[object, str] | None = None


def _config_fingerprint() -> str:
    """``config_fingerprint()`` of the current provider configuration, computed once per
    configuration (``provider_config()`` returns the same object while the settings stay)."""
    global _fingerprint
    config = provider_config()
    if _fingerprint is None or _fingerprint[0] is not config:
        _fingerprint = (config, config_fingerprint(config))
    return _fingerprint[1]


def decision_record(decision: Decision, request: LegalRequest | None = None,
                    targets: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    record = decision.to_dict()
    record["config_fingerprint"] = _config_fingerprint()
    if request is not None:
        # The engine proposes, a person decides: the drafted Annex III the legal team edits and signs.
        if targets is None:
            targets = [(t.kind, t.value) for t in request.targets.all()]
        record["proposal"] = draft_annex_iii(record, targets)
    return record


def _target(request: LegalRequest, decision: Decision) -> str:
    target = decision.target_status
    if target in DECIDED_BY_A_PERSON:
        # Never a machine-final refusal (DESIGN.md §8): a person decides it from the proposal.
        log.warning("%s: rules asked for %s; sent to review for a person to decide", request.reference, target)
        return _held_if_emergency(request, Status.IN_REVIEW)
    if target not in allowed_targets(request.lifecycle, Status.VALIDATING):
        log.warning("%s: rules asked for %s, not allowed in %s; sent to review", request.reference, target,
                    request.lifecycle)
        target = Status.IN_REVIEW
    return _held_if_emergency(request, target)


def _held_if_emergency(request: LegalRequest, target: str) -> str:
    """An emergency that would be worked waits for its call-back first (the guard in
    workflow.transition refuses anything else)."""
    if target in WORK_STATES and needs_callback(request) and not request.callbacks.filter(
            outcome=CallbackOutcome.CONFIRMED).exists():
        return Status.VERIFICATION_HOLD
    return target


def _apply_follow_up(request: LegalRequest, decision: Decision) -> str | None:
    """Annex VI extends, Annex V confirms, the preservation order they refer to."""
    linked = request.linked_request
    if request.instrument not in LINKED_INSTRUMENTS or linked is None:
        return None
    if decision.route not in {"accepted", "partially_accepted"} or linked.status != Status.PRESERVING:
        return None
    new_expiry = next((d for d in decision.deadlines if d.kind == "preservation_expiry"), None)
    if request.instrument != Instrument.PRODUCTION_CONFIRMATION and new_expiry is None:
        return None
    # The linked order's expiry and its warn/breach/due timers all change.
    timers.cancel(linked, kinds=[timers.TimerKind.PRESERVATION_EXPIRY, timers.TimerKind.PRESERVATION_EXPIRY_NOTICE,
                                 *timers.DEADLINE_KINDS])
    if request.instrument == Instrument.PRODUCTION_CONFIRMATION:
        # Art. 11(2): preserve until the production request is executed; no expiry.
        fields = {"due_at": None, "warn_at": None, "breach_at": None, "hold_until": None,
                  "deadline_explanation": "Held until production (Annex V)."}
        effect = "held_until_production"
    else:
        assert new_expiry is not None
        fields = timers.schedule_deadlines(linked, [new_expiry.to_dict()], start=linked.received_at)
        effect = "preservation_extended"
    LegalRequest.objects.filter(pk=linked.pk).update(**fields)
    audit.record(f"preservation.{effect}", request=linked, authority_id=linked.authority_id,
                 data={"by": request.reference})
    return effect


def request_validate(*, request_id: int) -> LegalRequest | None:
    """Validate one request end to end (the body of the Celery task). None when there was
    nothing to do: already decided, withdrawn, or being validated by another delivery."""
    if connection.vendor != "postgresql":  # embedded mode: one worker thread, the durable path
        request = request_claim_for_validation(request_id=request_id)
        return None if request is None else _validate_claimed(request)
    return _validate(lambda: _lock_for_validation(request_id))


class PendingValidationFailed(Exception):
    """``validate_next_pending`` failed on ``request_id`` (the cause is chained)."""

    def __init__(self, request_id: int) -> None:
        super().__init__(f"validation of request {request_id} failed")
        self.request_id = request_id


# The queue's order: emergencies first, then in order of arrival; the index ``queue_status_urgency``
# (status, emergency DESC, due_at, id) serves it (``due_at`` is not set before the decision). A row
# another transaction locked is skipped, not waited for (``workflow.lock_next``).
_NEXT_PENDING = ("-emergency", "due_at", "pk")


def validate_next_pending(*, skip: set[int] | frozenset[int] = frozenset()) -> int | None:
    """Validate the next request waiting in ``received`` (``validation_queue.drain``), not one
    of ``skip``; its id, None when none waits. Raises ``PendingValidationFailed`` when the
    validation of the request it took raised."""
    if connection.vendor != "postgresql":  # embedded mode: one worker thread takes them in turn
        rows = LegalRequest.objects.filter(status=Status.RECEIVED).exclude(pk__in=skip)
        request_id = rows.order_by(*_NEXT_PENDING).values_list("pk", flat=True).first()
        if request_id is None:
            return None
        try:
            request_validate(request_id=request_id)
        except Exception as exc:
            raise PendingValidationFailed(request_id) from exc
        return request_id
    taken: list[int] = []

    def take() -> LegalRequest | None:
        request = _lock_next_for_validation(set(skip))
        if request is not None:
            taken.append(request.pk)
        return request

    try:
        _validate(take)
    except Exception as exc:
        if not taken:  # the look-up itself failed (the database is gone): the task retries
            raise
        raise PendingValidationFailed(taken[0]) from exc
    return taken[0] if taken else None


def _validate(take: Callable[[], LegalRequest | None]) -> LegalRequest | None:
    """PostgreSQL: validate the request ``take()`` locks inside the first transaction (the one
    named, or the queue's next); None when there was nothing to do."""
    locked = False
    request_id = None
    try:
        with transaction.atomic(), audit.batch():
            request = take()
            if request is None:
                return None
            request_id = request.pk
            tries = _count_try(request) if request.status == Status.RECEIVED else None
            if tries == 1 and request.validation_attempts == 0:
                return _validate_in_one_transaction(request)
            # Taken under the row lock: a delivery between its two transactions holds it.
            locked = _in_progress_lock(request_id)
            if not locked:
                log.info("validation of request %s already in progress elsewhere: duplicate delivery ignored",
                         request_id)
                return None
            claimed = _claim(request, tries)
        return _validate_claimed(claimed)
    finally:
        if locked and request_id is not None:
            _release_in_progress_lock(request_id)


def _validate_in_one_transaction(request: LegalRequest) -> LegalRequest:
    """The first delivery: claimed, assessed and decided under the row lock of the caller's
    transaction. The claim is audited now and written with the decision's move (one UPDATE);
    nothing of it is stored if the worker dies before the commit."""
    claimed = transition(request, Status.VALIDATING, reason="automatic validation started",
                         extra_fields={"validation_attempts": 1}, defer_save=True)
    decision, period_start = assess(claimed)
    return _decide(claimed, decision, period_start, targets=[(t.kind, t.value) for t in claimed.targets.all()])


def _validate_claimed(request: LegalRequest) -> LegalRequest | None:
    """The durable path after its claim's commit: assessed outside any lock, decided in a
    second transaction if the request is still being validated."""
    if request.validation_attempts > MAX_ATTEMPTS:
        return _give_up(request)
    decision, period_start = assess(request)
    # One transaction, its audit events written together at its end (one chain-head lock).
    with transaction.atomic(), audit.batch():
        # The order an Annex V/VI refers to is read with the lock, and only when there is one;
        # otherwise the claimed row is not read again unless another transaction wrote it since.
        current = (lock_request(request, select_related=("linked_request",)) if request.linked_request_id
                   else relock(request))
        if current.status != Status.VALIDATING:
            return None
        return _decide(current, decision, period_start, targets=[(t.kind, t.value) for t in request.targets.all()])


def _decide(current: LegalRequest, decision: Decision, period_start: datetime,
            targets: list[tuple[str, str]]) -> LegalRequest:
    """The decision, its deadlines (timers), the move and its notification, on the locked
    request in ``validating`` (inside the caller's transaction and audit batch)."""
    record = decision_record(decision, current, targets=targets)
    audit.record("request.validated", request=current, authority_id=current.authority_id, data={
        "route": decision.route, "codes": list(decision.codes()), "rulebook_version": decision.rulebook_version,
    })
    if current.decision is not None:  # re-validation: the previous round's timers are replaced
        fields = timers.reschedule_deadlines(current, record["deadlines"], start=period_start,
                                             keep=[timers.TimerKind.PRESERVATION_EXPIRY])
    else:
        fields = timers.schedule_deadlines(current, record["deadlines"], start=period_start)
    target = _target(current, decision)
    effect = _apply_follow_up(current, decision)
    if effect:
        target, fields["resolution"] = Status.CLOSED, effect
    moved = transition(current, target, reason=f"automatic validation: {decision.route}",
                       extra_fields={"decision": record, **fields})
    if target == Status.CLARIFICATION_REQUESTED:
        # Art. 10(6): the clarification is asked with Annex III, copied to a notified enforcing authority.
        clarification_annex_iii(moved, record)
        notifications.enqueue("notify.clarification_requested", request=moved)
    else:
        # A proposed refusal is the legal team's to decide: no decision is sent from here.
        notifications.enqueue("notify.new_request", request=moved,
                              payload={"recommendation": record["proposal"]["recommendation"]})
    return moved


def _give_up(request: LegalRequest) -> LegalRequest | None:
    with transaction.atomic():
        current = lock_request(request)
        if current.status != Status.VALIDATING:
            return None
        record = {"route": "clarification_required", "target_status": Status.IN_REVIEW, "findings": [{
            "code": "validation_failed_repeatedly", "severity": "warning", "data_category": None,
            "legal_basis": "", "message": "Automatic validation failed repeatedly; assess manually.",
        }], "verdicts": [], "deadlines": [], "rulebook_version": "n/a"}
        target = _held_if_emergency(current, Status.IN_REVIEW)
        record["target_status"] = target
        notifications.enqueue("notify.new_request", request=current)
        return transition(current, target, reason="automatic validation failed repeatedly",
                          extra_fields={"decision": record})


def request_check(*, actor: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The decision for a validated request body, stored nowhere (``POST .../check/`` and the
    portal form's live check). The issuer comes from the actor's verified authority."""
    from .. import codec
    from ..access import visible_requests
    from ..rules import evaluate

    linked = None
    if data.get("linked_reference"):
        linked = visible_requests(actor).filter(reference=data["linked_reference"]).first()
    facts = codec.facts(data, authority=actor.authority, received_at=timezone.now(), linked=linked)
    return evaluate(facts, provider_config()).to_dict()
