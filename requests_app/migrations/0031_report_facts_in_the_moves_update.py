"""The report's first times may be written with the move itself, never raised by it (issue 9 item 5).

Until now only the audit trigger of 0025/0029 wrote ``first_acknowledged_at`` /
``first_produced_at`` / ``first_preserved_at``: after the decision's UPDATE of the request, its
``request.status_changed`` event updated the same row again, a further row version of a ~2 kB
row inserted into every index (none of these UPDATEs is HOT), ~0.3 ms of PostgreSQL per
submission. ``workflow.transition`` now stores them in the move's own UPDATE when the event's
time is known before it (``requests_app.report_facts``); the event then finds them already at its
time and the audit trigger writes nothing.

Python's copy of the row may be older than the stored facts (``workflow.relock`` keeps an
instance whose own earlier events set them by trigger), so this BEFORE trigger keeps the earlier
of the stored and the written time in any UPDATE that moves the status: a stale copy can never
raise a first time. Other UPDATEs (the backfill, repairs, ``stored_facts_mismatches`` tests) are
untouched. The audit trigger stays: every other writer (SQLite, imports, a move outside an audit
batch) is kept by it as before. PostgreSQL only (SQLite keeps 0025's triggers).
"""

from django.db import migrations

POSTGRES = """
CREATE FUNCTION lrp_report_facts_not_raised() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.first_acknowledged_at := LEAST(OLD.first_acknowledged_at, NEW.first_acknowledged_at);
    NEW.first_produced_at := LEAST(OLD.first_produced_at, NEW.first_produced_at);
    NEW.first_preserved_at := LEAST(OLD.first_preserved_at, NEW.first_preserved_at);
    RETURN NEW;
END $$;
CREATE TRIGGER lrp_report_facts_not_raised
    BEFORE UPDATE OF first_acknowledged_at, first_produced_at, first_preserved_at ON requests_app_legalrequest
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION lrp_report_facts_not_raised();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS lrp_report_facts_not_raised ON requests_app_legalrequest;
DROP FUNCTION IF EXISTS lrp_report_facts_not_raised();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0030_request_indexes_without_duplicates"),
        ("audit", "0005_audit_chain_last_at"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
