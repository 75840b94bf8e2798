"""The audit trail and the outbox now belong to the ``audit`` and ``outbox`` apps: state only.

Nothing changes in the database (the tables keep their names, rows, triggers and foreign
keys). ``Notification.outbox`` points at ``outbox.OutboxMessage`` (same table), the three
models leave this app's state, and their content types move with them so the permissions
already granted (groups, users) stay attached.
"""

import django.db.models.deletion
from django.db import migrations, models

MOVED = {"auditevent": "audit", "auditchainhead": "audit", "outboxmessage": "outbox"}


def move_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        if not content_type.objects.filter(app_label=app_label, model=model).exists():
            content_type.objects.filter(app_label="requests_app", model=model).update(app_label=app_label)


def move_content_types_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        if not content_type.objects.filter(app_label="requests_app", model=model).exists():
            content_type.objects.filter(app_label=app_label, model=model).update(app_label="requests_app")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("requests_app", "0016_legalrequest_channel_every_intake"),
        ("audit", "0001_move_from_requests_app"),
        ("outbox", "0001_move_from_requests_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="outbox",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="notifications", to="outbox.outboxmessage"),
                ),
                migrations.DeleteModel(name="AuditChainHead"),
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="OutboxMessage"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
