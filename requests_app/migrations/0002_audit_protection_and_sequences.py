"""Database-level protection of the audit trail and the reference sequence.

* The chain head row the audit writer locks (both databases).
* PostgreSQL: row triggers that refuse UPDATE and DELETE on the audit table for every role,
  even the table owner (the owner could drop them, which is why the application runs as a
  separate role: docs/operations.md). TRUNCATE fires no row trigger; it is refused to the
  application role by privilege: it has only INSERT and SELECT on the table
  (``manage.py grant_app_role``). A statement-level TRUNCATE trigger is deliberately absent:
  it would add nothing against the owner (who can drop triggers) and would stop the owner's
  maintenance and the test suite's database flushes.
* SQLite (embedded mode): the same UPDATE/DELETE triggers.
* PostgreSQL: the sequence behind readable references.
"""

from django.db import migrations

GENESIS = "0" * 64

PG_FORWARD = [
    "CREATE SEQUENCE IF NOT EXISTS requests_app_reference_seq START 1",
    """
    CREATE OR REPLACE FUNCTION requests_app_audit_refuse() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'requests_app_auditevent is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER requests_app_audit_no_update_delete
        BEFORE UPDATE OR DELETE ON requests_app_auditevent
        FOR EACH ROW EXECUTE FUNCTION requests_app_audit_refuse()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS requests_app_audit_no_update_delete ON requests_app_auditevent",
    "DROP FUNCTION IF EXISTS requests_app_audit_refuse()",
    "DROP SEQUENCE IF EXISTS requests_app_reference_seq",
]


def create_head(apps, schema_editor):
    apps.get_model("requests_app", "AuditChainHead").objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS})


SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER IF NOT EXISTS requests_app_audit_no_{op.lower()}
    BEFORE {op} ON requests_app_auditevent
    BEGIN SELECT RAISE(ABORT, 'requests_app_auditevent is append-only: {op} refused'); END
    """
    for op in ("UPDATE", "DELETE")
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS requests_app_audit_no_{op}" for op in ("update", "delete")]


def protect_forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}.get(vendor, []):
        schema_editor.execute(statement, params=None)


def protect_backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(protect_forward, protect_backward),
    ]
