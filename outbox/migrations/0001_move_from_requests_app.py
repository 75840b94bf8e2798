"""The outbox moves from ``requests_app`` to its own app: state only.

The table ``requests_app_outboxmessage`` stays as it is (rows, indexes, constraints and the
foreign keys from ``requests_app_notification``); ``requests_app`` 0017 removes the model from
its own state and points ``Notification.outbox`` here.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("requests_app", "0016_legalrequest_channel_every_intake")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OutboxMessage",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("topic", models.CharField(max_length=64)),
                        ("payload", models.JSONField(blank=True, default=dict)),
                        ("dedup_key", models.CharField(blank=True, max_length=200, null=True, unique=True)),
                        ("status", models.CharField(choices=[("pending", "Pending"), ("sent", "Sent to the queue"), ("failed", "Failed"), ("discarded", "Discarded")], default="pending", max_length=16)),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("available_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("last_error", models.TextField(blank=True)),
                        ("request", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="outbox", to="requests_app.legalrequest")),
                    ],
                    options={
                        "db_table": "requests_app_outboxmessage",
                        "ordering": ["id"],
                        "indexes": [models.Index(condition=models.Q(("status", "pending")), fields=["available_at", "id"], name="outbox_pending_due")],
                        "constraints": [models.CheckConstraint(condition=models.Q(("status__in", ["pending", "sent", "failed", "discarded"])), name="outbox_status_valid")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
