"""Two index entries fewer per audit write (issue 9 item 5).

Django gives every unique ``CharField`` on PostgreSQL a second B-tree with ``varchar_pattern_ops``
for ``LIKE 'x%'``. Nothing searches an event's hash or a chain's key by prefix (both are looked up
whole, by the unique index), yet each event inserted (three per submission) and each non-HOT
version of a chain head wrote an entry into it. SQLite has no such twins. Reversible.
"""

from django.db import migrations

TWINS = {
    "requests_app_auditevent_hash_61daae6c_like": ("requests_app_auditevent", "hash"),
    "audit_chain_key_0a32e63e_like": ("audit_chain", "key"),
}


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in TWINS:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def restore(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, (table, column) in TWINS.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column} varchar_pattern_ops)")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_report_first_move_indexes"),
    ]

    operations = [
        migrations.RunPython(drop, restore, elidable=False),
    ]
