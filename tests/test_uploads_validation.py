"""Upload validation for PDFs (security.md §1.5; test matrix §4.A rows U1-U5, U7).

Every PDF is generated here with pikepdf or assembled from raw bytes; no binary fixtures.
Runs without Django: ``pytest -p no:django tests/test_uploads_validation.py``.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import random
import zipfile
import zlib
from collections.abc import Callable

import pikepdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from requests_app.uploads import (
    DEFAULT_MAX_BYTES,
    REJECTION_CODES,
    InspectedPdf,
    UploadRejected,
    inspect_pdf,
)

Mutator = Callable[[pikepdf.Pdf], None]

PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------


def make_pdf(
    mutate: Mutator | None = None,
    *,
    pages: int = 1,
    compress: bool = True,
    object_streams: bool = False,
    encryption: pikepdf.Encryption | None = None,
) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    if mutate is not None:
        mutate(pdf)
    out = io.BytesIO()
    pdf.save(
        out,
        compress_streams=compress,
        object_stream_mode=(
            pikepdf.ObjectStreamMode.generate
            if object_streams
            else pikepdf.ObjectStreamMode.disable
        ),
        encryption=encryption if encryption is not None else False,
    )
    return out.getvalue()


def build_objstm_pdf(
    inner_objects: list[bytes],
    *,
    catalog_extra: bytes = b"",
    objstm_payload: bytes | None = None,
) -> bytes:
    """Assemble a PDF 1.5 file by hand: catalog, pages and one page as ordinary objects, then
    ``inner_objects`` (numbered from 4) inside a Flate object stream, and an xref stream.

    Writing the bytes ourselves keeps things pikepdf would normalise on save, such as a
    ``#xx``-escaped name inside a *compressed* object stream, or a decompression bomb."""
    first_inner = 4
    objstm_num = first_inner + len(inner_objects)
    xref_num = objstm_num + 1
    plain = {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        2: b"<< /Type /Pages /Kids [ 3 0 R ] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [ 0 0 612 792 ] /Resources << >> >>",
    }
    bodies = []
    offsets = []
    pos = 0
    for body in inner_objects:
        offsets.append(pos)
        bodies.append(body + b"\n")
        pos += len(body) + 1
    header = b" ".join(f"{first_inner + i} {off}".encode() for i, off in enumerate(offsets)) + b"\n"
    payload = (
        objstm_payload if objstm_payload is not None else zlib.compress(header + b"".join(bodies))
    )

    out = bytearray(b"%PDF-1.5\n%\xbf\xf7\xa2\xfe\n")
    xref_offsets: dict[int, int] = {}
    for num, body in plain.items():
        xref_offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_offsets[objstm_num] = len(out)
    out += (
        f"{objstm_num} 0 obj\n<< /Type /ObjStm /N {len(inner_objects)} /First {len(header)}"
        f" /Filter /FlateDecode /Length {len(payload)} >>\nstream\n".encode()
        + payload
        + b"\nendstream\nendobj\n"
    )
    xref_offsets[xref_num] = len(out)
    rows = bytearray(b"\x00" + (0).to_bytes(4, "big") + (0xFFFF).to_bytes(2, "big"))
    for num in range(1, xref_num + 1):
        if num in xref_offsets:
            rows += b"\x01" + xref_offsets[num].to_bytes(4, "big") + b"\x00\x00"
        else:
            rows += b"\x02" + objstm_num.to_bytes(4, "big") + (num - first_inner).to_bytes(2, "big")
    out += (
        f"{xref_num} 0 obj\n<< /Type /XRef /Size {xref_num + 1} /W [ 1 4 2 ] /Root 1 0 R"
        f" /Length {len(rows)} >>\nstream\n".encode()
        + bytes(rows)
        + b"\nendstream\nendobj\n"
    )
    out += f"startxref\n{xref_offsets[xref_num]}\n%%EOF\n".encode()
    return bytes(out)


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("payload.html", "<p>hello</p>")
    return buf.getvalue()


def insert_before_last_eof(data: bytes, extra: bytes) -> bytes:
    eof = data.rindex(b"%%EOF")
    return data[:eof] + extra + b"\n" + data[eof:]


def js_action(code: str = "app.alert(1)") -> pikepdf.Dictionary:
    return pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(code))


def add_annotation(pdf: pikepdf.Pdf, annot: pikepdf.Dictionary) -> None:
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(annot)]))


