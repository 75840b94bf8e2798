"""Content validation for uploaded PDF documents (security.md §1.5, test matrix U1-U5, U7).

``inspect_pdf`` is a pure function: it takes the complete upload as bytes, never touches the
filesystem, the database or Django, and either returns an :class:`InspectedPdf` or raises
:class:`UploadRejected` with a stable machine-readable ``code`` (one of ``REJECTION_CODES``).

Checks, in this order (the first failing check decides the code):

1. ``empty_file`` / ``too_large`` -- byte length only.
2. ``not_pdf`` -- ``%PDF-`` at offset 0 *and* libmagic says ``application/pdf``. The client's
   filename and ``Content-Type`` are never consulted.
3. Raw-byte polyglot checks: a second container signature anywhere (``polyglot``), a missing
   ``%%EOF`` or ``startxref`` (``malformed_pdf``), anything but PDF whitespace after the last
   ``%%EOF``, or a last ``%%EOF`` that does not close a ``startxref <offset>`` trailer, i.e.
   ``<junk>%%EOF`` appended to a PDF (``trailing_data``).
4. ``malformed_pdf`` / ``encrypted_pdf`` -- qpdf (pikepdf) must open the file from memory
   without a password and it must not be encrypted at all (owner-password-only included).
   A file qpdf can only read by repairing it (any qpdf warning) is ``malformed_pdf`` too, but
   only after the active-content checks, so a damaged file with JavaScript reports JavaScript.
5. Active content, by walking every object qpdf knows about (not just the catalog), plus a
   raw-byte scan for names spelled with ``#xx`` escapes (``/J#61vaScript``).

Nothing here decodes content or image streams. Object streams are the only streams qpdf must
decode to reach the objects inside them; their decoded size is bounded *before* qpdf touches
them (decompression-bomb guard, U7).
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import zlib
from dataclasses import dataclass
from typing import Final

import magic
import pikepdf

__all__ = [
    "DEFAULT_MAX_BYTES",
    "REJECTION_CODES",
    "InspectedPdf",
    "UploadRejected",
    "inspect_pdf",
]

DEFAULT_MAX_BYTES: Final[int] = 20 * 1024 * 1024

EMPTY_FILE: Final = "empty_file"
TOO_LARGE: Final = "too_large"
NOT_PDF: Final = "not_pdf"
MALFORMED_PDF: Final = "malformed_pdf"
ENCRYPTED_PDF: Final = "encrypted_pdf"
ACTIVE_CONTENT_JAVASCRIPT: Final = "active_content_javascript"
ACTIVE_CONTENT_OPENACTION: Final = "active_content_openaction"
ACTIVE_CONTENT_LAUNCH: Final = "active_content_launch"
EMBEDDED_FILE: Final = "embedded_file"
TRAILING_DATA: Final = "trailing_data"
POLYGLOT: Final = "polyglot"

REJECTION_CODES: Final[tuple[str, ...]] = (
    EMPTY_FILE,
    TOO_LARGE,
    NOT_PDF,
    MALFORMED_PDF,
    ENCRYPTED_PDF,
    ACTIVE_CONTENT_JAVASCRIPT,
    ACTIVE_CONTENT_OPENACTION,
    ACTIVE_CONTENT_LAUNCH,
    EMBEDDED_FILE,
    TRAILING_DATA,
    POLYGLOT,
)

_MESSAGES: Final[dict[str, str]] = {
    ACTIVE_CONTENT_JAVASCRIPT: "The PDF contains JavaScript or an XFA form, which is not allowed.",
    ACTIVE_CONTENT_OPENACTION: (
        "The PDF contains automatic actions (/OpenAction or /AA), which are not allowed."
    ),
    ACTIVE_CONTENT_LAUNCH: "The PDF contains a /Launch action, which is not allowed.",
    EMBEDDED_FILE: "The PDF contains embedded files or file attachments, which are not allowed.",
}

# When one document has several kinds of active content, report the most specific one:
# an /OpenAction that runs JavaScript is reported as JavaScript, not as an OpenAction.
_ACTIVE_CONTENT_PRIORITY: Final[tuple[str, ...]] = (
    ACTIVE_CONTENT_JAVASCRIPT,
    ACTIVE_CONTENT_LAUNCH,
    EMBEDDED_FILE,
    ACTIVE_CONTENT_OPENACTION,
)

_PDF_HEADER: Final = b"%PDF-"
_EOF_MARKER: Final = b"%%EOF"
# PDF 32000-1 §7.2.2 white-space characters: NUL, HT, LF, FF, CR, SP.
_PDF_WHITESPACE: Final = b"\x00\t\n\x0c\r "
_STARTXREF_RE: Final = re.compile(rb"startxref[\x00\t\n\x0c\r ]+[0-9]{1,20}[\x00\t\n\x0c\r ]*\Z")
_MAGIC_PROBE_BYTES: Final = 64 * 1024
_XREF_COMPRESSED: Final = 2  # xref entry type: object stored inside an object stream
# Total decoded size allowed for all object streams (they hold only dictionaries, arrays and
# numbers, so legitimate documents stay far below this).
_MAX_OBJSTM_DECODED_BYTES: Final = 64 * 1024 * 1024

# qpdf decodes cross-reference streams while opening a file, before any check of ours can run,
# and by default without any limit: a ~2 MB xref-stream bomb costs 2 GB of RAM. These qpdf
# limits are process-wide; _ensure_qpdf_limits() sets each one only if it is still at qpdf's
# "unlimited" default (0), so a value configured at startup always wins.
_QPDF_DECODE_LIMIT: Final = 256 * 1024 * 1024  # bytes, per decoded stream
# Exceptions qpdf/pikepdf raise for bad input (UploadRejected is none of these).
_QPDF_ERRORS: Final = (pikepdf.PdfError, ValueError, RuntimeError, OverflowError, RecursionError)

# Second-container signatures. ZIP (local header, central directory, end of central
# directory), RAR 4/5, 7-Zip, ELF. GZIP/PE/PNG are only meaningful at offset 0, where we
# already require %PDF-.
_BINARY_SIGNATURES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"PK\x03\x04", "ZIP local file header"),
    (b"PK\x01\x02", "ZIP central directory"),
    (b"PK\x05\x06", "ZIP end of central directory"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"\x7fELF", "ELF executable"),
)
_HTML_SIGNATURE_RE: Final = re.compile(
    rb"<(?:html|script|!doctype[\x00\t\n\x0c\r ]+html)", re.IGNORECASE
)

# PDF delimiters and white space end a name token (PDF 32000-1 §7.2.2, §7.3.5).
_NAME_CHARS: Final = rb"[^\x00\t\n\x0c\r /\[\]<>(){}%#]"
# A name token containing at least one #xx escape. Built without nested unbounded
# quantifiers that could backtrack badly on binary data.
_ESCAPED_NAME_RE: Final = re.compile(
    rb"/" + _NAME_CHARS + rb"*#[0-9A-Fa-f]{2}(?:" + _NAME_CHARS + rb"|#[0-9A-Fa-f]{2})*"
)
_HEX_ESCAPE_RE: Final = re.compile(rb"#([0-9A-Fa-f]{2})")

# Dictionary keys that are active content wherever they appear.
_KEY_CODES: Final[dict[str, str]] = {
    "/JS": ACTIVE_CONTENT_JAVASCRIPT,
    "/JavaScript": ACTIVE_CONTENT_JAVASCRIPT,  # /Names name tree
    # XFA forms can carry scripts inside (compressed) XML streams that we do not decode.
    "/XFA": ACTIVE_CONTENT_JAVASCRIPT,
    "/AA": ACTIVE_CONTENT_OPENACTION,
    "/EmbeddedFiles": EMBEDDED_FILE,  # /Names name tree
    "/EmbeddedFile": EMBEDDED_FILE,
    "/EF": EMBEDDED_FILE,  # file specification with embedded file streams
}
# Name *values* that are active content (e.g. ``/S /Launch``, ``/Subtype /FileAttachment``).
_NAME_VALUE_CODES: Final[dict[str, str]] = {
    "/JavaScript": ACTIVE_CONTENT_JAVASCRIPT,
    "/Launch": ACTIVE_CONTENT_LAUNCH,
    "/FileAttachment": EMBEDDED_FILE,
    "/EmbeddedFile": EMBEDDED_FILE,
}
_OPEN_ACTION: Final = "/OpenAction"
# Names that are hostile when spelled with #xx escapes in the raw bytes (no legitimate writer
# escapes plain ASCII letters). /OpenAction is included here even though an /OpenAction
# destination array is otherwise allowed.
_RAW_ESCAPED_NAME_CODES: Final[dict[bytes, str]] = {
    **{k.encode(): v for k, v in _KEY_CODES.items()},
    **{k.encode(): v for k, v in _NAME_VALUE_CODES.items()},
    _OPEN_ACTION.encode(): ACTIVE_CONTENT_OPENACTION,
}
# Cheap pre-filter over qpdf's canonical serialisation of each object; only objects that
# match are analysed structurally (which also rules out matches inside strings).
_INTERESTING_NAME_RE: Final = re.compile(
    rb"/(?:JS|JavaScript|XFA|AA|EmbeddedFiles?|EF|OpenAction|Launch|FileAttachment)"
    rb"(?![^\x00\t\n\x0c\r /\[\]<>(){}%])"
)


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
class InspectedPdf:
    """Facts about an accepted PDF."""

    sha256: str
    size: int
    page_count: int


def inspect_pdf(data: bytes, *, max_bytes: int) -> InspectedPdf:
    """Validate an uploaded PDF held in memory; raise :class:`UploadRejected` if unacceptable."""
    if not isinstance(data, bytes):
        raise TypeError("inspect_pdf() expects bytes")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ValueError("max_bytes must be a positive int")

    size = len(data)
    if size == 0:
        raise UploadRejected(EMPTY_FILE, "The uploaded file is empty.")
    if size > max_bytes:
        raise UploadRejected(
            TOO_LARGE, f"The uploaded file is larger than the limit of {max_bytes} bytes."
        )

    _check_pdf_signature(data)
    _check_raw_structure(data)
    codes, page_count, damaged = _inspect_document(data)

    for code in _ACTIVE_CONTENT_PRIORITY:
        if code in codes:
            raise UploadRejected(code, _MESSAGES[code])
    if damaged:
        # qpdf had to repair the file (reconstructed xref, bad stream lengths, unreadable
        # objects...). Another reader may repair it differently and see other objects, so
        # the checks above would not be trustworthy: fail closed.
        raise UploadRejected(
            MALFORMED_PDF, "The PDF file is damaged; re-export or re-save it and upload again."
        )
    if page_count < 1:
        raise UploadRejected(MALFORMED_PDF, "The PDF has no pages.")

    return InspectedPdf(sha256=hashlib.sha256(data).hexdigest(), size=size, page_count=page_count)


def _inspect_document(data: bytes) -> tuple[set[str], int, bool]:
    """Open with qpdf; return (active-content codes, page count, qpdf had to repair it)."""
    _ensure_qpdf_limits()
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        raise UploadRejected(
            ENCRYPTED_PDF, "The PDF is password-protected; upload an unencrypted copy."
        ) from None
    except _QPDF_ERRORS:
        raise UploadRejected(MALFORMED_PDF, "The PDF file is damaged or not valid.") from None

    with pdf:
        if pdf.is_encrypted:
            raise UploadRejected(ENCRYPTED_PDF, "The PDF is encrypted; upload an unencrypted copy.")
        try:
            _check_object_stream_sizes(pdf)
            codes = _scan_escaped_names(data)
            codes |= _scan_objects(pdf)
            page_count = len(pdf.pages)
            damaged = bool(pdf.get_warnings())
        except _QPDF_ERRORS:
            raise UploadRejected(MALFORMED_PDF, "The PDF file is damaged or not valid.") from None
    return codes, page_count, damaged


@functools.cache
def _ensure_qpdf_limits() -> None:
    current = pikepdf.settings.get_qpdf_limits()

    def limit(name: str) -> int | None:
        return None if current[name] else _QPDF_DECODE_LIMIT  # None: leave unchanged

    pikepdf.settings.set_qpdf_limits(
        flate_max_memory=limit("flate_max_memory"),
        png_max_memory=limit("png_max_memory"),
        run_length_max_memory=limit("run_length_max_memory"),
        tiff_max_memory=limit("tiff_max_memory"),
    )


def _check_pdf_signature(data: bytes) -> None:
    if not data.startswith(_PDF_HEADER):
        raise UploadRejected(NOT_PDF, "The file is not a PDF document.")
    try:
        mime = magic.from_buffer(data[:_MAGIC_PROBE_BYTES], mime=True)
    except magic.MagicException:  # pragma: no cover - libmagic failure, fail closed
        mime = ""
    if mime != "application/pdf":
        raise UploadRejected(NOT_PDF, "The file is not a PDF document.")


def _check_raw_structure(data: bytes) -> None:
    for signature, label in _BINARY_SIGNATURES:
        if data.find(signature) != -1:
            raise UploadRejected(
                POLYGLOT, f"The file also contains another format ({label}); not accepted."
            )
    if _HTML_SIGNATURE_RE.search(data) is not None:
        raise UploadRejected(POLYGLOT, "The file also contains HTML or script; not accepted.")

    eof = data.rfind(_EOF_MARKER)
    if eof == -1:
        raise UploadRejected(
            MALFORMED_PDF, "The PDF is incomplete (no end-of-file marker); it may be truncated."
        )
    # The last %%EOF must end the file (PDF white space aside) and close a real trailer
    # ("startxref <offset>"); otherwise "<junk>%%EOF" could be appended to hide a payload.
    ends_cleanly = not data[eof + len(_EOF_MARKER) :].strip(_PDF_WHITESPACE)
    if ends_cleanly and _STARTXREF_RE.search(data, max(0, eof - 64), eof) is not None:
        return
    if data.find(b"startxref") == -1:
        raise UploadRejected(MALFORMED_PDF, "The PDF has no cross-reference trailer.")
    raise UploadRejected(TRAILING_DATA, "The file has unexpected data after the end of the PDF.")


def _check_object_stream_sizes(pdf: pikepdf.Pdf) -> None:
    """Bound what qpdf will decompress to reach compressed objects (decompression bombs)."""
    stream_numbers = {
        entry.obj_stream_number
        for entry in pdf.get_xref_table().values()
        if entry.type == _XREF_COMPRESSED and entry.obj_stream_number is not None
    }
    budget = _MAX_OBJSTM_DECODED_BYTES
    for number in sorted(stream_numbers):
        stream = pdf.get_object(number, 0)
        if not isinstance(stream, pikepdf.Stream):
            raise UploadRejected(MALFORMED_PDF, "The PDF has an invalid object stream.")
        filters = stream.stream_dict.get("/Filter")
        if isinstance(filters, pikepdf.Array):
            filter_names = [str(f) for f in filters]
        elif filters is None:
            filter_names = []
        else:
            filter_names = [str(filters)]
        raw = stream.read_raw_bytes()
        if not filter_names:
            decoded_size = len(raw)
        elif filter_names == ["/FlateDecode"]:
            decompressor = zlib.decompressobj()
            try:
                out = decompressor.decompress(raw, budget + 1)
            except zlib.error:
                raise UploadRejected(
                    MALFORMED_PDF, "The PDF has a damaged object stream."
                ) from None
            decoded_size = len(out)
        else:
            raise UploadRejected(MALFORMED_PDF, "The PDF uses an unsupported object stream.")
        budget -= decoded_size
        if budget < 0:
            raise UploadRejected(
                MALFORMED_PDF, "The PDF's compressed objects expand to an unreasonable size."
            )


def _scan_escaped_names(data: bytes) -> set[str]:
    """Find dangerous names obfuscated with ``#xx`` escapes in the raw file bytes."""
    codes: set[str] = set()
    for match in _ESCAPED_NAME_RE.finditer(data):
        decoded = _HEX_ESCAPE_RE.sub(lambda m: bytes((int(m.group(1), 16),)), match.group())
        code = _RAW_ESCAPED_NAME_CODES.get(decoded)
        if code is not None:
            codes.add(code)
    return codes


