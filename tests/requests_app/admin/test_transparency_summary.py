"""The transparency report's monthly summary (issue 13 item 6, migration
0027_transparency_monthly_summary): the figures summed from it for a period's whole months, with
the partial months at its ends read from the requests, equal the figures counted request by
request, on randomised fixtures holding the awkward cases (withdrawn after partial production,
extended then released, receipt at midnight in Brussels on the first of a month and one second
before, requests changed, moved and deleted after the fact), for the standard periods and for
custom ranges with partial months at both ends."""

from __future__ import annotations

import importlib
import random
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import trail as audit
from requests_app import reports
from requests_app.models import LegalRequest, Target

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(connection.vendor != "postgresql", reason="the summary is PostgreSQL's")]

STATUSES = ("received", "in_review", "approved", "produced", "withdrawn", "not_executed", "refused", "rerouted",
            "released", "closed", "preserving")
INSTRUMENTS = ("epoc", "epoc_pr", "dsa_removal_order", "dsa_information_order", "us_preservation",
               "national_order")
CATEGORIES: tuple[list[str], ...] = ([], ["subscriber"], ["traffic"], ["subscriber", "traffic"],
                                     ["content", "identification"])


def brussels_midnight(day: date) -> datetime:
    return reports.local_midnight(day).astimezone(UTC)


def _moved(request, *moves: tuple[float, str]) -> None:
    for hours, state in moves:
        with time_machine.travel(request.received_at + timedelta(hours=hours), tick=False):
            audit.record("request.status_changed", request=request, authority_id=request.authority_id,
                         data={"to": state})


def _received_at(rng: random.Random) -> datetime:
    """Anywhere in 2026, or at (one second before) midnight in Brussels on the first of a month."""
    month = rng.randint(1, 12)
    first = brussels_midnight(date(2026, month, 1))
    return rng.choice([first, first - timedelta(seconds=1), first + timedelta(seconds=1),
                       first + timedelta(days=rng.randint(0, 27), minutes=rng.randint(0, 1439))])


@pytest.fixture(params=[3, 17, 2026])
def random_world(request, make_request, make_authority):
    rng = random.Random(request.param)
    german = make_authority(name="Staatsanwaltschaft Köln", country="DE", domains=["sta.koeln.de"])
    made = []
    for _ in range(70):
        instrument = rng.choice(INSTRUMENTS)
        fields = {"received_at": _received_at(rng), "status": rng.choice(STATUSES), "instrument": instrument,
                  "emergency": rng.random() < 0.2, "confidential": rng.random() < 0.2,
                  "data_categories": rng.choice(CATEGORIES)}
        if rng.random() < 0.4:
            fields.update(authority=german, country="DE")
        made.append(make_request(targets=tuple(f"t{i}" for i in range(rng.randint(0, 3))), **fields))
        moves = rng.choice([(), ((2, "in_review"),), ((2, "in_review"), (30, "approved"), (31, "produced")),
                            ((1, "preserving"),), ((1, "preserving"), (600, "released"))])
        _moved(made[-1], *moves)
    # Withdrawn after a partial production; extended, then released (the extension applied to it).
    withdrawn = make_request(received_at=brussels_midnight(date(2026, 5, 1)), status="in_review",
                             data_categories=["subscriber", "traffic"], targets=("a", "b"))
    _moved(withdrawn, (2, "in_review"), (30, "approved"), (31, "produced"), (32, "withdrawn"))
    LegalRequest.objects.filter(pk=withdrawn.pk).update(status="withdrawn")
    order = make_request(received_at=brussels_midnight(date(2026, 3, 1)) - timedelta(seconds=1),
                         status="preserving", instrument="epoc_pr", lifecycle="preservation")
    _moved(order, (1, "preserving"))
    extension = make_request(received_at=brussels_midnight(date(2026, 3, 20)), status="in_review",
                             instrument="preservation_extension", lifecycle="preservation", linked_request=order)
    LegalRequest.objects.filter(pk=extension.pk).update(status="closed", resolution="preservation_extended")
    _moved(order, (900, "released"))
    LegalRequest.objects.filter(pk=order.pk).update(status="released")
    # Changed after the fact: statuses, targets removed and added, moved to another month, deleted.
    for victim in rng.sample(made, 20):
        LegalRequest.objects.filter(pk=victim.pk).update(status=rng.choice(STATUSES),
                                                         confidential=rng.random() < 0.5)
    for victim in rng.sample(made, 8):
        Target.objects.filter(pk__in=list(Target.objects.filter(request=victim).values_list("pk", flat=True)[:1])
                              ).delete()
        Target.objects.create(request=rng.choice(made), kind="username", value="late")
    for victim in rng.sample(made, 5):
        LegalRequest.objects.filter(pk=victim.pk).update(received_at=_received_at(rng))
    # deleted (requests without an audit trail, which protects the others)
    doomed = [make_request(received_at=_received_at(rng), status=rng.choice(STATUSES)) for _ in range(4)]
    Target.objects.filter(request__in=doomed).delete()
    LegalRequest.objects.filter(pk__in=[d.pk for d in doomed[:3]]).delete()
    return made