def assert_rejected(data: bytes, code: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    assert code in REJECTION_CODES
    with pytest.raises(UploadRejected) as excinfo:
        inspect_pdf(data, max_bytes=max_bytes)
    assert excinfo.value.code == code, excinfo.value.message
    assert excinfo.value.message


# --------------------------------------------------------------------------------------------
# API surface
# --------------------------------------------------------------------------------------------


def test_constants() -> None:
    assert DEFAULT_MAX_BYTES == 20 * 1024 * 1024
    assert isinstance(REJECTION_CODES, tuple)
    assert len(set(REJECTION_CODES)) == len(REJECTION_CODES)
    assert set(REJECTION_CODES) == {
        "empty_file",
        "too_large",
        "not_pdf",
        "malformed_pdf",
        "encrypted_pdf",
        "active_content_javascript",
        "active_content_openaction",
        "active_content_launch",
        "embedded_file",
        "trailing_data",
        "polyglot",
    }


def test_upload_rejected_exception() -> None:
    exc = UploadRejected("not_pdf", "The file is not a PDF document.")
    assert isinstance(exc, Exception)
    assert exc.code == "not_pdf"
    assert exc.message == "The file is not a PDF document."
    assert "not_pdf" in str(exc)
    clone = pickle.loads(pickle.dumps(exc))  # Celery serialises exceptions
    assert (clone.code, clone.message) == (exc.code, exc.message)
    with pytest.raises(ValueError, match="unknown"):
        UploadRejected("nope", "x")


def test_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError):
        inspect_pdf(bytearray(make_pdf()), max_bytes=DEFAULT_MAX_BYTES)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_bytes"):
        inspect_pdf(make_pdf(), max_bytes=0)


# --------------------------------------------------------------------------------------------
# Accepted documents
# --------------------------------------------------------------------------------------------


def test_clean_pdf_is_accepted_with_facts() -> None:
    data = make_pdf(pages=3)
    result = inspect_pdf(data, max_bytes=DEFAULT_MAX_BYTES)
    assert result == InspectedPdf(
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), page_count=3
    )
    with pytest.raises(AttributeError):
        result.size = 1  # type: ignore[misc]


@pytest.mark.parametrize("object_streams", [False, True])
@pytest.mark.parametrize("compress", [False, True])
def test_clean_pdf_variants_are_accepted(object_streams: bool, compress: bool) -> None:
    data = make_pdf(pages=2, compress=compress, object_streams=object_streams)
    assert inspect_pdf(data, max_bytes=DEFAULT_MAX_BYTES).page_count == 2


def test_hand_built_object_stream_pdf_is_accepted() -> None:
    data = build_objstm_pdf([b"<< /Producer (test) >>"])
    assert inspect_pdf(data, max_bytes=DEFAULT_MAX_BYTES).page_count == 1


def test_open_action_destination_array_is_accepted() -> None:
    # "Open at page 1, fit" (written by e.g. LibreOffice) is a destination, not an action.
    def mutate(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])

    inspect_pdf(make_pdf(mutate), max_bytes=DEFAULT_MAX_BYTES)


def test_harmless_link_annotation_and_js_text_in_strings_are_accepted() -> None:
    def mutate(pdf: pikepdf.Pdf) -> None:
        pdf.docinfo["/Title"] = "Ref ABC/JS/2024 /JavaScript /Launch /AA"
        add_annotation(
            pdf,
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Link,
                Rect=[0, 0, 10, 10],
                A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://x.test/")),
            ),
        )

    inspect_pdf(make_pdf(mutate, compress=False), max_bytes=DEFAULT_MAX_BYTES)


@pytest.mark.parametrize("tail", [b"", b"\n", b"\r\n", b" \t\r\n\x0c\x00  \n" * 4])
def test_whitespace_after_eof_is_accepted(tail: bytes) -> None:
    data = make_pdf() + tail
    assert inspect_pdf(data, max_bytes=DEFAULT_MAX_BYTES).size == len(data)


def test_size_exactly_at_limit_is_accepted() -> None:
    data = make_pdf()
    assert inspect_pdf(data, max_bytes=len(data)).size == len(data)


# --------------------------------------------------------------------------------------------
# Size and type
# --------------------------------------------------------------------------------------------


def test_empty_file() -> None:
    assert_rejected(b"", "empty_file")


