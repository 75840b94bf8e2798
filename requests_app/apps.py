from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    """The request domain: intake, validation, legal review, audit and delivery."""

    name = "requests_app"
    verbose_name = "Legal requests"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_roles, sender=self)


def _ensure_roles(sender: AppConfig, **kwargs: object) -> None:
    from django.contrib.auth.models import Group, Permission

    from .permissions import ensure_role_groups

    ensure_role_groups(Group, Permission)
