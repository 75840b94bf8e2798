from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The hash-chained audit trail, its seals and external anchors."""

    name = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"
