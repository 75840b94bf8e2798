"""The legal team's groups (requests_app.permissions), with the admin permissions they need."""

from django.db import migrations

ROLES = {
    "legal_reviewer": ["view"],
    "legal_approver": ["view"],
    "legal_admin": ["view", "change"],
}
MODELS = ["legalrequest", "target", "attachment", "message", "auditevent", "outboxmessage", "timer",
          "internalnote", "callbackverification", "approval", "annexiii", "responsepackage", "responsefile"]


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, actions in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        codenames = [f"{action}_{model}" for action in actions for model in MODELS]
        group.permissions.add(*Permission.objects.filter(content_type__app_label="requests_app",
                                                         codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0003_review"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