def test_too_large() -> None:
    data = make_pdf()
    assert_rejected(data, "too_large", max_bytes=len(data) - 1)


def test_too_large_checked_before_content() -> None:
    assert_rejected(b"MZ" + b"\x00" * 100, "too_large", max_bytes=50)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(PNG_BYTES, id="png"),
        pytest.param(zip_bytes(), id="zip"),
        pytest.param(b"<!DOCTYPE html><html><body>%PDF-1.7</body></html>", id="html"),
        pytest.param(b"\x7fELF\x02\x01\x01" + b"\x00" * 57, id="elf"),
        pytest.param(b"MZ\x90\x00" + b"\x00" * 60, id="pe"),
        pytest.param(b"\x1f\x8b\x08\x00" + b"\x00" * 20, id="gzip"),
        pytest.param(b"just some text\n", id="text"),
        pytest.param(b"   ", id="whitespace"),
        pytest.param(b"\xef\xbb\xbf" + make_pdf(), id="bom-before-header"),
        pytest.param(b"\n" + make_pdf(), id="newline-before-header"),
        pytest.param(b"%PDF", id="partial-header"),
    ],
)
def test_not_pdf(data: bytes) -> None:
    assert_rejected(data, "not_pdf")


# --------------------------------------------------------------------------------------------
# Polyglots and trailing data (U3)
# --------------------------------------------------------------------------------------------


def test_pdf_with_appended_zip_is_polyglot() -> None:
    assert_rejected(make_pdf() + zip_bytes(), "polyglot")


def test_pdf_with_zip_before_eof_is_polyglot() -> None:
    data = insert_before_last_eof(make_pdf(), zip_bytes())
    assert_rejected(data, "polyglot")


def test_zip_inside_a_stream_is_polyglot() -> None:
    payload = zip_bytes()

    def mutate(pdf: pikepdf.Pdf) -> None:
        pdf.Root.Blob = pdf.make_stream(payload)

    assert_rejected(make_pdf(mutate, compress=False), "polyglot")


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(b"PK\x03\x04", id="zip-local"),
        pytest.param(b"PK\x01\x02", id="zip-central"),
        pytest.param(b"PK\x05\x06" + b"\x00" * 18, id="zip-eocd"),
        pytest.param(b"Rar!\x1a\x07\x00", id="rar4"),
        pytest.param(b"Rar!\x1a\x07\x01\x00", id="rar5"),
        pytest.param(b"7z\xbc\xaf\x27\x1c", id="7z"),
        pytest.param(b"\x7fELF\x02\x01\x01", id="elf"),
        pytest.param(b"<html><body>hi</body></html>", id="html"),
        pytest.param(b"<HTML>", id="html-upper"),
        pytest.param(b"<ScRiPt>alert(1)</ScRiPt>", id="script-mixed-case"),
        pytest.param(b"<!DOCTYPE html>", id="doctype"),
        pytest.param(b"<!doctype\n  HTML>", id="doctype-whitespace"),
    ],
)
def test_second_container_signature_is_polyglot(extra: bytes) -> None:
    assert_rejected(insert_before_last_eof(make_pdf(), extra), "polyglot")
    assert_rejected(make_pdf() + extra, "polyglot")


def test_html_after_pdf_header_is_polyglot() -> None:
    data = b"%PDF-1.4\n<html><script>alert(document.domain)</script></html>\n%%EOF\n"
    assert_rejected(data, "polyglot")


def test_html_in_uncompressed_content_stream_is_polyglot() -> None:
    def mutate(pdf: pikepdf.Pdf) -> None:
        pdf.pages[0].obj.Contents = pdf.make_stream(b"% <script>alert(1)</script>\n")

    assert_rejected(make_pdf(mutate, compress=False), "polyglot")


@pytest.mark.parametrize(
    "tail",
    [
        b"x",
        b"\nGARBAGE\n",
        b"\n%%EO",
        b"\n\x01",
        b"\n" + PNG_BYTES[:8],
        b"%%EOF",  # a second marker with junk in front of it
        b"\n<?php system($_GET['c']); ?>\n%%EOF\n",
        b"\x00" * 16 + b"payload\n%%EOF",
    ],
)
def test_non_whitespace_after_eof_is_trailing_data(tail: bytes) -> None:
    assert_rejected(make_pdf() + tail, "trailing_data")


