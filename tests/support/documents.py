"""Small files of every kind the platform accepts (and some it refuses), made here rather than shipped: a PDF, a
JPEG and a PNG with their real structure, Office Open XML packages as Word, Excel and PowerPoint write them (the
parts the type is read from), and OLE2 compound files (a minimal writer of the format, version 3) for .doc/.xls."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")
# SOI, a JFIF APP0 segment, EOI: the start every JPEG has.
JPEG = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9")
TEXT = "信访人王秀兰反映：\n道路积水，出行困难。\r\nTabs\tand spaces are fine.\n".encode()


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


OOXML = {
    "docx": ("word/document.xml",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
    "docm": ("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
}


def ooxml(kind: str, *, macro: bool = False, main_part_present: bool = True, extra_main: str | None = None) -> bytes:
    """A package of `kind` (docx, xlsx, pptx, docm) as Office writes it: content types first, then the parts."""
    part, content_type = OOXML[kind]
    overrides = [f'<Override PartName="/{part}" ContentType="{content_type}"/>']
    if extra_main:
        other_part, other_type = OOXML[extra_main]
        overrides.append(f"<Override ContentType='{other_type}' PartName='/{other_part}'/>")
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>' + "".join(overrides) + "</Types>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", types)
        package.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org'
                                        f'/package/2006/relationships"><Relationship Id="rId1" Target="{part}" Type='
                                        '"http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                                        'officeDocument"/></Relationships>')
        if main_part_present:
            package.writestr(part, "<document>正文</document>")
        if extra_main:
            package.writestr(OOXML[extra_main][0], "<x/>")
        if macro:
            package.writestr(part.split("/")[0] + "/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x00" * 60)
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("photo.jpg", JPEG)
    return buffer.getvalue()


# --- OLE2 compound files (MS-CFB, version 3: 512-byte sectors) ---------------------------------------------------

SECTOR = 512
FREE, END, FAT_SECTOR, NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _entry(name: str, kind: int, *, child: int = NONE, right: int = NONE, start: int = END, size: int = 0) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le")
    return (encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", NONE, right, child) + b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16
            + struct.pack("<IQ", start, size))


def compound_file(streams: dict[str, bytes], storages: tuple[str, ...] = ()) -> bytes:
    """A compound file whose root holds these streams (each padded to 4096 bytes, so no mini stream is needed) and
    empty storages. Sector 0 is the FAT, 1 the directory, then the streams' sectors."""
    names = list(streams) + list(storages)
    assert len(names) <= 3, "one directory sector: the root and three entries"
    data, fat, entries = b"", [FAT_SECTOR, END], []
    for index, name in enumerate(names):
        right = index + 2 if index + 1 < len(names) else NONE  # a chain of right siblings
        if name in streams:
            content = streams[name].ljust(4096, b"\x00")
            start, count = 2 + len(data) // SECTOR, len(content) // SECTOR + (len(content) % SECTOR > 0)
            fat += [start + i + 1 for i in range(count - 1)] + [END]
            data += content.ljust(count * SECTOR, b"\x00")
            entries.append(_entry(name, 2, right=right, start=start, size=len(content)))
        else:
            entries.append(_entry(name, 1, right=right))
    directory = _entry("Root Entry", 5, child=1 if names else NONE) + b"".join(entries)
    directory = directory.ljust(SECTOR, b"\x00")
    assert len(fat) <= SECTOR // 4
    fat_sector = struct.pack(f"<{SECTOR // 4}I", *(fat + [FREE] * (SECTOR // 4 - len(fat))))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
              + struct.pack("<109I", 0, *([FREE] * 108)))
    assert len(header) == SECTOR
    return header + fat_sector + directory + data


def doc(*, macros: bool = False) -> bytes:
    return compound_file({"WordDocument": b"\xec\xa5" + b"\x00" * 100, "1Table": b"\x00" * 10},
                         storages=("Macros",) if macros else ())


def xls(*, macros: bool = False) -> bytes:
    return compound_file({"Workbook": b"\x09\x08" + b"\x00" * 100},
                         storages=("_VBA_PROJECT_CUR",) if macros else ())


def msi() -> bytes:
    """An OLE2 file that is neither Word nor Excel (an installer, say)."""
    return compound_file({"\u4840\u3b3f": b"\x00" * 10})
