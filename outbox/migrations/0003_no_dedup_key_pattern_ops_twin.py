"""One index entry fewer per outbox row version (issue 9 item 5).

``dedup_key`` is unique, and Django added a ``varchar_pattern_ops`` twin for ``LIKE 'x%'`` on
PostgreSQL. Keys are only looked up whole (the unique index); every row inserted and its "sent"
update (not HOT: ``status`` is in the pending index's condition) wrote an entry into the twin:
two rows, four entries per submission. SQLite has no such twin. Reversible.
"""

from django.db import migrations

TWIN = "requests_app_outboxmessage_dedup_key_dde58e06_like"


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TWIN}")


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {TWIN} ON requests_app_outboxmessage "
                              "(dedup_key varchar_pattern_ops)")


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0002_outbox_attachment"),
    ]

    operations = [
        migrations.RunPython(drop, restore, elidable=False),
    ]