# --------------------------------------------------------------------------------------------
# Malformed and encrypted (U5)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.9])
@pytest.mark.parametrize("fake_eof", [False, True])
def test_truncated_pdf_is_malformed(fraction: float, fake_eof: bool) -> None:
    data = make_pdf(pages=3, compress=False)
    truncated = data[: int(len(data) * fraction)]
    if fake_eof:  # qpdf would repair this one; repaired files are rejected too
        truncated += b"\n%%EOF\n"
    assert_rejected(truncated, "malformed_pdf")


def test_damaged_xref_is_malformed() -> None:
    data = make_pdf(compress=False).replace(b"/Type /Catalog", b"/Type  /Catalog")
    assert_rejected(data, "malformed_pdf")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"%PDF-1.7\n" + b"garbage " * 200 + b"\n%%EOF\n", id="text-garbage"),
        pytest.param(
            b"%PDF-1.7\n" + random.Random(7).randbytes(4096).replace(b"PK", b"pk") + b"\n%%EOF",
            id="binary-garbage",
        ),
        pytest.param(b"%PDF-1.7\n%%EOF\n", id="header-and-eof-only"),
        pytest.param(
            b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"trailer\n<< /Root 1 0 R >>\n%%EOF\n",
            id="no-pages-object",
        ),
    ],
)
def test_unparseable_pdf_is_malformed(data: bytes) -> None:
    assert_rejected(data, "malformed_pdf")


def test_encrypted_with_user_password() -> None:
    data = make_pdf(encryption=pikepdf.Encryption(owner="owner-secret", user="user-secret"))
    assert_rejected(data, "encrypted_pdf")


@pytest.mark.parametrize("aes", [True, False])
def test_encrypted_with_owner_password_only(aes: bool) -> None:
    # Opens without a password (empty user password) but is still encrypted.
    encryption = pikepdf.Encryption(
        owner="owner-secret", user="", aes=aes, R=4 if aes else 3, metadata=aes
    )
    data = make_pdf(encryption=encryption)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.is_encrypted
    assert_rejected(data, "encrypted_pdf")


def test_encrypted_aes256() -> None:
    data = make_pdf(encryption=pikepdf.Encryption(owner="o", user="", R=6))
    assert_rejected(data, "encrypted_pdf")


# --------------------------------------------------------------------------------------------
# Active content (U1, U2, U5)
# --------------------------------------------------------------------------------------------


def _open_action_js(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = js_action()


def _names_javascript(pdf: pikepdf.Pdf) -> None:
    tree = pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("a"), js_action()]))
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pdf.make_indirect(tree))


def _link_annotation_js(pdf: pikepdf.Pdf) -> None:
    add_annotation(
        pdf,
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=[0, 0, 10, 10],
            A=pdf.make_indirect(js_action()),
        ),
    )


def _js_nested_under_custom_key(pdf: pikepdf.Pdf) -> None:
    # Not under any key a catalog-only check would look at; nested direct objects.
    pdf.Root.Custom = pdf.make_indirect(
        pikepdf.Dictionary(X=pikepdf.Array([pikepdf.Dictionary(Y=js_action())]))
    )


def _js_as_stream_dict_key(pdf: pikepdf.Pdf) -> None:
    stream = pdf.make_stream(b"q Q")
    stream.JS = pikepdf.String("app.alert(1)")
    pdf.pages[0].obj.Contents = stream


def _acroform_field_js(pdf: pikepdf.Pdf) -> None:
    field = pdf.make_indirect(
        pikepdf.Dictionary(
            FT=pikepdf.Name.Tx,
            T=pikepdf.String("name"),
            Rect=[0, 0, 100, 20],
            Subtype=pikepdf.Name.Widget,
            Type=pikepdf.Name.Annot,
        )
    )
    # Keystroke script on a form field: additional actions carrying JavaScript.
    field.AA = pikepdf.Dictionary(K=js_action("AFNumber_Keystroke(2)"))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))
    pdf.pages[0].obj.Annots = pikepdf.Array([field])


def _acroform_xfa(pdf: pikepdf.Pdf) -> None:
    xfa = pdf.make_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'></xdp:xdp>")
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=xfa)


def _indirect_name_javascript(pdf: pikepdf.Pdf) -> None:
    action = pikepdf.Dictionary(S=pdf.make_indirect(pikepdf.Name.JavaScript))
    pdf.Root.Outlines = pdf.make_indirect(pikepdf.Dictionary(A=action))


