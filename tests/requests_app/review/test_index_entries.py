"""Index entries a request's row versions write (issue 9 item 5, migrations 0030 and 0032).

None of a submission's four row versions is a HOT update (each changes an indexed column), so
each is inserted into every index whose condition it meets. Migration 0030 removed the indexes
another one already serves (two foreign keys, the collation twin of the case reference's prefix
index, the targets' value twin) and narrowed two to the rows read through them; these tests keep
the count and check that every lookup the removed ones served still has an index.

The plans are asked for with ``enable_seqscan`` off: the test tables are tiny, so the question is
"can an index serve this?", not "which plan wins at this size" (bench/admin_queue.py at 1M).
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from outbox.models import OutboxMessage
from requests_app import reports
from requests_app.models import LegalRequest
from requests_app.reports import period_of

pytestmark = pytest.mark.django_db


def indexes(table: str) -> dict[str, str | None]:
    """Index name -> its condition (None when it covers every row)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, pg_get_expr(i.indpred, i.indrelid) FROM pg_index i "
                       "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass", [table])
        return dict(cursor.fetchall())


def entries_per_version(request: LegalRequest) -> int:
    """How many indexes a (non-HOT) version of this request's row is inserted into."""
    count = 0
    for condition in indexes("requests_app_legalrequest").values():
        if condition is None:
            count += 1
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM requests_app_legalrequest WHERE id = %s AND ({condition}))",
                           [request.pk])
            count += cursor.fetchone()[0]
    return count


def plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        text = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    return text


def queryset_plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    return plan(sql, list(params))


def test_a_submitted_request_is_written_into_14_indexes_per_row_version(submit):
    request = submit()
    assert len(indexes("requests_app_legalrequest")) == 17  # 21 at migration 0029, 18 at 0031
    # An open, non-emergency request that follows no order: 13 full indexes and the open
    # dashboard's partial one (at 0029: 19 + 1 = 20; at 0031: 14 + 1, the reference's twin).
    assert entries_per_version(request) == 14
    LegalRequest.objects.filter(pk=request.pk).update(instrument="dsa_removal_order")
    assert entries_per_version(request) == 15  # a DSA order is in the report's DSA index too


def test_no_index_of_the_request_tables_repeats_another():
    """No index whose key columns (with their operator classes) lead another index of the same
    table under the same condition: the longer one serves every lookup of the shorter."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT a.indexrelid::regclass::text, b.indexrelid::regclass::text
              FROM pg_index a JOIN pg_index b ON a.indrelid = b.indrelid AND a.indexrelid <> b.indexrelid
             WHERE a.indrelid IN ('requests_app_legalrequest'::regclass, 'requests_app_target'::regclass,
                                  'requests_app_notification'::regclass, 'requests_app_auditevent'::regclass,
                                  'requests_app_outboxmessage'::regclass, 'audit_chain'::regclass)
               AND NOT a.indisunique AND a.indexprs IS NULL AND b.indexprs IS NULL
               AND pg_get_expr(a.indpred, a.indrelid) IS NOT DISTINCT FROM pg_get_expr(b.indpred, b.indrelid)
               AND a.indnkeyatts <= b.indnkeyatts
               AND (a.indkey::int2[])[0:a.indnkeyatts - 1] = (b.indkey::int2[])[0:a.indnkeyatts - 1]
               AND (a.indclass::oid[])[0:a.indnkeyatts - 1] = (b.indclass::oid[])[0:a.indnkeyatts - 1]
               AND (a.indoption::int2[])[0:a.indnkeyatts - 1] = (b.indoption::int2[])[0:a.indnkeyatts - 1]
        """)
        assert cursor.fetchall() == []


def test_no_pattern_ops_twin_of_a_key_looked_up_whole():
    """Keys looked up only whole: no ``varchar_pattern_ops`` B-tree beside their unique index."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)",
                       [["requests_app_auditevent_hash_61daae6c_like", "audit_chain_key_0a32e63e_like",
                         "requests_app_outboxmessage_dedup_key_dde58e06_like",
                         "requests_app_notification_key_45a8afc4_like"]])
        assert cursor.fetchall() == []
    assert "target_value" not in indexes("requests_app_target")


def test_each_lookup_of_a_removed_index_still_has_one(submit, reviewer):
    request = submit()
    cases = {
        # The queue's "mine" and "unassigned" filters, and an authority's requests.
        "queue_assignee_urgency": LegalRequest.objects.filter(assigned_to=reviewer),
        "queue_assignee_urgency ": LegalRequest.objects.filter(assigned_to__isnull=True),
        "req_authority_recent": LegalRequest.objects.filter(authority_id=request.authority_id),
        # A case reference looked up whole or by prefix (the queue's search).
        "req_case_reference_prefix": LegalRequest.objects.filter(case_reference="PN-2026-001"),
        "req_case_reference_prefix ": LegalRequest.objects.filter(case_reference__startswith="PN-2026"),
        # An order's follow-ups (Annex V/VI), and the PROTECT check of its delete.
        "req_linked_request": LegalRequest.objects.filter(linked_request_id=request.pk),
    }
    for index, queryset in cases.items():
        assert index.strip() in queryset_plan(queryset.order_by().values("pk")), index
    target = plan("SELECT request_id FROM requests_app_target WHERE value = %s", ["suspect_account"])
    assert "target_value_prefix" in target
    # The report's DSA orders (reports._dsa_times): the partial index, its condition implied.
    # (At this size the planner may prefer the period's full index; without it, the partial one
    # must still be usable: the query's ``instrument IN`` implies its condition. The drop is
    # undone with the test's transaction.)
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX req_report_facts")
    sql, params = reports._dsa_times(period_of("range", first=request.received_at.date(),
                                                 last=request.received_at.date()))
    assert "req_report_dsa_times" in plan(sql, params)


def test_a_reference_is_unique_through_one_index_that_serves_equality_and_prefix(submit):
    request = submit()
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, i.indisunique, pg_get_indexdef(i.indexrelid)
              FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
             WHERE i.indrelid = 'requests_app_legalrequest'::regclass AND a.attname = 'reference'""")
        rows = cursor.fetchall()
    assert [(name, unique) for name, unique, _ in rows] == [("req_reference", True)]
    assert "varchar_pattern_ops" in rows[0][2]
    for queryset in (LegalRequest.objects.filter(reference=request.reference),
                     LegalRequest.objects.filter(reference__startswith=request.reference[:9])):
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            assert "req_reference" in "\n".join(r[0] for r in cursor.fetchall())
    with pytest.raises(IntegrityError), transaction.atomic():
        LegalRequest.objects.filter(pk=request.pk).update(reference=submit().reference)


def test_a_dedup_key_is_unique_where_set_and_rows_without_one_are_not_indexed_by_it():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'requests_app_outboxmessage'")
        defs = dict(cursor.fetchall())
    assert "requests_app_outboxmessage_dedup_key_key" not in defs
    assert defs["outbox_dedup_key"].startswith("CREATE UNIQUE INDEX")
    assert defs["outbox_dedup_key"].endswith("WHERE (dedup_key IS NOT NULL)")
    OutboxMessage.objects.create(topic="alert.reminder", dedup_key="reminder-1")
    OutboxMessage.objects.create(topic="alert.reminder")
    OutboxMessage.objects.create(topic="alert.reminder")  # rows without a key never conflict
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(topic="alert.reminder", dedup_key="reminder-1")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT 1 FROM requests_app_outboxmessage WHERE dedup_key = %s", ["reminder-1"])
        assert "outbox_dedup_key" in "\n".join(r[0] for r in cursor.fetchall())
