"""Models of the request domain. Authorities and users live in ``accounts``."""

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
from .review import (
    DECIDING_KINDS,
    AnnexIII,
    AnnexIIIKind,
    AnnexIIIOrigin,
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
    "AnnexIIIOrigin",
    "AnnexIIIReason",
    "Approval",
    "Attachment",
    "AttachmentKind",
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
    "ReferenceCounter",
    "ResponseFile",
    "ResponsePackage",
    "Target",
    "Timer",
    "TimerKind",
]
