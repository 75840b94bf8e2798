"""The legal team's groups also see notifications (requests_app.permissions.ROLE_PERMISSIONS).

Once a data migration; now empty. The post_migrate handler of requests_app (apps.py) applies
the roles after every ``migrate`` and flush, so a second copy here only repeated it with
today's code against a historical schema. Kept so the migration graph stays the same.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0008_notification_digest")]

    operations: list[migrations.operations.base.Operation] = []
