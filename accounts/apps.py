from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Authorities, their officers, the provider's legal team and API tokens."""

    name = "accounts"
    verbose_name = "Authorities and accounts"

    def ready(self) -> None:
        # Receivers (audit of account events, the sign-in instant, token revocation on credential
        # changes) and the OpenAPI auth extension.
        from . import audit_signals, enrolment, middleware, schema, signals, staff  # noqa: F401
