"""The text a PDF shows, read back with pikepdf (no text extractor is installed).

The portal's PDFs (fpdf2) write text with Type0 / Identity-H fonts: two-byte glyph codes,
mapped to Unicode by the font's ToUnicode CMap. This reads every page's text-showing
operators and maps them back, so a test asserts on what a reader of the PDF would see.
Lines are joined with spaces and runs of white space collapsed, so a value wrapped over two
lines is still found; the document information (title, author, ...) is appended.
"""

from __future__ import annotations

import io
import re

import pikepdf

_BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_BFRANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def _cmap(font: pikepdf.Object) -> dict[int, str] | None:
    if "/ToUnicode" not in font:
        return None
    data = font.ToUnicode.read_bytes()
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for start, end, first in _BFRANGE.findall(block):
            for offset in range(int(end, 16) - int(start, 16) + 1):
                mapping[int(start, 16) + offset] = chr(int(first, 16) + offset)
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, uni in _BFCHAR.findall(block):
            mapping[int(code, 16)] = bytes.fromhex(uni.decode()).decode("utf-16-be")
    return mapping


def _decode(raw: bytes, cmap: dict[int, str] | None) -> str:
    if cmap is None:  # a simple (latin-1) font
        return raw.decode("latin-1")
    return "".join(cmap.get(int.from_bytes(raw[i:i + 2], "big"), "\ufffd") for i in range(0, len(raw) - 1, 2))


def pdf_text(content: bytes) -> str:
    pieces: list[str] = []
    with pikepdf.open(io.BytesIO(content)) as pdf:
        for page in pdf.pages:
            fonts = {str(name): _cmap(font) for name, font in page.Resources.get("/Font", {}).items()}
            cmap = None
            for instruction in pikepdf.parse_content_stream(page):
                if not isinstance(instruction, pikepdf.ContentStreamInstruction):
                    continue  # an inline image
                operands, op = instruction.operands, str(instruction.operator)
                if op == "Tf":
                    cmap = fonts.get(str(operands[0]))
                elif op in {"Tj", "'", '"'}:
                    pieces.append(_decode(bytes(operands[-1]), cmap))
                elif op == "TJ":
                    pieces.append("".join(_decode(bytes(x), cmap) for x in operands[0]
                                          if isinstance(x, pikepdf.String)))
        pieces.extend(str(value) for value in pdf.docinfo.values())
    return re.sub(r"\s+", " ", " ".join(pieces))
