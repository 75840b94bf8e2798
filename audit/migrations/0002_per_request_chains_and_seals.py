"""One chain per request (and a few shards for the rest), heads per chain, and the seal chain.

* Existing events stay untouched (the table refuses UPDATE): they are the legacy chain
  ``chain = ""`` (position = ``seq``, hashed as before); their head moves from
  ``requests_app_auditchainhead`` (one row, dropped) to ``audit_chain`` under the key "".
* New events get ``chain``/``chain_seq`` and a global ``seq`` from the PostgreSQL sequence
  ``audit_event_seq`` (started after the highest existing ``seq``): no lock.
* ``audit_seal`` is append-only like the events (PostgreSQL and SQLite triggers). On SQLite the
  events' triggers are created again in case the columns' addition rebuilt the table.
"""

import django.utils.timezone
from django.db import migrations, models

GENESIS = "0" * 64


def copy_legacy_head(apps, schema_editor):
    old = apps.get_model("audit", "AuditChainHead").objects.filter(pk=1).first()
    if old is not None and (old.seq or old.hash != GENESIS):
        apps.get_model("audit", "AuditChain").objects.create(key="", seq=old.seq, hash=old.hash, sealed_seq=0)


def copy_legacy_head_back(apps, schema_editor):
    legacy = apps.get_model("audit", "AuditChain").objects.filter(key="").first()
    apps.get_model("audit", "AuditChainHead").objects.update_or_create(
        pk=1, defaults={"seq": legacy.seq if legacy else 0, "hash": legacy.hash if legacy else GENESIS})


PG_FORWARD = [
    "CREATE SEQUENCE IF NOT EXISTS audit_event_seq START 1",
    "SELECT setval('audit_event_seq', COALESCE((SELECT max(seq) FROM requests_app_auditevent), 0) + 1, false)",
    """
    CREATE OR REPLACE FUNCTION audit_refuse() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_seal_no_update_delete
        BEFORE UPDATE OR DELETE ON audit_seal
        FOR EACH ROW EXECUTE FUNCTION audit_refuse()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_seal_no_update_delete ON audit_seal",
    "DROP FUNCTION IF EXISTS audit_refuse()",
    "DROP SEQUENCE IF EXISTS audit_event_seq",
]
SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {name}_no_{op.lower()}
    BEFORE {op} ON {table}
    BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END
    """
    for name, table in (("requests_app_audit", "requests_app_auditevent"), ("audit_seal", "audit_seal"))
    for op in ("UPDATE", "DELETE")
]
SQLITE_BACKWARD = [f"DROP TRIGGER IF EXISTS audit_seal_no_{op}" for op in ("update", "delete")]


def protect_forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}.get(vendor, []):
        schema_editor.execute(statement, params=None)


def protect_backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_move_from_requests_app'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditChain',
            fields=[
                ('key', models.CharField(max_length=64, primary_key=True, serialize=False)),
                ('seq', models.BigIntegerField(default=0)),
                ('hash', models.CharField(max_length=64)),
                ('sealed_seq', models.BigIntegerField(default=0)),
            ],
            options={
                'db_table': 'audit_chain',
            },
        ),
        migrations.CreateModel(
            name='AuditSeal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.BigIntegerField(unique=True)),
                ('sealed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('heads', models.JSONField(default=list)),
                ('prev_hash', models.CharField(max_length=64)),
                ('hash', models.CharField(max_length=64, unique=True)),
            ],
            options={
                'db_table': 'audit_seal',
                'ordering': ['seq'],
            },
        ),
        migrations.RunPython(copy_legacy_head, copy_legacy_head_back),
        migrations.DeleteModel(
            name='AuditChainHead',
        ),
        migrations.AddField(
            model_name='auditevent',
            name='chain',
            field=models.CharField(blank=True, db_default='', default='', max_length=64),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='chain_seq',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.UniqueConstraint(condition=models.Q(('chain_seq__isnull', False)), fields=('chain', 'chain_seq'), name='audit_chain_position'),
        ),
        migrations.AddIndex(
            model_name='auditchain',
            index=models.Index(condition=models.Q(('seq__gt', models.F('sealed_seq'))), fields=['key'], name='audit_chain_unsealed'),
        ),
        migrations.RunPython(protect_forward, protect_backward),
    ]
