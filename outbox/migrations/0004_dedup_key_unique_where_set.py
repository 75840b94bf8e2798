"""Four index entries fewer per submission: the outbox's dedup key unique only where it is set
(issue 9 item 5).

``dedup_key`` is optional (the timers' alerts and reminders, the mailbox's emergency alerts set
one; a submission's ``request.validate`` and its receipt do not), and its unique index took an
entry for every row version all the same: two rows per submission, each inserted and updated to
"sent" (not HOT: ``status`` is in the pending index's condition). NULLs never conflict in a
unique index, so a partial one ``WHERE dedup_key IS NOT NULL`` enforces exactly the same, and
``dedup_key = x`` implies its condition (the mailbox's look-up still uses it).

PostgreSQL: the partial unique index ``outbox_dedup_key`` is built, then the old constraint goes.
SQLite keeps the table's inline UNIQUE (no rebuild) beside the named index of the state.
Reversible.
"""

from django.db import migrations, models
from django.db.models import Q

TABLE = "requests_app_outboxmessage"
OLD_CONSTRAINT = "requests_app_outboxmessage_dedup_key_key"
CONSTRAINT = models.UniqueConstraint(fields=["dedup_key"], condition=Q(dedup_key__isnull=False),
                                     name="outbox_dedup_key")


def forwards(apps, schema_editor):
    schema_editor.add_constraint(apps.get_model("outbox", "OutboxMessage"), CONSTRAINT)
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("""
                SELECT c.conname FROM pg_constraint c
                  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = 'dedup_key'
                 WHERE c.conrelid = %s::regclass AND c.contype = 'u' AND c.conkey = ARRAY[a.attnum]""", [TABLE])
            names = [name for (name,) in cursor.fetchall()]
        for name in names:
            schema_editor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT "{name}"')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {OLD_CONSTRAINT} UNIQUE (dedup_key)")
    schema_editor.remove_constraint(apps.get_model("outbox", "OutboxMessage"), CONSTRAINT)


class Migration(migrations.Migration):

    dependencies = [
        ("outbox", "0003_no_dedup_key_pattern_ops_twin"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
            state_operations=[
                migrations.AlterField(
                    model_name="outboxmessage",
                    name="dedup_key",
                    field=models.CharField(blank=True, max_length=200, null=True),
                ),
                migrations.AddConstraint(model_name="outboxmessage", constraint=CONSTRAINT),
            ],
        ),
    ]
