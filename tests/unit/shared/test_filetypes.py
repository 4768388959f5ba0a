"""The kinds of attached file, recognised by content (shared/language/contracts/filetypes.py): each allowed kind is
found, what only looks like one is not, and names and declared types are checked against what was found."""

from __future__ import annotations

import io
import zipfile

import pytest

from shared.language.contracts import filetypes
from shared.language.contracts.filetypes import DOC, DOCX, JPEG, PDF, PNG, PPTX, TEXT, XLS, XLSX, sniff
from tests.support import documents


def found(data: bytes) -> filetypes.FileKind | None:
    return sniff(io.BytesIO(data))


@pytest.mark.parametrize(("data", "kind"), [
    pytest.param(documents.PDF, PDF, id="pdf"),
    pytest.param(b"%PDF-2.0\n%%EOF", PDF, id="pdf 2.0"),
    pytest.param(documents.JPEG, JPEG, id="jpeg"),
    pytest.param(documents.png(), PNG, id="png"),
    pytest.param(documents.ooxml("docx"), DOCX, id="docx"),
    pytest.param(documents.ooxml("xlsx"), XLSX, id="xlsx"),
    pytest.param(documents.ooxml("pptx"), PPTX, id="pptx"),
    pytest.param(documents.doc(), DOC, id="doc"),
    pytest.param(documents.xls(), XLS, id="xls"),
    pytest.param(documents.TEXT, TEXT, id="utf-8 text"),
    pytest.param(b"\xef\xbb\xbf\xe4\xbf\xa1\xe8\xae\xbf", TEXT, id="utf-8 text with a BOM"),
    pytest.param(b"<html><script>alert(1)</script></html>", TEXT, id="html is only text"),
])
def test_each_allowed_kind_is_found_by_its_content(data: bytes, kind: filetypes.FileKind) -> None:
    assert found(data) is kind


@pytest.mark.parametrize("data", [
    pytest.param(b"", id="empty"),
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100, id="a Windows program"),
    pytest.param(b"\x7fELF\x02\x01\x01" + b"\x00" * 100, id="a Linux program"),
    pytest.param(b"GIF89a\x01\x00\x01\x00", id="gif"),
    pytest.param("文本".encode("gbk"), id="GBK text, not UTF-8"),
    pytest.param(b"plain text\x00with a NUL", id="text with a NUL"),
    pytest.param(b"\xed\xa0\x80", id="an encoded surrogate"),
    pytest.param(b"%PDF-x.y \xff\xfe not a version", id="pdf header without a version"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, id="png signature without its header chunk"),
    pytest.param(documents.plain_zip(), id="a plain zip"),
    pytest.param(b"PK\x03\x04" + b"\x00" * 100, id="a broken zip"),
    pytest.param(documents.ooxml("docm"), id="macro-enabled word (docm)"),
    pytest.param(documents.ooxml("docx", macro=True), id="docx holding a vbaProject.bin"),
    pytest.param(documents.ooxml("docx", main_part_present=False), id="docx naming a part it lacks"),
    pytest.param(documents.ooxml("docx", extra_main="xlsx"), id="word and excel at once"),
    pytest.param(documents.doc(macros=True), id="doc with macros"),
    pytest.param(documents.xls(macros=True), id="xls with macros"),
    pytest.param(documents.msi(), id="an OLE2 file that is neither word nor excel"),
    pytest.param(documents.compound_file({"WordDocument": b"x", "Workbook": b"y"}), id="word and excel streams"),
    pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 600, id="a broken OLE2 file"),
])
def test_anything_else_is_not_a_kind(data: bytes) -> None:
    assert found(data) is None


def test_a_zip_bomb_costs_nothing() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", b"<Types>" + b" " * (64 * 1024 * 1024) + b"</Types>")
    assert len(buffer.getvalue()) < 200_000
    assert found(buffer.getvalue()) is None  # only the first MiB of it was decompressed


def test_encrypted_zip_entries_are_refused() -> None:
    data = bytearray(documents.ooxml("docx"))
    # Set the "encrypted" flag of every entry in the central directory.
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) != -1:
        data[at + 8] |= 0x01
        at += 4
    assert found(bytes(data)) is None


@pytest.mark.parametrize(("kind", "name", "agrees"), [
    (PDF, "材料.pdf", True), (PDF, "材料.PDF", True), (PDF, "材料.pdf.exe", False), (PDF, "材料", False),
    (JPEG, "现场照片.jpg", True), (JPEG, "现场照片.jpeg", True), (JPEG, "现场照片.png", False),
    (DOCX, "申请书.docx", True), (DOCX, "申请书.doc", False), (DOC, "申请书.doc", True),
    (XLSX, "名单.xlsx", True), (XLS, "名单.xls", True), (PPTX, "汇报.pptx", True),
    (TEXT, "说明.txt", True), (TEXT, "说明.html", False), (TEXT, ".txt", False),
])
def test_the_name_must_agree_with_the_content(kind: filetypes.FileKind, name: str, agrees: bool) -> None:
    assert filetypes.named_as(kind, name) is agrees


@pytest.mark.parametrize(("kind", "declared", "agrees"), [
    (PDF, None, True), (PDF, "", True), (PDF, "application/octet-stream", True), (PDF, "application/pdf", True),
    (PDF, "Application/PDF; name=x", True), (PDF, "image/png", False), (PDF, "text/html", False),
    (JPEG, "image/jpeg", True), (JPEG, "image/pjpeg", True), (PNG, "image/jpeg", False),
    (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", True),
    (DOCX, "application/zip", True), (DOCX, "application/msword", False), (DOC, "application/msword", True),
    (XLS, "application/vnd.ms-excel", True), (TEXT, "text/plain; charset=utf-8", True), (TEXT, "text/html", False),
])
def test_a_declared_type_must_agree_with_the_content(kind: filetypes.FileKind, declared: str | None,
                                                     agrees: bool) -> None:
    assert filetypes.declared_as(kind, declared) is agrees


def test_every_kind_is_a_content_type_the_registration_accepts() -> None:
    from typing import get_args

    assert set(get_args(filetypes.ContentType)) == set(filetypes.BY_CONTENT_TYPE)
    assert all(kind.extensions and kind.label for kind in filetypes.KINDS)
