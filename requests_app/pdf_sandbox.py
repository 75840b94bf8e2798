"""The PDF check and rewrite, run in a separate, resource-limited process (issue 15).

``python -m requests_app.pdf_sandbox OUT_PATH`` reads the uploaded bytes (the original) on
stdin, applies its own limits (address space, CPU time), and writes one JSON verdict on stdout.
If the file is accepted, the rewritten copy is written to ``OUT_PATH``. The web process never
parses a PDF; it only runs this program (``uploads.check_upload``) and reads the verdict.

What happens here, in order:

1. ``not_pdf``: ``%PDF-`` at offset 0 and libmagic says ``application/pdf``.
2. qpdf (pikepdf) opens the original, repairing it if needed (repairs are listed, not
   refused). A password needed to open it, or certificate (public-key) encryption, is
   ``encrypted_pdf``; an owner-password-only file opens and its encryption is removed.
3. ``too_complex``: more objects than ``max_objects`` or streams that decode to more than
   ``max_decoded_bytes`` in total (counted by a bounded streaming inflate, never held).
4. Strip: every object qpdf knows about (reachable or not) is walked; JavaScript, ``/AA``,
   open actions other than GoTo, every action other than GoTo, Named and URI (http, https,
   mailto), rich-media/3D/screen/movie/sound/file-attachment annotations, XFA, embedded and
   associated files, portfolios are removed. Each removal is listed in ``removed``.
5. Rewrite: a full save (no incremental update) writes only objects reachable from the
   trailer, so unreachable/free objects, old revisions, comments and trailing bytes are gone.
6. Strict re-check on the rewritten bytes, which are exactly what is served: qpdf opens them
   without any warning, they are not encrypted, they have pages, the same walk finds no
   active content, and the file header region carries no second format (``polyglot``).
7. PAdES/CMS signatures on the *original* are verified with pyHanko and returned as data
   (signer, chain, signing time, intact/valid/trusted, and why).

This module imports neither Django nor the database.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import resource
import sys
import zlib
from dataclasses import dataclass, field
from typing import Any, Final

from requests_app.uploads import (
    ENCRYPTED_PDF,
    MALFORMED_PDF,
    NOT_PDF,
    POLYGLOT,
    TOO_COMPLEX,
    UploadRejected,
)

_PDF_HEADER: Final = b"%PDF-"
_EOF_MARKER: Final = b"%%EOF"
_PDF_WHITESPACE: Final = b"\x00\t\n\x0c\r "
_MAGIC_PROBE_BYTES: Final = 64 * 1024
_HEADER_REGION: Final = 1024
# What a browser or unpacker would recognise in the first bytes of the served file.
_HTML_RE: Final = re.compile(
    rb"<(?:html|script|svg|body|iframe|object|embed|img|!doctype)", re.IGNORECASE
)
# A second container (ZIP, RAR...) is found by its reader at the end of the file or after the
# PDF; the rewrite keeps neither, so it is not searched for (a raw search of compressed data
# refuses about 2 % of large benign files by chance).

# Actions kept: moving inside the document and links to the web or to mail (ISO 32000-1 §12.6.4).
_ALLOWED_ACTIONS: Final = frozenset({"/GoTo", "/Named", "/URI"})
_ALLOWED_URI_SCHEMES: Final = ("http", "https", "mailto")
_ACTION_KEYS: Final = ("/A", "/OpenAction", "/Next")
# Keys removed wherever they appear.
_REMOVED_KEYS: Final[dict[str, str]] = {
    "/JS": "javascript",
    "/AA": "additional_actions",
    "/XFA": "xfa",
    "/EmbeddedFiles": "embedded_files",
    "/EF": "embedded_files",
    "/AF": "associated_files",
    "/RichMediaContent": "rich_media",
    "/RichMediaSettings": "rich_media",
    "/3DD": "3d",
    "/Collection": "portfolio",
}
# ``/JavaScript`` is a key of the /Names dictionary and a value of ``/S``.
_NAMES_KEYS: Final[dict[str, str]] = {"/JavaScript": "javascript"}
_REMOVED_ANNOTATIONS: Final[dict[str, str]] = {
    "/RichMedia": "rich_media",
    "/3D": "3d",
    "/Screen": "screen",
    "/Movie": "movie",
    "/Sound": "sound",
    "/FileAttachment": "embedded_files",
}
_MESSAGES: Final[dict[str, str]] = {
    NOT_PDF: "The file is not a PDF document.",
    MALFORMED_PDF: "The PDF file is damaged beyond repair; re-export or re-save it and upload again.",
    ENCRYPTED_PDF: "The PDF is encrypted or password-protected; upload an unencrypted copy.",
    TOO_COMPLEX: "The PDF is too complex to be checked within the limits; re-export it and upload again.",
    POLYGLOT: "The file is also another format (HTML, archive or program); not accepted.",
}


@dataclass(frozen=True, slots=True)
class Limits:
    max_objects: int = 200_000
    max_decoded_bytes: int = 1024 * 1024 * 1024
    memory_bytes: int = 1536 * 1024 * 1024
    cpu_seconds: int = 20
    # PEM/DER file of the certificates a signer's chain must reach to be "trusted" (e.g. the
    # roots of the EU trusted lists that issue judges' qualified certificates); empty: none.
    trust_roots_file: str = ""


@dataclass(slots=True)
class Result:
    page_count: int
    removed: dict[str, int] = field(default_factory=dict)
    signatures: list[dict[str, Any]] = field(default_factory=list)


def _reject(code: str, detail: str = "") -> UploadRejected:
    message = _MESSAGES[code]
    return UploadRejected(code, f"{message} ({detail})" if detail else message)


def apply_limits(limits: Limits) -> None:
    """Limit this process: address space and CPU seconds (the kernel enforces both)."""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def process(data: bytes, limits: Limits) -> tuple[Result, bytes]:
    """Check, strip and rewrite ``data``; return the facts and the rewritten bytes."""
    import pikepdf

    _set_qpdf_limits(pikepdf, limits)
    _check_header(data)
    removed: dict[str, int] = {}
    tail = data[data.rfind(_EOF_MARKER) + len(_EOF_MARKER):] if _EOF_MARKER in data else b""
    if tail.strip(_PDF_WHITESPACE):
        _count(removed, "trailing_data")
    if data.count(_EOF_MARKER) > 1:
        _count(removed, "incremental_updates")

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise _reject(ENCRYPTED_PDF) from None
    except MemoryError:
        raise _reject(TOO_COMPLEX, "memory") from None
    except (pikepdf.PdfError, ValueError, RuntimeError, OverflowError, RecursionError) as error:
        if _uses_certificate_encryption(data, str(error)):
            raise _reject(ENCRYPTED_PDF, "certificate encryption") from None
        raise _reject(MALFORMED_PDF) from None
    with pdf:
        if pdf.is_encrypted:
            _count(removed, "encryption")
        _check_complexity(pikepdf, pdf, limits)
        if pdf.get_warnings():
            _count(removed, "repairs")
        known = len(pdf.objects)
        _walk(pikepdf, pdf, removed, fix=True)
        out = io.BytesIO()
        try:
            pdf.save(out, encryption=False, compress_streams=True,
                     stream_decode_level=pikepdf.StreamDecodeLevel.none,
                     object_stream_mode=pikepdf.ObjectStreamMode.generate)
        except (pikepdf.PdfError, ValueError, RuntimeError, RecursionError):
            raise _reject(MALFORMED_PDF, "could not be rewritten") from None
    clean = out.getvalue()
    page_count = _strict_check(pikepdf, clean)
    with pikepdf.open(io.BytesIO(clean)) as rewritten:
        dropped = known - len(rewritten.objects)
    if dropped > 0:
        _count(removed, "unreachable_objects", dropped)
    signatures = verify_signatures(data, trust_roots_file=limits.trust_roots_file)
    return Result(page_count=page_count, removed=removed, signatures=signatures), clean


def _count(removed: dict[str, int], item: str, n: int = 1) -> None:
    removed[item] = removed.get(item, 0) + n


def _set_qpdf_limits(pikepdf: Any, limits: Limits) -> None:
    per_stream = min(limits.max_decoded_bytes, 256 * 1024 * 1024)
    pikepdf.settings.set_qpdf_limits(flate_max_memory=per_stream, png_max_memory=per_stream,
                                     run_length_max_memory=per_stream, tiff_max_memory=per_stream)


def _check_header(data: bytes) -> None:
    if not data.startswith(_PDF_HEADER):
        raise _reject(NOT_PDF)
    import magic

    try:
        mime = magic.from_buffer(data[:_MAGIC_PROBE_BYTES], mime=True)
    except magic.MagicException:  # pragma: no cover - libmagic failure, fail closed
        mime = ""
    if mime != "application/pdf":
        raise _reject(NOT_PDF)
    _check_polyglot_header(data)


def _check_polyglot_header(data: bytes) -> None:
    """The first bytes decide how a browser or unpacker treats a file: only PDF there."""
    if _HTML_RE.search(data, 0, _HEADER_REGION) is not None:
        raise _reject(POLYGLOT, "HTML")


def _uses_certificate_encryption(data: bytes, error: str) -> bool:
    return b"/Adobe.PubSec" in data or "PubSec" in error or "public key" in error.lower()


def _check_complexity(pikepdf: Any, pdf: Any, limits: Limits) -> None:
    try:
        count = len(pdf.get_xref_table())
    except Exception:
        count = 0
    if count > limits.max_objects:
        raise _reject(TOO_COMPLEX, f"more than {limits.max_objects} objects")
    budget = limits.max_decoded_bytes
    seen = 0
    for obj in pdf.objects:
        seen += 1
        if seen > limits.max_objects:
            raise _reject(TOO_COMPLEX, f"more than {limits.max_objects} objects")
        if not isinstance(obj, pikepdf.Stream):
            continue
        budget -= _decoded_size(pikepdf, obj, budget)
        if budget < 0:
            raise _reject(TOO_COMPLEX, "content decodes to more than the limit")


def _decoded_size(pikepdf: Any, stream: Any, budget: int) -> int:
    """Bytes the stream's Flate layer inflates to, stopping once past ``budget``."""
    filters = stream.stream_dict.get("/Filter")
    first = filters[0] if isinstance(filters, pikepdf.Array) and len(filters) else filters
    try:
        raw = stream.read_raw_bytes()
    except (pikepdf.PdfError, RuntimeError):
        return 0
    if first is None or str(first) not in ("/FlateDecode", "/Fl"):
        return len(raw)
    inflater = zlib.decompressobj()
    total = 0
    chunk = raw
    try:
        while chunk and total <= budget:
            total += len(inflater.decompress(chunk, 1 << 20))
            chunk = inflater.unconsumed_tail
    except zlib.error:
        return total  # a damaged stream: qpdf leaves it as it is; readers see garbage
    return total


