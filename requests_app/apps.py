from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    """The request domain: intake, validation, legal review, audit and delivery."""

    name = "requests_app"
    verbose_name = "Legal requests"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from portal import compiled

        post_migrate.connect(_ensure_roles, sender=self)
        _register_outbox_topics()
        compiled.keep_conversions()


def _register_outbox_topics() -> None:
    """The outbox (a leaf app) hands each topic of this app to its Celery task."""
    from outbox import relay

    def validate(message):  # type: ignore[no-untyped-def]
        # Imported when a row is published: tasks import services, which import the outbox.
        from . import tasks

        return tasks.validate_request.apply_async(**_by_id(message.request_id))

    def notify(message):  # type: ignore[no-untyped-def]
        from . import tasks

        if tasks.sending_notifications_here():  # the validation task sends its receipt itself
            return tasks.send_notifications.run(message.pk, message=message)
        return tasks.send_notifications.apply_async(**_by_id(message.pk))

    relay.register("request.validate", validate)
    relay.register("notify.", notify)
    relay.register("alert.", notify)


def _by_id(pk: int | None) -> dict[str, object]:
    """``apply_async`` options of a task called with one row id. The message carries the same
    ``argsrepr``/``kwargsrepr`` headers Celery writes (its ``saferepr`` of ``(pk,)`` and ``{}``),
    given here because a generic ``saferepr`` of every published call cost more than the rest of
    building the message's headers (issue 9 item 5)."""
    args = (pk,)
    return {"args": args, "argsrepr": repr(args), "kwargsrepr": "{}"}  # saferepr's text for an int or None


def _ensure_roles(sender: AppConfig, **kwargs: object) -> None:
    from django.contrib.auth.models import Group, Permission

    from .permissions import ensure_role_groups

    ensure_role_groups(Group, Permission)
