"""``enqueue`` writes its row with an INSERT compiled once per connection (portal/compiled.create):
at 5da51ce ``OutboxMessage.objects.create`` compiled it for every row (issue 9 item 5). The row
and the instance are what ``create()`` made; a conflict fails and marks the transaction as the
ORM does; anything listening to the model's save signals gets the ORM's save."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save

from outbox import relay
from outbox.models import OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_row_is_inserted_without_compiling_and_the_instance_is_saved(no_publish, inserts):
    with transaction.atomic():
        relay.enqueue("test.first")  # the first of the connection: compiled
    inserts.clear()
    with transaction.atomic():
        message = relay.enqueue("test.second", payload={"a": [1, "b"]}, dedup_key="compiled-enqueue-1")
    assert inserts == []
    assert message.pk is not None and not message._state.adding and message._state.db == "default"
    stored = OutboxMessage.objects.get(pk=message.pk)
    assert (stored.topic, stored.payload, stored.dedup_key, stored.status, stored.attempts, stored.request_id) == (
        "test.second", {"a": [1, "b"]}, "compiled-enqueue-1", OutboxStatus.PENDING, 0, None)
    assert stored.created_at == message.created_at and stored.available_at == message.available_at


def test_a_duplicate_dedup_key_fails_and_marks_the_block_for_rollback(no_publish):
    with transaction.atomic():
        relay.enqueue("test.once", dedup_key="compiled-enqueue-2")
    before = OutboxMessage.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        relay.enqueue("test.other", dedup_key="compiled-enqueue-2")
    with transaction.atomic():
        try:
            with transaction.atomic():
                relay.enqueue("test.again", dedup_key="compiled-enqueue-2")
        except IntegrityError:
            pass
        assert OutboxMessage.objects.count() == before  # the savepoint was rolled back, the block usable
    assert OutboxMessage.objects.count() == before


def test_a_save_signal_listener_gets_the_orm_save(no_publish):
    heard: list[int] = []

    def listener(sender, instance, created, **kwargs):  # type: ignore[no-untyped-def]
        if created:
            heard.append(instance.pk)

    post_save.connect(listener, sender=OutboxMessage, weak=False)
    try:
        with transaction.atomic():
            relay.enqueue("test.heard")
            message = relay.enqueue("test.heard")
    finally:
        post_save.disconnect(listener, sender=OutboxMessage)
    # The ORM's save ran (its signals were sent). Its own INSERT may itself be compiled once per
    # connection (portal/compiled_save.py), so whether SQLInsertCompiler ran depends on the tests before.
    assert heard == [heard[0], message.pk] and message.pk is not None
