"""External anchors detect a chain rewritten by someone who could recompute every hash.

An anchor signs the newest seal (``audit.trail.make_anchor`` seals first), so it covers every chain.
"""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit import trail as audit

pytestmark = pytest.mark.django_db

KEY = "anchor-key-kept-elsewhere"


def rewrite_whole_chain_from(seq: int) -> None:
    """What a superuser could do: change a row, then recompute every later hash, the head and
    the whole seal chain (the test's events are one chain)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            events = list(audit.AuditEvent.objects.order_by("chain_seq"))
            prev = audit.GENESIS_HASH
            rewritten = {}
            for event in events:
                if event.chain_seq == seq:
                    event.data = {"rewritten": True}
                event.prev_hash = prev
                event.hash = audit.compute_hash(event)
                cursor.execute("UPDATE requests_app_auditevent SET data=%s, prev_hash=%s, hash=%s WHERE id=%s",
                               [json.dumps(event.data), event.prev_hash, event.hash, event.pk])
                prev = rewritten[(event.chain, event.chain_seq)] = event.hash
            cursor.execute("UPDATE audit_chain SET hash=%s WHERE key=%s", [prev, events[-1].chain])
            prev = audit.GENESIS_HASH
            for seal in audit.AuditSeal.objects.order_by("seq"):
                seal.heads = [[key, position, rewritten[(key, position)]] for key, position, _ in seal.heads]
                seal.prev_hash = prev
                seal.hash = audit.compute_seal_hash(seal)
                cursor.execute("UPDATE audit_seal SET heads=%s, prev_hash=%s, hash=%s WHERE id=%s",
                               [json.dumps(seal.heads), seal.prev_hash, seal.hash, seal.pk])
                prev = seal.hash
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
    with pytest.raises(CommandError, match="seal seq 1 has another hash"):
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
    assert tasks.write_audit_anchor() == 2  # the anchor signs the newest seal
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [1, 2]
    call_command("verify_audit", anchors=str(path))
    rewrite_whole_chain_from(1)
    with pytest.raises(CommandError, match="another hash"):
        call_command("verify_audit", anchors=str(path))
