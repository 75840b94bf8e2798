"""The legal team's groups also see notifications (delivery state per request)."""

from django.db import migrations

ROLES = {"legal_reviewer": ["view"], "legal_approver": ["view"], "legal_admin": ["view", "change"]}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, actions in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*Permission.objects.filter(
            content_type__app_label="requests_app", codename__in=[f"{a}_notification" for a in actions]))


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0008_notification_digest")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
