"""``target_count`` without a second version of the request's row at intake (issue 9 item 5).

Migration 0025 kept ``target_count`` by adding each insert statement's targets to it: the intake
(one INSERT of the request, one of its targets) wrote every request twice in its transaction,
and the second version, not HOT (the column is in the report's index), inserted into each of the
table's 21 indexes again and ran the summary trigger of 0027 for a delta of targets.

The intake now writes the count in the request's own INSERT (services.submission), and the
trigger after an insert of targets COMPARES first: a request whose stored count already equals
its targets (as this statement's snapshot sees them) is left alone, any other is locked and
recounted. Exact whoever writes:

- equality can only be seen by the transaction that wrote the request itself (its INSERT, or an
  update holding the row's lock): for any other, the stored count is the committed one, equal to
  the committed targets, and its own new targets make the two differ;
- the recount runs after the lock, as a statement of its own (a new snapshot in READ COMMITTED),
  so it sees the targets of a concurrent writer that held the row until its commit;
- a wrong count written by a caller (more or fewer targets than announced) is recounted.

Deletes keep the decrement of 0025 (the row's lock orders it with any recount). SQLite (one
writer at a time): the row trigger recounts the request and writes it only if the count moved.
``reports.stored_facts_mismatches`` checks the column against the targets, as before.
"""

from django.db import migrations

POSTGRES_ADDED = """
CREATE OR REPLACE FUNCTION lrp_report_targets_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved bigint[];
BEGIN
    SELECT array_agg(c.request_id) INTO moved
      FROM (SELECT t.request_id, COUNT(*) AS n FROM requests_app_target t
             WHERE t.request_id IN (SELECT request_id FROM new_targets) GROUP BY t.request_id) c
      JOIN requests_app_legalrequest r ON r.id = c.request_id
     WHERE r.target_count <> c.n;
    IF moved IS NULL THEN
        RETURN NULL;  -- every count already includes these targets (the intake's INSERT set it)
    END IF;
    PERFORM 1 FROM requests_app_legalrequest WHERE id = ANY (moved) ORDER BY id FOR NO KEY UPDATE;
    UPDATE requests_app_legalrequest r SET target_count = c.n
      FROM (SELECT t.request_id, COUNT(*) AS n FROM requests_app_target t
             WHERE t.request_id = ANY (moved) GROUP BY t.request_id) c
     WHERE r.id = c.request_id AND r.target_count <> c.n;
    RETURN NULL;
END $$;
"""
# As migration 0025 wrote it.
POSTGRES_ADDED_0025 = """
CREATE OR REPLACE FUNCTION lrp_report_targets_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE requests_app_legalrequest r SET target_count = r.target_count + t.n
      FROM (SELECT request_id, COUNT(*) AS n FROM new_targets GROUP BY request_id) t WHERE r.id = t.request_id;
    RETURN NULL;
END $$;
"""

_COUNT = "(SELECT COUNT(*) FROM requests_app_target t WHERE t.request_id = NEW.request_id)"
SQLITE_ADDED = (
    "CREATE TRIGGER lrp_report_targets_added AFTER INSERT ON requests_app_target BEGIN "
    f"UPDATE requests_app_legalrequest SET target_count = {_COUNT} "
    f"WHERE id = NEW.request_id AND target_count <> {_COUNT}; END"
)
SQLITE_ADDED_0025 = (
    "CREATE TRIGGER lrp_report_targets_added AFTER INSERT ON requests_app_target BEGIN "
    "UPDATE requests_app_legalrequest SET target_count = target_count + 1 WHERE id = NEW.request_id; END"
)


def _replace(schema_editor, postgres: str, sqlite: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(postgres)
    else:
        schema_editor.execute("DROP TRIGGER IF EXISTS lrp_report_targets_added")
        schema_editor.execute(sqlite)


def forwards(apps, schema_editor):
    _replace(schema_editor, POSTGRES_ADDED, SQLITE_ADDED)


def backwards(apps, schema_editor):
    _replace(schema_editor, POSTGRES_ADDED_0025, SQLITE_ADDED_0025)


class Migration(migrations.Migration):
    dependencies = [
        ('requests_app', '0027_transparency_monthly_summary'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
