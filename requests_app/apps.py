from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    """The request domain: intake, validation, legal review, audit and delivery."""

    name = "requests_app"
    verbose_name = "Legal requests"