PERIODS = [
    reports.period_of("quarter", year=2026, number=2),
    reports.period_of("half", year=2026, number=1),
    reports.period_of("year", year=2026),
    # custom ranges: partial months at both ends; at one end only; inside a single month
    reports.period_of("range", first=date(2026, 2, 15), last=date(2026, 5, 10)),
    reports.period_of("range", first=date(2026, 3, 1), last=date(2026, 7, 20)),
    reports.period_of("range", first=date(2026, 1, 28), last=date(2026, 4, 30)),
    reports.period_of("range", first=date(2026, 5, 2), last=date(2026, 5, 30)),
]


def test_the_summary_equals_the_requests_counted_one_by_one(random_world):
    assert reports.summary_in_use()
    assert reports.summary_mismatches() == []
    for period in PERIODS:
        with CaptureQueriesContext(connection) as ctx:
            fast = reports.transparency_figures(period)
        slow = reports.transparency_figures(period, use_summary=False)
        assert fast == slow, period.label
        assert fast["total"]["received"] == LegalRequest.objects.filter(
            received_at__gte=period.start, received_at__lt=period.end).count()
        read_summary = any(reports.SUMMARY_TABLE + " " in q["sql"] for q in ctx.captured_queries)
        assert read_summary == (reports.whole_months(period) is not None), period.label
        assert reports.requests_over_time(period) == reports.requests_over_time(period, use_summary=False)


def test_whole_months_of_a_period():
    assert reports.whole_months(PERIODS[0]) == (date(2026, 4, 1), date(2026, 7, 1))
    assert reports.whole_months(PERIODS[3]) == (date(2026, 3, 1), date(2026, 5, 1))
    assert reports.whole_months(PERIODS[4]) == (date(2026, 3, 1), date(2026, 7, 1))
    assert reports.whole_months(PERIODS[5]) == (date(2026, 2, 1), date(2026, 5, 1))
    assert reports.whole_months(PERIODS[6]) is None
    # a period not starting at a local midnight (transparency_rows): its first month is partial
    assert reports.whole_months(reports.Period("x", brussels_midnight(date(2026, 4, 1)) + timedelta(seconds=1),
                                               brussels_midnight(date(2026, 8, 1)))) == (date(2026, 5, 1),
                                                                                         date(2026, 8, 1))


def test_the_check_finds_a_difference_and_the_command_fails(random_world):
    from django.core.management import CommandError, call_command

    call_command("transparency_report", "--from", "2026-02-15", "--to", "2026-05-11", "--check-summary")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {reports.SUMMARY_TABLE} SET n = n + 1 WHERE ctid IN "
                       f"(SELECT ctid FROM {reports.SUMMARY_TABLE} WHERE month = '2026-04-01' AND n > 0 LIMIT 1)")
    [difference] = reports.summary_mismatches()
    assert difference["month"] == date(2026, 4, 1) and difference["summary"][0] == difference["counted"][0] + 1
    with pytest.raises(CommandError, match="1 groups of the monthly summary differ"):
        call_command("transparency_report", "--from", "2026-02-15", "--to", "2026-05-11", "--check-summary")


def test_another_zone_reads_the_requests(random_world, settings):
    """The summary's months are Brussels's: in another zone every month is read from the requests."""
    settings.PROVIDER_RULES = {**settings.PROVIDER_RULES, "ESTABLISHMENT_TIME_ZONE": "America/New_York"}
    assert not reports.summary_in_use()
    period = reports.period_of("quarter", year=2026, number=2)
    with CaptureQueriesContext(connection) as ctx:
        figures = reports.transparency_figures(period)
    assert not any(reports.SUMMARY_TABLE + " " in q["sql"] for q in ctx.captured_queries)
    assert figures["total"]["received"] == LegalRequest.objects.filter(
        received_at__gte=period.start, received_at__lt=period.end).count() > 0


def test_the_backfill_counts_the_pending_requests_once(random_world):
    """The migration's backfill, on requests written before its triggers (pending), some of them
    changed meanwhile: each counted once, as it is when its batch comes."""
    migration = importlib.import_module("requests_app.migrations.0027_transparency_monthly_summary")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {reports.SUMMARY_TABLE}")
        cursor.execute("SELECT MIN(id), MAX(id) FROM requests_app_legalrequest")
        low, high = cursor.fetchone()
        cursor.execute(f"UPDATE {reports.SUMMARY_STATE_TABLE} SET pending_from = %s, pending_to = %s",
                       [low, high])
    assert not reports.summary_in_use()
    LegalRequest.objects.filter(pk=low).update(status="closed", emergency=True)  # pending: left to the backfill
    migration.BATCH, saved = 7, migration.BATCH
    try:
        migration.backfill(None, type("Editor", (), {"connection": connection})())
    finally:
        migration.BATCH = saved
    assert reports.summary_in_use()
    assert reports.summary_mismatches() == []