def _scan_objects(pdf: pikepdf.Pdf) -> set[str]:
    """Walk every object in the file (and the trailer) looking for active content."""
    codes: set[str] = set()
    candidates: list[pikepdf.Object] = [pdf.trailer]
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            candidates.append(obj.stream_dict)
        elif isinstance(obj, pikepdf.Object):  # null slots come back as None
            candidates.append(obj)
    for obj in candidates:
        if _INTERESTING_NAME_RE.search(obj.unparse(resolved=True)) is not None:
            _analyse(obj, codes)
    return codes


def _analyse(root: pikepdf.Object, codes: set[str]) -> None:
    """Structural check of one object and its direct children (indirect ones are scanned
    separately by :func:`_scan_objects`, which also makes reference cycles harmless)."""
    stack = [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            for key, value in obj.items():
                code = _KEY_CODES.get(key)
                if code is not None:
                    codes.add(code)
                elif key == _OPEN_ACTION and not isinstance(value, pikepdf.Array):
                    # A destination array ("open at page 1") is harmless and common; an
                    # action dictionary (or anything else) is an automatic action.
                    codes.add(ACTIVE_CONTENT_OPENACTION)
                if _is_direct_walkable(value):
                    stack.append(value)
        elif isinstance(obj, pikepdf.Array):
            stack.extend(item for item in obj if _is_direct_walkable(item))
        elif isinstance(obj, pikepdf.Name):
            code = _NAME_VALUE_CODES.get(str(obj))
            if code is not None:
                codes.add(code)


def _is_direct_walkable(value: object) -> bool:
    # Scalars come back as Python ints/bools/Decimals; indirect objects are scanned on their own.
    return (
        isinstance(value, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Name))
        and not value.is_indirect
    )
