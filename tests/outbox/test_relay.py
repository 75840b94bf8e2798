"""The outbox is a leaf app: consumers register their topics (requests_app in its ready())."""

from __future__ import annotations

import pytest

from outbox import relay
from outbox.models import OutboxMessage, OutboxStatus


def test_requests_app_registers_its_topics():
    assert {"request.validate", "notify.", "alert."} <= set(relay.registered_topics())


def test_exact_topic_wins_over_prefix_and_longest_prefix_wins(monkeypatch):
    monkeypatch.setattr(relay, "_handlers", {})
    relay.register("notify.", lambda m: "family")
    relay.register("notify.urgent.", lambda m: "urgent family")
    relay.register("notify.one", lambda m: "exact")
    assert relay._task_for("notify.other")(None) == "family"
    assert relay._task_for("notify.urgent.x")(None) == "urgent family"
    assert relay._task_for("notify.one")(None) == "exact"
    with pytest.raises(relay.UnknownTopic):
        relay._task_for("nobody.listens")


@pytest.mark.django_db
def test_a_row_of_an_unknown_topic_stays_pending_with_the_reason():
    message = OutboxMessage.objects.create(topic="nobody.listens")
    assert relay.publish(message.pk) is False
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert "no consumer registered" in message.last_error
