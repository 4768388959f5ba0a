"""The kinds of file a petition may carry, recognised by their content (docs/api.md, "Attachments").

An allow-list: PDF, JPEG, PNG, Word/Excel/PowerPoint documents (.docx, .xlsx, .pptx, and the legacy .doc and .xls),
and plain text in UTF-8. A file is of a kind only if its bytes say so; what a client declares (the part's
Content-Type) and the file name's extension are checked against what was found, never believed instead of it.

- PDF, JPEG, PNG: their signatures (`%PDF-1.x`, `FF D8 FF`, the PNG signature followed by its IHDR chunk).
- .docx, .xlsx, .pptx: a ZIP package whose `[Content_Types].xml` names exactly one main part, of one of the three
  document types, and that part is in the package. Macro-enabled (`…macroEnabled…`, a `vbaProject.bin`), encrypted
  entries and anything that is not such a package are refused. Only `[Content_Types].xml` is decompressed, and
  at most 1 MiB of it: a ZIP bomb costs nothing.
- .doc, .xls: an OLE2 compound file (olefile reads its directory) with a `WordDocument` stream (Word) or a
  `Workbook`/`Book` stream (Excel), not both; one with VBA macros (`Macros`, `_VBA_PROJECT_CUR`) or an encrypted
  OOXML package inside (`EncryptedPackage`) is refused.
- Plain text: the whole file decodes as strict UTF-8 (a BOM allowed) and holds no NUL.

Python's standard library and olefile do the parsing; a content-sniffing library (filetype, puremagic) guesses
OOXML and OLE2 documents from a few bytes or the extension and was not needed for the three signatures.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from typing import BinaryIO, Literal

import olefile

CHUNK = 64 * 1024
CONTENT_TYPES_LIMIT = 1024 * 1024  # decompressed bytes of [Content_Types].xml read at most


@dataclass(frozen=True)
class FileKind:
    name: str
    content_type: str  # what it is served as
    label: str  # what a person reads
    extensions: tuple[str, ...]  # a file of this kind must be named with one of these (lower case, with the dot)
    declared: frozenset[str]  # the Content-Types a client may declare for it (besides none or octet-stream)


_ZIP = frozenset({"application/zip", "application/x-zip-compressed"})  # some clients declare the container
PDF = FileKind("pdf", "application/pdf", "PDF文档", (".pdf",), frozenset({"application/pdf", "application/x-pdf"}))
JPEG = FileKind("jpeg", "image/jpeg", "JPEG图片", (".jpg", ".jpeg"),
                frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}))
PNG = FileKind("png", "image/png", "PNG图片", (".png",), frozenset({"image/png", "image/x-png"}))
DOCX = FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word文档",
                (".docx",), _ZIP | {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"})
XLSX = FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel表格",
                (".xlsx",), _ZIP | {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
PPTX = FileKind("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "PowerPoint演示文稿", (".pptx",),
                _ZIP | {"application/vnd.openxmlformats-officedocument.presentationml.presentation"})
DOC = FileKind("doc", "application/msword", "Word 97-2003文档", (".doc",), frozenset({"application/msword"}))
XLS = FileKind("xls", "application/vnd.ms-excel", "Excel 97-2003表格", (".xls",),
               frozenset({"application/vnd.ms-excel"}))
TEXT = FileKind("text", "text/plain", "纯文本文件", (".txt",), frozenset({"text/plain"}))

KINDS = (PDF, JPEG, PNG, DOCX, XLSX, PPTX, DOC, XLS, TEXT)
BY_CONTENT_TYPE = {kind.content_type: kind for kind in KINDS}
ContentType = Literal[
    "application/pdf", "image/jpeg", "image/png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword", "application/vnd.ms-excel", "text/plain",
]
UNDECLARED = frozenset({"", "application/octet-stream"})  # a client that says nothing about the type
ALLOWED_TEXT = "PDF、JPEG、PNG、Word（.docx/.doc）、Excel（.xlsx/.xls）、PowerPoint（.pptx）文档和UTF-8编码的纯文本（.txt）"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
_OVERRIDE = re.compile(rb"<(?:\w+:)?Override\b([^>]*)>")
_ATTRIBUTE = re.compile(rb"""\b(PartName|ContentType)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_MACROS = re.compile(rb"macroEnabled|vbaProject", re.IGNORECASE)


def sniff(file: BinaryIO) -> FileKind | None:
    """The kind of the file's content, or None if it is none of the allowed kinds. Reads from the start (the file
    must be seekable) and leaves the position anywhere."""
    file.seek(0)
    head = file.read(16)
    if not head:
        return None
    if _PDF_HEADER.match(head):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR":
        return PNG
    if head.startswith(b"PK\x03\x04"):
        return _office_open_xml(file)
    if head.startswith(_OLE_SIGNATURE):
        return _legacy_office(file)
    return _utf8_text(file)


def _office_open_xml(file: BinaryIO) -> FileKind | None:
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as package:
            entries = package.infolist()
            names = {entry.filename for entry in entries}
            if any(entry.flag_bits & 0x1 for entry in entries):  # encrypted entries
                return None
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return None
            with package.open("[Content_Types].xml") as stream:
                types = stream.read(CONTENT_TYPES_LIMIT + 1)
    except Exception:  # noqa: BLE001 - hostile input: whatever the parser cannot read is not a document
        return None
    if len(types) > CONTENT_TYPES_LIMIT or _MACROS.search(types):
        return None
    found = set()
    for override in _OVERRIDE.finditer(types):
        attributes = {m.group(1): m.group(2) if m.group(2) is not None else m.group(3)
                      for m in _ATTRIBUTE.finditer(override.group(1))}
        kind = _OOXML_MAIN.get(attributes.get(b"ContentType", b"").decode("ascii", "replace").strip())
        part = attributes.get(b"PartName", b"").decode("utf-8", "replace").lstrip("/")
        if kind is not None:
            if part not in names:
                return None  # names a main part the package does not hold
            found.add(kind)
    return found.pop() if len(found) == 1 else None


def _legacy_office(file: BinaryIO) -> FileKind | None:
    file.seek(0)
    try:
        # A file object, never a name: olefile takes a short str or bytes for a path to open.
        ole = olefile.OleFileIO(file)
        try:
            word, excel = ole.exists("WordDocument"), ole.exists("Workbook") or ole.exists("Book")
            refused = any(ole.exists(name) for name in ("Macros", "_VBA_PROJECT_CUR", "EncryptedPackage"))
        finally:
            ole.close()  # leaves the caller's file open
    except Exception:  # noqa: BLE001 - hostile input: whatever the parser cannot read is not a document
        return None
    if refused or word == excel:
        return None
    return DOC if word else XLS


def _utf8_text(file: BinaryIO) -> FileKind | None:
    file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        while chunk := file.read(CHUNK):
            if b"\x00" in chunk:
                return None
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return TEXT


def extension(file_name: str) -> str:
    """The file name's extension, lower case with its dot ("" when it has none)."""
    base = file_name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return "." + base.rsplit(".", 1)[1].lower() if "." in base.strip(".") else ""


def named_as(kind: FileKind, file_name: str) -> bool:
    return extension(file_name) in kind.extensions


def declared_as(kind: FileKind, declared: str | None) -> bool:
    """Whether a declared Content-Type (parameters and case ignored) agrees with the kind: it names the kind, or
    nothing (none, or application/octet-stream)."""
    media_type = (declared or "").split(";", 1)[0].strip().lower()
    return media_type in UNDECLARED or media_type in kind.declared
