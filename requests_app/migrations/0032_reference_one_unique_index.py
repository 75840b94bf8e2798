"""Two index entries fewer per submission: a request's reference in one B-tree (issue 9 item 5).

``reference`` had Django's pair for a unique ``CharField`` on PostgreSQL: the unique constraint's
index (the database's collation) and a ``varchar_pattern_ops`` twin for the queue's prefix search
(``admin_views/queue.py``: ``reference LIKE 'LRP-2026-%'``). Both took an entry for each of a
request's row versions that is not a HOT update (its INSERT and the validation's UPDATE, which
changes indexed columns). ``varchar_pattern_ops`` has ``=`` as well, so one unique index with that
operator class enforces the uniqueness and serves equality and prefix; nothing orders or compares
references by the collation (the admin's columns are not sortable, ``sortable_by = ()``).

PostgreSQL: the unique index ``req_reference`` is built, then the old constraint and its twin go.
SQLite (the embedded mode) keeps the table's inline UNIQUE (dropping it would rebuild the table
and lose the report triggers of migration 0025) and gets the named index the state describes.
Reversible: backwards restores the constraint and the twin under Django's names.
"""

from django.db import migrations, models

TABLE = "requests_app_legalrequest"
OLD_CONSTRAINT = "requests_app_legalrequest_reference_key"
OLD_TWIN = "requests_app_legalrequest_reference_7b3e1014_like"
CONSTRAINT = models.UniqueConstraint(fields=["reference"], name="req_reference", opclasses=["varchar_pattern_ops"])


def _unique_constraints_on_reference(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.conname FROM pg_constraint c
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = 'reference'
             WHERE c.conrelid = %s::regclass AND c.contype = 'u' AND c.conkey = ARRAY[a.attnum]""", [TABLE])
        return [name for (name,) in cursor.fetchall()]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        # Spelt out: SQLite's schema editor would rebuild the table for this constraint.
        schema_editor.execute(f"CREATE UNIQUE INDEX {CONSTRAINT.name} ON {TABLE} (reference)")
        return
    schema_editor.add_constraint(apps.get_model("requests_app", "LegalRequest"), CONSTRAINT)
    for name in _unique_constraints_on_reference(schema_editor):
        schema_editor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT "{name}"')
    schema_editor.execute(f"DROP INDEX IF EXISTS {OLD_TWIN}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {CONSTRAINT.name}")
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {OLD_CONSTRAINT} UNIQUE (reference)")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {OLD_TWIN} ON {TABLE} (reference varchar_pattern_ops)")
    schema_editor.remove_constraint(apps.get_model("requests_app", "LegalRequest"), CONSTRAINT)


class Migration(migrations.Migration):

    dependencies = [
        ("requests_app", "0031_report_facts_in_the_moves_update"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
            state_operations=[
                migrations.AlterField(
                    model_name="legalrequest",
                    name="reference",
                    field=models.CharField(editable=False, max_length=32),
                ),
                migrations.AddConstraint(model_name="legalrequest", constraint=CONSTRAINT),
            ],
        ),
    ]
