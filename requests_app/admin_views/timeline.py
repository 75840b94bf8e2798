"""The audit trail of one request in human sentences, for the change page.

"28 Nov 2026 10:41 — enqueteur@… moved the request from received to validating: automatic
validation started". Sentences are plain text; the template escapes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts.templatetags.local_time import when_plain

from ..states import Status


def _state(value: Any) -> str:
    try:
        return str(Status(value).label).lower()
    except ValueError:
        return str(value or "?")


def _status_changed(data: dict[str, Any]) -> str:
    text = f"moved the request from {_state(data.get('from'))} to {_state(data.get('to'))}"
    return f"{text}: {data['reason']}" if data.get("reason") else text


def _assigned(data: dict[str, Any]) -> str:
    return "assigned the request" if data.get("to") else "removed the assignee"


def _callback(data: dict[str, Any]) -> str:
    return f"recorded a call-back to {data.get('phone_called', '?')}: {data.get('outcome', '?')}"


def _prepared(data: dict[str, Any]) -> str:
    return f"prepared a response of {len(data.get('files') or [])} file(s)"


FIXED: dict[str, str] = {
    "request.submitted": "submitted the request",
    "request.validated": "validated the request against the rules",
    "request.note_added": "added an internal note",
    "request.message_sent": "sent a message to the authority",
    "request.message_received": "received a message from the authority",
    "request.clarification_answered": "answered the clarification request",
    "attachment.added": "added an attachment",
    "attachment.rejected": "had an attachment rejected",
    "attachment.downloaded": "downloaded an attachment",
    "response.approved": "approved the response (four eyes)",
    "response.released": "released the response to the authority",
    "response.downloaded": "downloaded the response",
    "response.download_refused": "was refused a download of the response",
    "response.purged": "purged the response files after retention",
    "timer.fired": "fired a timer",
    "notification.sent": "sent a notification",
    "access.denied": "was denied access to the request",
    "access.probes_throttled": "was throttled for probing unknown references",
    "approval.refused_stale": "was refused an approval: the prepared response had changed since it was opened",
    "response.draft_viewed": "opened a file of the prepared response",
    "approval.refused_four_eyes": "was refused an approval of a response they prepared (four eyes)",
    "request.viewed": "opened the request in the admin",
    "request.searched": "searched the queue",
    "access.admin_forbidden": "was refused an admin page",
    "auth.signed_in": "signed in",
    "auth.sign_in_failed": "failed to sign in",
    "auth.second_factor_failed": "entered a wrong second factor",
    "mfa.added": "enrolled a second factor",
    "mfa.removed": "removed a second factor",
    "mfa.reset": "renewed the recovery codes",
    "auth.password_changed": "changed the password",
    "auth.password_reset": "reset the password",
    "auth.email_changed": "changed the e-mail address",
    "outboxmessage.retried": "retried an outbox message",
    "outboxmessage.discarded": "discarded an outbox message",
    "notification.retried": "retried a notification",
    "notification.discarded": "discarded a notification",
}
def _annex_refused(reason: str, response_text: str) -> Callable[[dict[str, Any]], str]:
    def build(data: dict[str, Any]) -> str:
        if "annex_iii_id" in data or "annex_iii_id_seen" in data:
            return f"was refused an approval of an Annex III: {reason}"
        return response_text
    return build


def _annex_drafted(data: dict[str, Any]) -> str:
    kind = str(data.get("kind", "")).replace("_", "-")
    partial = "partial " if data.get("partial") else ""
    return f"signed an Annex III draft ({partial}{kind} #{data.get('annex_iii_id')}), awaiting a second person"


def _annex_approved(data: dict[str, Any]) -> str:
    return f"approved and sent the Annex III #{data.get('annex_iii_id')} (four eyes)"


BUILDERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "annex_iii.drafted": _annex_drafted,
    "annex_iii.approved": _annex_approved,
    "approval.refused_stale": _annex_refused("the draft had changed since it was opened",
                                             FIXED["approval.refused_stale"]),
    "approval.refused_four_eyes": _annex_refused("they signed it (four eyes)", FIXED["approval.refused_four_eyes"]),
    "request.partially_not_executed": lambda d: f"recorded a partial non-execution (Annex III "
                                                f"#{d.get('annex_iii_id')})",
    "request.status_changed": _status_changed,
    "request.assigned": _assigned,
    "emergency.callback": _callback,
    "response.prepared": _prepared,
}
# The actions the audit list filter offers (a fixed list: no DISTINCT over the audit table).
KNOWN_ACTIONS: tuple[str, ...] = tuple(sorted({*FIXED, *BUILDERS}))


def describe(action: str, data: dict[str, Any] | None) -> str:
    data = data or {}
    if action in BUILDERS:
        return BUILDERS[action](data)
    return FIXED.get(action, f"recorded “{action}”")


@dataclass(frozen=True)
class Line:
    at: datetime
    actor: str
    text: str

    def __str__(self) -> str:
        return f"{when_plain(self.at)} — {self.actor} {self.text}"


def timeline(events: Iterable[Any]) -> list[Line]:
    return [Line(e.occurred_at, e.actor_label, describe(e.action, e.data)) for e in events]
