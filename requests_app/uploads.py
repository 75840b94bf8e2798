"""Upload checks for PDF documents, run outside the web process (security.md §1.5; issue 15).

The web process never parses an uploaded PDF. :func:`check_upload` measures the size, then
runs ``python -m requests_app.pdf_sandbox`` with the bytes on stdin, under limits on address
space, CPU time, object count and decoded size, and reads back a JSON verdict and the
rewritten copy (see :mod:`requests_app.pdf_sandbox` for what is checked, stripped and
re-checked). It either returns a :class:`CheckedUpload` or raises :class:`UploadRejected` with a
stable machine-readable ``code`` (one of ``REJECTION_CODES``).

The original is evidence and is kept unchanged by the caller (services/attachments.py); only
``CheckedUpload.clean`` -- the rewritten bytes the strict checks ran on -- is ever served.

This module imports neither pikepdf nor Django (the sandbox imports it for the codes).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

__all__ = [
    "DEFAULT_MAX_BYTES",
    "REJECTION_CODES",
    "CheckedUpload",
    "SandboxLimits",
    "UploadRejected",
    "check_upload",
]

DEFAULT_MAX_BYTES: Final[int] = 50 * 1024 * 1024

EMPTY_FILE: Final = "empty_file"
TOO_LARGE: Final = "too_large"
NOT_PDF: Final = "not_pdf"
MALFORMED_PDF: Final = "malformed_pdf"
ENCRYPTED_PDF: Final = "encrypted_pdf"
POLYGLOT: Final = "polyglot"
TOO_COMPLEX: Final = "too_complex"

REJECTION_CODES: Final[tuple[str, ...]] = (
    EMPTY_FILE,
    TOO_LARGE,
    NOT_PDF,
    MALFORMED_PDF,
    ENCRYPTED_PDF,
    POLYGLOT,
    TOO_COMPLEX,
)

_PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent


class UploadRejected(Exception):
    """The upload is not an acceptable PDF. ``code`` is stable; ``message`` is for humans."""

    def __init__(self, code: str, message: str) -> None:
        if code not in REJECTION_CODES:
            raise ValueError(f"unknown upload rejection code: {code!r}")
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Budget of one check (settings ``UPLOAD_SANDBOX_*``)."""

    max_objects: int = 200_000
    max_decoded_bytes: int = 1024 * 1024 * 1024
    memory_bytes: int = 1536 * 1024 * 1024
    cpu_seconds: int = 20
    wall_seconds: float = 60.0
    trust_roots_file: str = ""  # PADES_TRUST_ROOTS_FILE: roots a signature must chain to


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    """An accepted upload: facts about the original and the rewritten copy to serve."""

    original_sha256: str
    original_size: int
    clean: bytes
    sha256: str
    size: int
    page_count: int
    removed: dict[str, int] = field(default_factory=dict)
    signatures: list[dict[str, Any]] = field(default_factory=list)


def check_upload(data: bytes, *, max_bytes: int, limits: SandboxLimits | None = None) -> CheckedUpload:
    """Check ``data`` in the sandbox; return the rewritten copy or raise :class:`UploadRejected`."""
    if not isinstance(data, bytes):
        raise TypeError("check_upload() expects bytes")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ValueError("max_bytes must be a positive int")
    if not data:
        raise UploadRejected(EMPTY_FILE, "The uploaded file is empty.")
    if len(data) > max_bytes:
        raise UploadRejected(TOO_LARGE, f"The uploaded file is larger than the limit of {max_bytes} bytes.")
    limits = limits or SandboxLimits()
    child_limits = {k: v for k, v in asdict(limits).items() if k != "wall_seconds"}
    with tempfile.TemporaryDirectory(prefix="lrp-pdf-") as workdir:
        out_path = os.path.join(workdir, "clean.pdf")
        try:
            completed = subprocess.run(
                [sys.executable, "-E", "-s", "-m", "requests_app.pdf_sandbox", out_path, json.dumps(child_limits)],
                input=data, capture_output=True, timeout=limits.wall_seconds, cwd=_PROJECT_ROOT,
                env=_child_env(), preexec_fn=_child_preexec(limits), start_new_session=True, check=False,
            )
        except subprocess.TimeoutExpired:
            raise UploadRejected(
                TOO_COMPLEX, "The PDF took too long to check; re-export it and upload again."
            ) from None
        verdict = _verdict(completed)
        if not verdict.get("ok"):
            code = verdict.get("code")
            raise UploadRejected(code if code in REJECTION_CODES else MALFORMED_PDF,
                                 str(verdict.get("message") or "The PDF could not be checked."))
        clean = Path(out_path).read_bytes()
    digest = hashlib.sha256(clean).hexdigest()
    if digest != verdict.get("sha256"):  # pragma: no cover - the file changed between check and read
        raise UploadRejected(MALFORMED_PDF, "The PDF could not be checked.")
    return CheckedUpload(
        original_sha256=hashlib.sha256(data).hexdigest(), original_size=len(data), clean=clean,
        sha256=digest, size=len(clean), page_count=int(verdict["page_count"]),
        removed={str(k): int(v) for k, v in dict(verdict.get("removed") or {}).items()},
        signatures=list(verdict.get("signatures") or []),
    )


def _child_env() -> dict[str, str]:
    # Nothing of the web process's environment (no secrets, no DATABASE_URL) reaches the child.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


def _child_preexec(limits: SandboxLimits) -> Any:
    def preexec() -> None:  # runs in the child between fork and exec
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return preexec


def _verdict(completed: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    if completed.returncode < 0:  # killed: SIGXCPU (CPU budget) or SIGKILL/SIGSEGV (memory)
        raise UploadRejected(TOO_COMPLEX, "The PDF is too complex to be checked within the limits.")
    try:
        verdict = json.loads(completed.stdout or b"{}")
    except ValueError:
        verdict = {}
    if not isinstance(verdict, dict) or "ok" not in verdict:
        if b"MemoryError" in (completed.stderr or b""):
            raise UploadRejected(TOO_COMPLEX, "The PDF is too complex to be checked within the limits.")
        raise UploadRejected(MALFORMED_PDF, "The PDF could not be checked.")
    return verdict