@pytest.mark.parametrize(
    "mutate",
    [
        _open_action_js,
        _names_javascript,
        _link_annotation_js,
        _js_nested_under_custom_key,
        _js_as_stream_dict_key,
        _acroform_field_js,
        _acroform_xfa,
        _indirect_name_javascript,
    ],
)
@pytest.mark.parametrize("object_streams", [False, True])
def test_javascript(mutate: Mutator, object_streams: bool) -> None:
    assert_rejected(make_pdf(mutate, object_streams=object_streams), "active_content_javascript")


def test_javascript_in_compressed_object_stream_is_found_by_the_parser() -> None:
    data = make_pdf(_link_annotation_js, object_streams=True)
    # Invisible to a raw-byte grep:
    assert b"/JS" not in data
    assert b"JavaScript" not in data
    assert_rejected(data, "active_content_javascript")


_JS_ACTION_RAW = b"/JS (app.alert\\(1\\);      ) /S /JavaScript"


@pytest.mark.parametrize(
    "obfuscated",
    [
        pytest.param(b"/J#53 (app.alert\\(1\\);    ) /S /JavaScript", id="J#53"),
        pytest.param(b"/#4A#53 (app.alert\\(1\\);  ) /S /JavaScript", id="#4A#53"),
        pytest.param(b"/JS (app.alert\\(1\\);    ) /S /J#61vaScript", id="J#61vaScript"),
        pytest.param(b"/J#53 (app.alert\\(1\\);  ) /S /J#61vaScript", id="both"),
    ],
)
def test_hex_escaped_javascript_name_raw_edit(obfuscated: bytes) -> None:
    # Same-length edit of an uncompressed save, so offsets and /Length stay valid.
    assert len(obfuscated) == len(_JS_ACTION_RAW)

    def mutate(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = pdf.make_indirect(js_action("app.alert(1);      "))

    original = make_pdf(mutate, compress=False)
    assert original.count(_JS_ACTION_RAW) == 1
    data = original.replace(_JS_ACTION_RAW, obfuscated)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert not pdf.get_warnings()
        assert "/JS" in pdf.Root.OpenAction  # qpdf normalised the name
    assert_rejected(data, "active_content_javascript")


def test_javascript_in_unreferenced_object() -> None:
    # Object 4 is in the xref (inside an object stream) but nothing references it: only a walk
    # over every object finds it.
    data = build_objstm_pdf([b"<< /X [ << /Y << /S /JavaScript /JS (app.alert\\(1\\)) >> >> ] >>"])
    assert_rejected(data, "active_content_javascript")


def test_hex_escaped_name_in_compressed_object_stream() -> None:
    # U2: the obfuscated name only exists inside Flate data; the parser must normalise it.
    data = build_objstm_pdf(
        [b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"],
        catalog_extra=b"/OpenAction 4 0 R",
    )
    assert b"J#" not in data
    assert b"JavaScript" not in data
    assert_rejected(data, "active_content_javascript")


def test_hex_escaped_name_in_orphan_object_is_found_by_raw_scan() -> None:
    # An object outside the xref is invisible to qpdf, but a reader that rebuilds the xref
    # by scanning (as many do on any error) would see it.
    orphan = b"99 0 obj\n<< /S /Launch /F (calc.exe) /#4Aava#53cript 1 >>\nendobj\n"
    clean = make_pdf(compress=False)
    pos = clean.rindex(b"startxref")  # after the xref table, so its offsets stay valid
    data = clean[:pos] + orphan + clean[pos:]
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert not pdf.get_warnings()
        assert all(obj.objgen != (99, 0) for obj in pdf.objects if obj is not None)
    assert_rejected(data, "active_content_javascript")


def test_hex_escaped_openaction_is_rejected_even_with_a_destination() -> None:
    def mutate(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])

    data = make_pdf(mutate, compress=False).replace(b"/OpenAction", b"/#4FpenAction")
    # Length changed, so qpdf recovers the xref; the raw scan still flags the obfuscation.
    assert_rejected(data, "active_content_openaction")


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(
            lambda pdf: setattr(
                pdf.Root,
                "OpenAction",
                pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=pikepdf.Array([0, pikepdf.Name.Fit])),
            ),
            id="openaction-goto",
        ),
        pytest.param(
            lambda pdf: setattr(
                pdf.Root,
                "OpenAction",
                pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://x.test")),
            ),
            id="openaction-uri",
        ),
        pytest.param(
            lambda pdf: setattr(
                pdf.pages[0].obj,
                "AA",
                pikepdf.Dictionary(
                    O=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://x"))
                ),
            ),
            id="page-aa",
        ),
        pytest.param(
            lambda pdf: setattr(
                pdf.Root, "AA", pikepdf.Dictionary(WC=pikepdf.Dictionary(S=pikepdf.Name.Named))
            ),
            id="catalog-aa",
        ),
    ],
)
def test_automatic_actions(mutate: Mutator) -> None:
    assert_rejected(make_pdf(mutate), "active_content_openaction")


