"""The legal team's groups also see notifications (requests_app.permissions.ROLE_PERMISSIONS)."""

from django.db import migrations


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from requests_app.permissions import ensure_role_groups

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    ensure_role_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0008_notification_digest")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
