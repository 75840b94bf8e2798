from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Authorities, their officers, the provider's legal team and API tokens."""

    name = "accounts"
    verbose_name = "Authorities and accounts"

    def ready(self) -> None:
        from . import (
            schema,  # noqa: F401  (registers the OpenAPI authentication extension)
            signals,  # noqa: F401  (credential changes revoke API tokens)
        )
