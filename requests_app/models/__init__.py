"""Models of the request domain. Authorities and users live in ``accounts``."""

from .audit import AuditChainHead, AuditEvent
from .legal_request import (
    Attachment,
    AttachmentKind,
    Channel,
    IdempotencyRecord,
    LegalRequest,
    Message,
    MessageKind,
    ReferenceCounter,
    Target,
)
from .outbox import OutboxMessage, OutboxStatus, Timer

__all__ = [
    "Attachment",
    "AttachmentKind",
    "AuditChainHead",
    "AuditEvent",
    "Channel",
    "IdempotencyRecord",
    "LegalRequest",
    "Message",
    "MessageKind",
    "OutboxMessage",
    "OutboxStatus",
    "ReferenceCounter",
    "Target",
    "Timer",
]
