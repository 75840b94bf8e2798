from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """Work committed with the change that needs it, relayed to Celery after commit."""

    name = "outbox"
    verbose_name = "Outbox"
    default_auto_field = "django.db.models.BigAutoField"
