"""The transparency report's per-request facts, stored on the request (issue 13 item 6).

The report used to derive, for every request of the period, its first acknowledgement, first
production and first preservation from the audit trail, its number of targets and whether an
Annex VI extension was applied to it, with one aggregate per fact over the whole trail: 23 s
at 1M requests. These are now columns of the request, kept by the database from the rows that
stay the record, whoever writes them (the one guarded transition, the services, imports, tests):

- a statement trigger on the audit trail: a ``request.status_changed`` event lowers
  ``first_acknowledged_at`` / ``first_produced_at`` / ``first_preserved_at`` to its own
  ``occurred_at`` (so the columns are exactly the audit times the report read before);
- statement triggers on the targets: ``target_count`` moves with each insert and delete;
- a row trigger on the requests: an Annex VI extension resolved ``preservation_extended`` marks
  the order it refers to (``services.validation`` applies it).

SQLite (the embedded default) gets row triggers of the same meaning. The backfill derives the
columns from the audit trail in batches of request ids, one transaction each, after the
triggers exist (so nothing written meanwhile is missed); the report's index is built after it.
``reports.stored_facts_mismatches`` checks the columns against the trail.
"""

import time

from django.conf import settings
from django.db import migrations, models, transaction

# The acknowledging states of requests_app.reports.ACKNOWLEDGED, as they were at this migration.
ACKNOWLEDGED = ("in_review", "clarification_requested", "not_executed", "rerouted", "verification_hold",
                "awaiting_enforcing_authority", "preserving")
ACK = "(" + ", ".join(f"'{s}'" for s in ACKNOWLEDGED) + ")"
PRODUCED, PRESERVING = "= 'produced'", "= 'preserving'"
BATCH = 100_000  # request ids per backfill transaction

POSTGRES_TRIGGERS = f"""
CREATE FUNCTION lrp_report_facts_from_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE requests_app_legalrequest r
       SET first_acknowledged_at = LEAST(r.first_acknowledged_at, m.ack),
           first_produced_at = LEAST(r.first_produced_at, m.prod),
           first_preserved_at = LEAST(r.first_preserved_at, m.pres)
      FROM (SELECT e.request_id,
                   MIN(e.occurred_at) FILTER (WHERE e.data ->> 'to' IN {ACK}) AS ack,
                   MIN(e.occurred_at) FILTER (WHERE e.data ->> 'to' = 'produced') AS prod,
                   MIN(e.occurred_at) FILTER (WHERE e.data ->> 'to' = 'preserving') AS pres
              FROM new_events e
             WHERE e.action = 'request.status_changed' AND e.request_id IS NOT NULL
             GROUP BY e.request_id) m
     WHERE r.id = m.request_id
       AND (m.ack < r.first_acknowledged_at OR (r.first_acknowledged_at IS NULL AND m.ack IS NOT NULL)
            OR m.prod < r.first_produced_at OR (r.first_produced_at IS NULL AND m.prod IS NOT NULL)
            OR m.pres < r.first_preserved_at OR (r.first_preserved_at IS NULL AND m.pres IS NOT NULL));
    RETURN NULL;
END $$;
CREATE TRIGGER lrp_report_facts_audit AFTER INSERT ON requests_app_auditevent
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION lrp_report_facts_from_audit();

CREATE FUNCTION lrp_report_targets_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE requests_app_legalrequest r SET target_count = r.target_count + t.n
      FROM (SELECT request_id, COUNT(*) AS n FROM new_targets GROUP BY request_id) t WHERE r.id = t.request_id;
    RETURN NULL;
END $$;
CREATE TRIGGER lrp_report_targets_added AFTER INSERT ON requests_app_target
    REFERENCING NEW TABLE AS new_targets FOR EACH STATEMENT EXECUTE FUNCTION lrp_report_targets_added();

CREATE FUNCTION lrp_report_targets_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE requests_app_legalrequest r SET target_count = r.target_count - t.n
      FROM (SELECT request_id, COUNT(*) AS n FROM old_targets GROUP BY request_id) t WHERE r.id = t.request_id;
    RETURN NULL;
END $$;
CREATE TRIGGER lrp_report_targets_removed AFTER DELETE ON requests_app_target
    REFERENCING OLD TABLE AS old_targets FOR EACH STATEMENT EXECUTE FUNCTION lrp_report_targets_removed();

CREATE FUNCTION lrp_report_extension_applied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE requests_app_legalrequest SET preservation_extended = true
     WHERE id = NEW.linked_request_id AND NOT preservation_extended;
    RETURN NULL;
END $$;
CREATE TRIGGER lrp_report_extension_applied AFTER INSERT OR UPDATE OF resolution ON requests_app_legalrequest
    FOR EACH ROW WHEN (NEW.instrument = 'preservation_extension' AND NEW.resolution = 'preservation_extended'
                       AND NEW.linked_request_id IS NOT NULL)
    EXECUTE FUNCTION lrp_report_extension_applied();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS lrp_report_facts_audit ON requests_app_auditevent;
DROP TRIGGER IF EXISTS lrp_report_targets_added ON requests_app_target;
DROP TRIGGER IF EXISTS lrp_report_targets_removed ON requests_app_target;
DROP TRIGGER IF EXISTS lrp_report_extension_applied ON requests_app_legalrequest;
DROP FUNCTION IF EXISTS lrp_report_facts_from_audit(), lrp_report_targets_added(), lrp_report_targets_removed(),
    lrp_report_extension_applied();
"""