def _launch_action() -> pikepdf.Dictionary:
    return pikepdf.Dictionary(
        S=pikepdf.Name.Launch,
        F=pikepdf.String("cmd.exe"),
        Win=pikepdf.Dictionary(F=pikepdf.String("cmd.exe"), P=pikepdf.String("/c calc")),
    )


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda pdf: setattr(pdf.Root, "OpenAction", _launch_action()), id="open"),
        pytest.param(
            lambda pdf: add_annotation(
                pdf,
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Link,
                    Rect=[0, 0, 10, 10],
                    A=_launch_action(),
                ),
            ),
            id="link-annotation",
        ),
        pytest.param(
            lambda pdf: setattr(
                pdf.Root, "Outlines", pdf.make_indirect(pikepdf.Dictionary(A=_launch_action()))
            ),
            id="outline",
        ),
    ],
)
@pytest.mark.parametrize("object_streams", [False, True])
def test_launch(mutate: Mutator, object_streams: bool) -> None:
    assert_rejected(make_pdf(mutate, object_streams=object_streams), "active_content_launch")


def _attachment(pdf: pikepdf.Pdf) -> None:
    pdf.attachments["evil.exe"] = pikepdf.AttachedFileSpec(
        pdf,
        b"not really an exe",
        description="",
        filename="evil.exe",
        mime_type="application/octet-stream",
        creation_date="",
        mod_date="",
    )


def _file_attachment_annotation(pdf: pikepdf.Pdf) -> None:
    add_annotation(
        pdf,
        pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.FileAttachment,
            Rect=[0, 0, 10, 10],
            FS=pikepdf.String("readme.txt"),
        ),
    )


def _embedded_file_stream_only(pdf: pikepdf.Pdf) -> None:
    stream = pdf.make_stream(b"hidden")
    stream.Type = pikepdf.Name.EmbeddedFile
    pdf.Root.Hidden = stream


@pytest.mark.parametrize(
    "mutate", [_attachment, _file_attachment_annotation, _embedded_file_stream_only]
)
@pytest.mark.parametrize("object_streams", [False, True])
def test_embedded_files(mutate: Mutator, object_streams: bool) -> None:
    assert_rejected(make_pdf(mutate, object_streams=object_streams), "embedded_file")