def _walk(pikepdf: Any, pdf: Any, removed: dict[str, int], *, fix: bool) -> None:
    """Find (and with ``fix`` remove) active content in every object qpdf knows about."""
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            kept = []
            for annot in annots:
                subtype = str(annot.get("/Subtype")) if isinstance(annot, pikepdf.Dictionary) else ""
                item = _REMOVED_ANNOTATIONS.get(subtype)
                if item is None:
                    kept.append(annot)
                else:
                    _count(removed, item)
            if fix and len(kept) != len(annots):
                page.obj.Annots = pikepdf.Array(kept)
    roots: list[Any] = [pdf.trailer]
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            roots.append(obj.stream_dict)
        elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Array)):
            roots.append(obj)
    for root in roots:
        stack = [root]
        while stack:
            obj = stack.pop()
            if isinstance(obj, pikepdf.Dictionary):
                _clean_dictionary(pikepdf, obj, removed, fix=fix)
                children = list(obj.values())
            elif isinstance(obj, pikepdf.Array):
                children = list(obj)
            else:
                continue
            stack.extend(c for c in children
                         if isinstance(c, (pikepdf.Dictionary, pikepdf.Array)) and not c.is_indirect)


def _clean_dictionary(pikepdf: Any, obj: Any, removed: dict[str, int], *, fix: bool) -> None:
    for key in list(obj.keys()):
        item = _REMOVED_KEYS.get(key)
        if item is None and key in _NAMES_KEYS and not isinstance(obj.get(key), pikepdf.Name):
            item = _NAMES_KEYS[key]
        if item is not None:
            _count(removed, item)
            if fix:
                del obj[key]
    subtype = obj.get("/S")
    if isinstance(subtype, pikepdf.Name) and str(subtype) not in _ALLOWED_ACTIONS:
        # An action dictionary of a forbidden type: make it harmless where it stands too
        # (it may be reached through a path we do not know of).
        _count(removed, "action_" + str(subtype)[1:].lower())
        if fix:
            for key in list(obj.keys()):
                if key not in ("/Type",):
                    del obj[key]
            obj.S = pikepdf.Name.GoTo
            obj.D = pikepdf.Array()
    for key in _ACTION_KEYS:
        if key not in obj:
            continue
        value = obj.get(key)
        if key == "/OpenAction" and isinstance(value, pikepdf.Array):
            continue  # a destination ("open at page 1")
        actions = list(value) if key == "/Next" and isinstance(value, pikepdf.Array) else [value]
        bad = [_action_problem(pikepdf, a) for a in actions]
        problems = [p for p in bad if p is not None]
        if problems:
            for problem in problems:
                _count(removed, problem if key != "/OpenAction" else "open_action")
            if fix:
                del obj[key]