def _first(column: str, condition: str) -> str:
    return (f"{column} = CASE WHEN json_extract(NEW.data, '$.to') {condition} AND ({column} IS NULL "
            f"OR NEW.occurred_at < {column}) THEN NEW.occurred_at ELSE {column} END")


_EXTENDED = ("WHEN NEW.instrument = 'preservation_extension' AND NEW.resolution = 'preservation_extended' "
             "AND NEW.linked_request_id IS NOT NULL BEGIN UPDATE requests_app_legalrequest "
             "SET preservation_extended = 1 WHERE id = NEW.linked_request_id; END")
SQLITE_TRIGGERS = [
    "CREATE TRIGGER lrp_report_facts_audit AFTER INSERT ON requests_app_auditevent "
    "WHEN NEW.action = 'request.status_changed' AND NEW.request_id IS NOT NULL BEGIN "
    f"UPDATE requests_app_legalrequest SET {_first('first_acknowledged_at', 'IN ' + ACK)}, "
    f"{_first('first_produced_at', PRODUCED)}, {_first('first_preserved_at', PRESERVING)} "
    "WHERE id = NEW.request_id; END",
    "CREATE TRIGGER lrp_report_targets_added AFTER INSERT ON requests_app_target BEGIN "
    "UPDATE requests_app_legalrequest SET target_count = target_count + 1 WHERE id = NEW.request_id; END",
    "CREATE TRIGGER lrp_report_targets_removed AFTER DELETE ON requests_app_target BEGIN "
    "UPDATE requests_app_legalrequest SET target_count = target_count - 1 WHERE id = OLD.request_id; END",
    f"CREATE TRIGGER lrp_report_extension_inserted AFTER INSERT ON requests_app_legalrequest {_EXTENDED}",
    f"CREATE TRIGGER lrp_report_extension_applied AFTER UPDATE OF resolution ON requests_app_legalrequest {_EXTENDED}",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in (
    "lrp_report_facts_audit", "lrp_report_targets_added", "lrp_report_targets_removed",
    "lrp_report_extension_inserted", "lrp_report_extension_applied")]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_TRIGGERS)
    else:
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    else:
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