def test_most_specific_active_content_code_wins() -> None:
    def mutate(pdf: pikepdf.Pdf) -> None:
        _open_action_js(pdf)
        _attachment(pdf)
        pdf.pages[0].obj.AA = pikepdf.Dictionary(O=_launch_action())

    assert_rejected(make_pdf(mutate), "active_content_javascript")

    def mutate_no_js(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = _launch_action()
        _attachment(pdf)

    assert_rejected(make_pdf(mutate_no_js), "active_content_launch")


def test_encryption_reported_before_active_content() -> None:
    data = make_pdf(_open_action_js, encryption=pikepdf.Encryption(owner="o", user=""))
    assert_rejected(data, "encrypted_pdf")


# --------------------------------------------------------------------------------------------
# Resource limits (U7)
# --------------------------------------------------------------------------------------------


def test_object_stream_decompression_bomb_is_rejected_quickly() -> None:
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    payload = compressor.compress(b"4 0\n<< >>") + b"".join(
        compressor.compress(chunk) for _ in range(80)
    )
    payload += compressor.flush()
    assert len(payload) < 200_000
    data = build_objstm_pdf([b"<< >>"], objstm_payload=payload)
    assert_rejected(data, "malformed_pdf")


def test_xref_stream_decompression_bomb_is_bounded() -> None:
    # qpdf decodes the xref stream while opening; this would expand to 300 MiB unbounded.
    compressor = zlib.compressobj(1)  # fastest to build; still ~200:1
    chunk = b"\x00" * (1 << 20)
    payload = b"".join(compressor.compress(chunk) for _ in range(300)) + compressor.flush()
    head = (
        b"%PDF-1.5\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [ ] /Count 0 >>\nendobj\n"
    )
    data = (
        head
        + b"3 0 obj\n<< /Type /XRef /Size 4 /W [ 1 4 2 ] /Root 1 0 R /Filter /FlateDecode"
        + f" /Length {len(payload)} >>\nstream\n".encode()
        + payload
        + f"\nendstream\nendobj\nstartxref\n{len(head)}\n%%EOF\n".encode()
    )
    assert_rejected(data, "malformed_pdf")
    assert pikepdf.settings.get_qpdf_limits()["flate_max_memory"] > 0


def test_deeply_nested_arrays_are_rejected_without_crashing() -> None:
    depth = 5000
    body = b"[" * depth + b"]" * depth
    data = (
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /X "
        + body
        + b" >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"trailer\n<< /Root 1 0 R /Size 3 >>\n%%EOF\n"
    )
    assert_rejected(data, "malformed_pdf")


def _big_pdf(target_bytes: int, pages: int) -> bytes:
    rng = random.Random(20240601)
    image_count = 40
    image_size = target_bytes // image_count

    def mutate(pdf: pikepdf.Pdf) -> None:
        for i in range(image_count):
            # Incompressible, image-like payload stored as-is (like DCT data).
            blob = rng.randbytes(image_size)
            image = pdf.make_stream(blob)
            image.Type = pikepdf.Name.XObject
            image.Subtype = pikepdf.Name.Image
            image.Width, image.Height = 1024, image_size // 1024
            image.ColorSpace = pikepdf.Name.DeviceGray
            image.BitsPerComponent = 8
            pdf.pages[i % pages].obj.Resources = pikepdf.Dictionary(
                XObject=pikepdf.Dictionary(Im0=image)
            )
        for page in pdf.pages:
            page.obj.Annots = pikepdf.Array(
                [
                    pdf.make_indirect(
                        pikepdf.Dictionary(
                            Type=pikepdf.Name.Annot,
                            Subtype=pikepdf.Name.Link,
                            Rect=[0, 0, 10, 10],
                            A=pikepdf.Dictionary(
                                S=pikepdf.Name.URI, URI=pikepdf.String("https://x.test/")
                            ),
                        )
                    )
                    for _ in range(5)
                ]
            )

    return make_pdf(mutate, pages=pages, compress=False)


def test_ten_megabyte_pdf_is_accepted() -> None:
    # Speed is measured in bench/, never asserted in tests.
    data = _big_pdf(10 * 1024 * 1024, pages=500)
    assert len(data) > 10 * 1024 * 1024
    result = inspect_pdf(data, max_bytes=DEFAULT_MAX_BYTES)
    assert result.page_count == 500


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_CLEAN = make_pdf()


def _outcome(data: bytes) -> str:
    """'accepted' or the rejection code; any other exception propagates and fails the test."""
    try:
        result = inspect_pdf(data, max_bytes=DEFAULT_MAX_BYTES)
    except UploadRejected as exc:
        return exc.code
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    return "accepted"


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_escape_as_other_errors(blob: bytes) -> None:
    for data in (blob, b"%PDF-1.7\n" + blob, _CLEAN[: len(_CLEAN) // 2] + blob):
        assert _outcome(data) in {*REJECTION_CODES, "accepted"}


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=len(_CLEAN) - 1), st.integers(0, 255))
def test_single_byte_corruption_is_accepted_or_rejected_cleanly(pos: int, value: int) -> None:
    data = _CLEAN[:pos] + bytes([value]) + _CLEAN[pos + 1 :]
    assert _outcome(data) in {*REJECTION_CODES, "accepted"}


@settings(max_examples=100, deadline=None, database=None)
@given(st.binary(min_size=1, max_size=64).filter(lambda b: bool(b.strip(b"\x00\t\n\x0c\r "))))
def test_any_non_whitespace_tail_is_rejected(tail: bytes) -> None:
    with pytest.raises(UploadRejected) as excinfo:
        inspect_pdf(_CLEAN + tail, max_bytes=DEFAULT_MAX_BYTES)
    assert excinfo.value.code in {"trailing_data", "polyglot"}