def _action_problem(pikepdf: Any, action: Any) -> str | None:
    """Why an action may not stay, or ``None`` if it may."""
    if not isinstance(action, pikepdf.Dictionary):
        return "action_invalid"
    subtype = action.get("/S")
    name = str(subtype) if isinstance(subtype, pikepdf.Name) else ""
    if name not in _ALLOWED_ACTIONS:
        return "action_" + (name[1:].lower() or "invalid")
    if name == "/URI":
        uri = action.get("/URI")
        try:
            text = bytes(uri).decode("latin-1") if uri is not None else ""
        except (TypeError, ValueError):
            return "uri_invalid"
        scheme, sep, _rest = text.strip().partition(":")
        if not sep or scheme.lower() not in _ALLOWED_URI_SCHEMES:
            return "uri_" + (scheme.lower() if sep and scheme.isalpha() else "other")
    return None


def _strict_check(pikepdf: Any, clean: bytes) -> int:
    """The checks on exactly the bytes that will be served."""
    if not clean.startswith(_PDF_HEADER) or clean.rstrip(_PDF_WHITESPACE)[-5:] != _EOF_MARKER:
        raise _reject(MALFORMED_PDF, "rewrite incomplete")
    _check_polyglot_header(clean)
    try:
        with pikepdf.open(io.BytesIO(clean)) as pdf:
            if pdf.is_encrypted:
                raise _reject(ENCRYPTED_PDF)
            leftovers: dict[str, int] = {}
            _walk(pikepdf, pdf, leftovers, fix=False)
            page_count = len(pdf.pages)
            warnings = pdf.get_warnings()
    except (pikepdf.PdfError, ValueError, RuntimeError, RecursionError):
        raise _reject(MALFORMED_PDF) from None
    if warnings:
        raise _reject(MALFORMED_PDF, "rewritten copy not clean")
    if leftovers:
        raise _reject(MALFORMED_PDF, "active content could not be removed")
    if page_count < 1:
        raise _reject(MALFORMED_PDF, "no pages")
    return page_count


