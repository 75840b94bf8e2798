"""The audit trail moves from ``requests_app`` to its own app: state only.

The tables ``requests_app_auditevent`` and ``requests_app_auditchainhead`` (and the
append-only triggers on the first, ``requests_app`` 0002) stay as they are; only Django's
model state changes owner. ``requests_app`` 0017 removes the models from its own state.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    # The tables were created by requests_app's migrations; on a new database they must exist first.
    dependencies = [("requests_app", "0016_legalrequest_channel_every_intake")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditChainHead",
                    fields=[
                        ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                        ("seq", models.BigIntegerField(default=0)),
                        ("hash", models.CharField(max_length=64)),
                    ],
                    options={"db_table": "requests_app_auditchainhead"},
                ),
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("seq", models.BigIntegerField(unique=True)),
                        ("occurred_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("action", models.CharField(max_length=64)),
                        ("actor_id", models.BigIntegerField(blank=True, null=True)),
                        ("actor_label", models.CharField(max_length=254)),
                        ("authority_id", models.BigIntegerField(blank=True, null=True)),
                        ("object_type", models.CharField(blank=True, max_length=64)),
                        ("object_id", models.CharField(blank=True, max_length=64)),
                        ("request_id", models.BigIntegerField(blank=True, null=True)),
                        ("data", models.JSONField(blank=True, default=dict)),
                        ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                        ("prev_hash", models.CharField(max_length=64)),
                        ("hash", models.CharField(max_length=64, unique=True)),
                    ],
                    options={
                        "db_table": "requests_app_auditevent",
                        "ordering": ["seq"],
                        "indexes": [
                            models.Index(fields=["request_id", "seq"], name="audit_request_seq"),
                            models.Index(fields=["action", "occurred_at"], name="audit_action_time"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
