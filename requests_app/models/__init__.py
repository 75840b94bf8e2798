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
from .mailbox import AckStatus, InboundAttachment, InboundMessage, InboundStatus
from .notifications import Notification, NotificationStatus
from .outbox import OutboxMessage, OutboxStatus
from .review import (
    DECIDING_KINDS,
    AnnexIII,
    AnnexIIIKind,
    AnnexIIIReason,
    Approval,
    CallbackOutcome,
    CallbackVerification,
    InternalNote,
    ResponseFile,
    ResponsePackage,
)
from .timers import Timer, TimerKind

__all__ = [
    "DECIDING_KINDS",
    "AckStatus",
    "AnnexIII",
    "AnnexIIIKind",
    "AnnexIIIReason",
    "Approval",
    "Attachment",
    "AttachmentKind",
    "AuditChainHead",
    "AuditEvent",
    "CallbackOutcome",
    "CallbackVerification",
    "Channel",
    "IdempotencyRecord",
    "InboundAttachment",
    "InboundMessage",
    "InboundStatus",
    "InternalNote",
    "LegalRequest",
    "Message",
    "MessageKind",
    "Notification",
    "NotificationStatus",
    "OutboxMessage",
    "OutboxStatus",
    "ReferenceCounter",
    "ResponseFile",
    "ResponsePackage",
    "Target",
    "Timer",
    "TimerKind",
]