# One batch of request ids [lo, hi): every fact from its source, each row written once.
POSTGRES_BACKFILL = f"""
UPDATE requests_app_legalrequest r
   SET first_acknowledged_at = f.ack, first_produced_at = f.prod, first_preserved_at = f.pres,
       target_count = f.n_targets, preservation_extended = f.extended
  FROM (SELECT q.id, a.ack, a.prod, a.pres, COALESCE(t.n, 0) AS n_targets, (x.id IS NOT NULL) AS extended
          FROM requests_app_legalrequest q
          LEFT JOIN (SELECT e.request_id,
                            MIN(e.occurred_at) FILTER (WHERE e.data ->> 'to' IN {ACK}) AS ack,
                            MIN(e.occurred_at) FILTER (WHERE e.data ->> 'to' = 'produced') AS prod,
                            MIN(e.occurred_at) FILTER (WHERE e.data ->> 'to' = 'preserving') AS pres
                       FROM requests_app_auditevent e
                      WHERE e.action = 'request.status_changed' AND e.request_id >= %(lo)s AND e.request_id < %(hi)s
                      GROUP BY e.request_id) a ON a.request_id = q.id
          LEFT JOIN (SELECT request_id, COUNT(*) AS n FROM requests_app_target
                      WHERE request_id >= %(lo)s AND request_id < %(hi)s GROUP BY request_id) t ON t.request_id = q.id
          LEFT JOIN (SELECT DISTINCT linked_request_id AS id FROM requests_app_legalrequest
                      WHERE instrument = 'preservation_extension' AND resolution = 'preservation_extended'
                        AND linked_request_id >= %(lo)s AND linked_request_id < %(hi)s) x ON x.id = q.id
         WHERE q.id >= %(lo)s AND q.id < %(hi)s) f
 WHERE r.id = f.id
   AND (f.ack IS NOT NULL OR f.prod IS NOT NULL OR f.pres IS NOT NULL OR f.n_targets > 0 OR f.extended)
"""


def _sqlite_first(condition: str) -> str:
    return ("(SELECT MIN(e.occurred_at) FROM requests_app_auditevent e WHERE e.request_id = r.id "
            f"AND e.action = 'request.status_changed' AND json_extract(e.data, '$.to') {condition})")


SQLITE_BACKFILL = (
    f"UPDATE requests_app_legalrequest AS r SET first_acknowledged_at = {_sqlite_first('IN ' + ACK)}, "
    f"first_produced_at = {_sqlite_first(PRODUCED)}, first_preserved_at = {_sqlite_first(PRESERVING)}, "
    "target_count = (SELECT COUNT(*) FROM requests_app_target t WHERE t.request_id = r.id), "
    "preservation_extended = EXISTS (SELECT 1 FROM requests_app_legalrequest x WHERE x.linked_request_id = r.id "
    "AND x.instrument = 'preservation_extension' AND x.resolution = 'preservation_extended') "
    "WHERE r.id >= %(lo)s AND r.id < %(hi)s"
)


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM requests_app_legalrequest")
        low, high = cursor.fetchone()
    if low is None:
        return
    sql = POSTGRES_BACKFILL if connection.vendor == "postgresql" else SQLITE_BACKFILL
    started, rows = time.monotonic(), 0
    for lo in range(low, high + 1, BATCH):
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(sql, {"lo": lo, "hi": lo + BATCH})
            rows += max(cursor.rowcount, 0)
    if high - low >= BATCH:  # only worth a line on a big table
        print(f"\n  transparency facts backfilled for {rows:,} requests in {time.monotonic() - started:.1f} s")


def analyse(apps, schema_editor):
    """Fresh statistics after the backfill rewrote every row, so that the planner sees the new
    columns (and the visibility map lets the report's index-only scans skip the heap)."""
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) requests_app_legalrequest")


class Migration(migrations.Migration):
    # The backfill commits per batch of request ids; each schema step is its own statement.
    atomic = False


    dependencies = [
        ('accounts', '0006_user_time_zone'),
        ('requests_app', '0024_dashboard_open_partial_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='legalrequest',
            name='req_report_period',
        ),
        migrations.RemoveIndex(
            model_name='legalrequest',
            name='req_report_instrument',
        ),
        migrations.AddField(
            model_name='legalrequest',
            name='first_acknowledged_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='legalrequest',
            name='first_preserved_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='legalrequest',
            name='first_produced_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='legalrequest',
            name='preservation_extended',
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name='legalrequest',
            name='target_count',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name='legalrequest',
            index=models.Index(fields=['received_at'], include=('country', 'instrument', 'status', 'emergency', 'confidential', 'linked_request', 'data_categories', 'target_count', 'first_produced_at', 'first_preserved_at', 'preservation_extended'), name='req_report_facts'),
        ),
        migrations.AddIndex(
            model_name='legalrequest',
            index=models.Index(fields=['instrument', 'received_at'], include=('country', 'data_categories', 'first_acknowledged_at', 'first_produced_at'), name='req_report_dsa_times'),
        ),
        migrations.RunPython(analyse, migrations.RunPython.noop, elidable=False),
    ]
