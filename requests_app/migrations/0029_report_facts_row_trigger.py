"""The report facts of 0025 from the audit trail by a row trigger that fires only for the events
that can move them (issue 9 item 5).

0025's statement trigger ran for every insert into the audit trail (three per submission: the
submission, the claim, the decision), kept every inserted row in a transition table, grouped
them, and joined the requests: 0.4-0.6 ms of PostgreSQL CPU per submission, most of it for
events that move no fact. The row trigger's WHEN (evaluated as the row is inserted, before any
function call) lets through only a ``request.status_changed`` event into an acknowledging, the
produced or the preserving state; the function lowers the request's first times to the event's
``occurred_at`` as the statement trigger did (LEAST on the row version it updates, so two
writers' events both count). The same facts: ``reports.stored_facts_mismatches`` checks them.

The states are those of migration 0025 (requests_app.reports.ACKNOWLEDGED at that time). An
import of many status events in one statement now runs one UPDATE per qualifying event.
SQLite keeps 0025's row trigger (already WHEN-filtered).
"""

from django.db import migrations

ACKNOWLEDGED = ("in_review", "clarification_requested", "not_executed", "rerouted", "verification_hold",
                "awaiting_enforcing_authority", "preserving")
ACK = "(" + ", ".join(f"'{s}'" for s in ACKNOWLEDGED) + ")"
MOVING = "(" + ", ".join(f"'{s}'" for s in (*ACKNOWLEDGED, "produced")) + ")"  # preserving is acknowledging

POSTGRES_ROW = f"""
DROP TRIGGER IF EXISTS lrp_report_facts_audit ON requests_app_auditevent;
CREATE OR REPLACE FUNCTION lrp_report_facts_from_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ack boolean := NEW.data ->> 'to' IN {ACK};
    prod boolean := NEW.data ->> 'to' = 'produced';
    pres boolean := NEW.data ->> 'to' = 'preserving';
BEGIN
    UPDATE requests_app_legalrequest r
       SET first_acknowledged_at = CASE WHEN ack THEN LEAST(r.first_acknowledged_at, NEW.occurred_at)
                                        ELSE r.first_acknowledged_at END,
           first_produced_at = CASE WHEN prod THEN LEAST(r.first_produced_at, NEW.occurred_at)
                                    ELSE r.first_produced_at END,
           first_preserved_at = CASE WHEN pres THEN LEAST(r.first_preserved_at, NEW.occurred_at)
                                     ELSE r.first_preserved_at END
     WHERE r.id = NEW.request_id
       AND ((ack AND (r.first_acknowledged_at IS NULL OR NEW.occurred_at < r.first_acknowledged_at))
            OR (prod AND (r.first_produced_at IS NULL OR NEW.occurred_at < r.first_produced_at))
            OR (pres AND (r.first_preserved_at IS NULL OR NEW.occurred_at < r.first_preserved_at)));
    RETURN NULL;
END $$;
CREATE TRIGGER lrp_report_facts_audit AFTER INSERT ON requests_app_auditevent FOR EACH ROW
    WHEN (NEW.action = 'request.status_changed' AND NEW.request_id IS NOT NULL AND NEW.data ->> 'to' IN {MOVING})
    EXECUTE FUNCTION lrp_report_facts_from_audit();
"""
# As migration 0025 wrote it.
POSTGRES_STATEMENT_0025 = f"""
DROP TRIGGER IF EXISTS lrp_report_facts_audit ON requests_app_auditevent;
CREATE OR REPLACE FUNCTION lrp_report_facts_from_audit() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_ROW)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_STATEMENT_0025)


class Migration(migrations.Migration):
    dependencies = [
        ('requests_app', '0028_target_count_without_second_row_version'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
