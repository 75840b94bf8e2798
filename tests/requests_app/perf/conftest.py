from __future__ import annotations

import pytest


@pytest.fixture
def no_broker(monkeypatch) -> list[tuple[str, tuple]]:
    """The Celery tasks the outbox hands work to are recorded as (name, args), not sent."""
    from requests_app import tasks

    sent: list[tuple[str, tuple]] = []
    for name in ("validate_request", "drain_validations", "send_notifications", "send_notification"):
        task = getattr(tasks, name)

        def record(args=(), kwargs=None, _name=name, **options):  # type: ignore[no-untyped-def]
            sent.append((_name, tuple(args)))

        monkeypatch.setattr(task, "apply_async", record)
    return sent


@pytest.fixture
def calls(monkeypatch):
    """``calls(owner, name)``: a list that grows by one at each call of ``owner.name``."""

    def count(owner, name):  # type: ignore[no-untyped-def]
        seen: list[int] = []
        original = getattr(owner, name)

        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(1)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)
        return seen

    return count