def test_the_dsa_medians_of_every_breakdown_are_those_of_the_orders(random_world):
    """The medians (grouping sets over the DSA orders) against Python's median of the same hours."""
    from statistics import median

    period = reports.period_of("year", year=2026)
    figures = reports.transparency_figures(period)
    orders = LegalRequest.objects.filter(received_at__gte=period.start, received_at__lt=period.end,
                                         instrument__in=["dsa_removal_order", "dsa_information_order"])
    checked = 0
    for dimension, key in (("country", lambda o: {"country": o.country}),
                           ("instrument", lambda o: {"instrument": o.instrument}),
                           ("country_instrument", lambda o: {"country": o.country, "instrument": o.instrument})):
        for row in figures[dimension]:
            mine = [o for o in orders if all(row[k] == v for k, v in key(o).items())]
            for column, field in (("dsa_median_hours_to_acknowledge", "first_acknowledged_at"),
                                  ("dsa_median_hours_to_effect", "first_produced_at")):
                hours = [(getattr(o, field) - o.received_at).total_seconds() / 3600 for o in mine
                         if getattr(o, field) is not None]
                assert row[column] == (round(median(hours), 2) if hours else None), (dimension, row, column)
                checked += bool(hours)
    total_ack = [(o.first_acknowledged_at - o.received_at).total_seconds() / 3600 for o in orders
                 if o.first_acknowledged_at is not None]
    assert figures["total"]["dsa_median_hours_to_acknowledge"] == round(median(total_ack), 2)
    assert checked >= 6


def _summary_rows() -> tuple[int, int]:
    """(rows, distinct groups) of the summary."""
    keys = ", ".join(reports.SUMMARY_KEYS)
    with connection.cursor() as cursor:
        table = reports.SUMMARY_TABLE
        cursor.execute(f"SELECT COUNT(*), (SELECT COUNT(*) FROM (SELECT DISTINCT {keys} FROM {table}) g) FROM {table}")
        rows, groups = cursor.fetchone()
    return rows, groups


def test_compaction_folds_each_group_into_one_row_and_changes_no_figure(random_world):
    """The triggers append deltas (two rows per counted change); the periodic compaction folds
    them, and every figure and series stays what it was."""
    before = [(reports.transparency_figures(p), reports.requests_over_time(p)) for p in PERIODS]
    rows, groups = _summary_rows()
    assert rows > groups  # the deltas of the changes above

    removed = reports.compact_summary()

    assert removed > 0 and _summary_rows()[0] == rows - removed
    after_rows, after_groups = _summary_rows()
    assert after_rows == after_groups <= groups  # one row per group; groups summing to nothing gone
    assert [(reports.transparency_figures(p), reports.requests_over_time(p)) for p in PERIODS] == before
    assert reports.summary_mismatches() == []
    assert reports.compact_summary() == 0  # nothing left to fold


def test_the_compaction_task_is_scheduled():
    from django.conf import settings

    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values()
                if e["task"] == "requests_app.tasks.compact_report_summary"]
    assert entry["schedule"] > 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_of_one_group_never_wait_for_each_other(make_request):
    """Every submission of this month, one country and one instrument lands in one group: with one
    row per group (an UPSERT) each writer queued on that row until the other's commit — a single
    point of contention (issue 9 item 6). Append-only deltas take no lock on the group."""
    import threading

    from django.db import OperationalError, connections, transaction

    now = reports.local_midnight(date(2026, 6, 1)).astimezone(UTC) + timedelta(days=3)
    first, second = (make_request(received_at=now, status="received") for _ in range(2))
    holding, release, errors = threading.Event(), threading.Event(), []

    def change_and_hold() -> None:
        try:
            with transaction.atomic():
                LegalRequest.objects.filter(pk=first.pk).update(status="in_review")
                make_request(received_at=now, status="received")  # a submission into the same group
                holding.set()
                release.wait(10)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=change_and_hold)
    thread.start()
    try:
        assert holding.wait(10)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
                LegalRequest.objects.filter(pk=second.pk).update(status="in_review")  # same move, same groups
                make_request(received_at=now, status="received")
        except OperationalError as exc:  # lock_timeout: it waited for the other transaction
            pytest.fail(f"a change of the same group waited for another transaction: {exc}")
    finally:
        release.set()
        thread.join(10)
    assert errors == []
    assert reports.summary_mismatches() == []