def _trust_roots(path: str) -> list[Any]:
    if not path:
        return []
    from pyhanko.keys import load_certs_from_pemder

    return list(load_certs_from_pemder([path]))


def verify_signatures(data: bytes, *, trust_roots_file: str = "") -> list[dict[str, Any]]:
    """Every signature of the original, verified with pyHanko, as data. Offline (no fetching of
    revocation data inside the sandbox): ``trusted`` means the chain reaches a configured root."""
    if b"/ByteRange" not in data:
        return []
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko_certvalidator import ValidationContext
    except ImportError:  # pragma: no cover - pyHanko missing: say so rather than guess
        return [{"valid": False, "why": "pyHanko is not installed; signature not verified"}]
    results: list[dict[str, Any]] = []
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as error:
        return [{"valid": False, "why": f"signatures could not be read: {type(error).__name__}"}]
    try:
        roots = _trust_roots(trust_roots_file)
    except Exception as error:
        return [{"valid": False, "why": f"trust roots could not be read: {type(error).__name__}"}]
    for sig in embedded:
        entry: dict[str, Any] = {"field": sig.field_name}
        try:
            status = validate_pdf_signature(sig, ValidationContext(trust_roots=roots, allow_fetching=False))
            cert = status.signing_cert
            entry.update({
                "signer": cert.subject.human_friendly,
                "issuer": cert.issuer.human_friendly,
                "serial": str(cert.serial_number),
                "chain": [c.subject.human_friendly for c in sig.other_embedded_certs],
                "signing_time": status.signer_reported_dt.isoformat() if status.signer_reported_dt else None,
                "timestamp": (status.timestamp_validity.timestamp.isoformat()
                              if status.timestamp_validity is not None else None),
                "intact": bool(status.intact),
                "valid": bool(status.intact and status.valid),
                "trusted": bool(status.trusted),
                "coverage": status.coverage.name if status.coverage is not None else None,
                "modification_level": (status.modification_level.name
                                       if status.modification_level is not None else None),
                "why": _signature_why(status),
            })
        except Exception as error:
            entry.update({"valid": False, "why": f"verification failed: {type(error).__name__}: {error}"[:300]})
        results.append(entry)
    return results


def _signature_why(status: Any) -> str:
    if not status.intact:
        return "the signed bytes were changed after signing"
    if not status.valid:
        return "the cryptographic signature does not verify"
    if not status.trusted:
        return "signature intact and valid; the signer's certificate does not chain to a configured trust root"
    return "signature intact, valid and trusted"


def main(argv: list[str]) -> int:
    limits = Limits(**json.loads(argv[2])) if len(argv) > 2 else Limits()
    apply_limits(limits)
    out_path = argv[1]
    data = sys.stdin.buffer.read()
    try:
        result, clean = process(data, limits)
    except UploadRejected as rejected:
        verdict: dict[str, Any] = {"ok": False, "code": rejected.code, "message": rejected.message}
    except MemoryError:
        verdict = {"ok": False, "code": TOO_COMPLEX, "message": _MESSAGES[TOO_COMPLEX]}
    else:
        with open(out_path, "wb") as handle:
            handle.write(clean)
        verdict = {"ok": True, "page_count": result.page_count, "removed": result.removed,
                   "signatures": result.signatures, "sha256": hashlib.sha256(clean).hexdigest(),
                   "size": len(clean)}
    sys.stdout.write(json.dumps(verdict))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through uploads.check_upload
    os.umask(0o077)
    sys.exit(main(sys.argv))
