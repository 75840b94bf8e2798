"""External anchors detect a chain rewritten by someone who could recompute every hash."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit import trail as audit

pytestmark = pytest.mark.django_db

KEY = "anchor-key-kept-elsewhere"


def rewrite_whole_chain_from(seq: int) -> None:
    """What a superuser could do: change a row, then recompute every later hash and the head."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            events = list(audit.AuditEvent.objects.order_by("seq"))
            prev = audit.GENESIS_HASH
            for event in events:
                if event.seq == seq:
                    event.data = {"rewritten": True}
                event.prev_hash = prev
                event.hash = audit.compute_hash(event)
                cursor.execute("UPDATE requests_app_auditevent SET data=%s, prev_hash=%s, hash=%s WHERE id=%s",
                               [json.dumps(event.data), event.prev_hash, event.hash, event.pk])
                prev = event.hash
            cursor.execute("UPDATE requests_app_auditchainhead SET hash=%s WHERE id=1", [prev])
        finally:
            cursor.execute("SET session_replication_role = origin")


def test_anchors_catch_a_recomputed_chain(settings, tmp_path):
    settings.AUDIT_ANCHOR_KEY = KEY
    for i in range(3):
        audit.record("test.event", data={"i": i})
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text(json.dumps(audit.make_anchor(KEY)) + "\n")
    call_command("verify_audit", anchors=str(anchors))  # intact

    rewrite_whole_chain_from(2)
    assert audit.verify_chain() is None  # the chain alone cannot tell
    with pytest.raises(CommandError, match="seq 3 has another hash"):
        call_command("verify_audit", anchors=str(anchors))


def test_a_forged_anchor_is_refused(settings, tmp_path):
    settings.AUDIT_ANCHOR_KEY = KEY
    audit.record("test.event")
    anchor = audit.make_anchor(KEY)
    anchor["hash"] = "f" * 64
    path = tmp_path / "anchors.jsonl"
    path.write_text(json.dumps(anchor) + "\n")
    with pytest.raises(CommandError, match="bad MAC"):
        call_command("verify_audit", anchors=str(path))


def test_beat_writes_anchors_at_its_interval_and_verify_checks_them(settings, tmp_path):
    """Issue 14 item 11: anchors come from beat at a configurable interval, not from memory."""
    from audit import tasks

    assert settings.CELERY_BEAT_SCHEDULE["write-audit-anchor"]["schedule"] == settings.AUDIT_ANCHOR_INTERVAL_SECONDS
    path = tmp_path / "anchors.jsonl"
    settings.AUDIT_ANCHOR_KEY, settings.AUDIT_ANCHOR_FILE = KEY, ""
    assert tasks.write_audit_anchor() is None and not path.exists()  # off until configured
    settings.AUDIT_ANCHOR_FILE = str(path)
    audit.record("test.event")
    assert tasks.write_audit_anchor() == 1
    audit.record("test.event")
    audit.record("test.event")
    assert tasks.write_audit_anchor() == 3
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [1, 3]
    call_command("verify_audit", anchors=str(path))
    rewrite_whole_chain_from(1)
    with pytest.raises(CommandError, match="another hash"):
        call_command("verify_audit", anchors=str(path))
