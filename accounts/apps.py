from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Authorities, their officers, the provider's legal team and API tokens."""

    name = "accounts"
    verbose_name = "Authorities and accounts"

    def ready(self) -> None:
        from . import middleware, schema  # noqa: F401  (the sign-in receiver; the OpenAPI authentication extension)
