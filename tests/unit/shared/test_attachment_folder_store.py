"""The attachment store's folder adapter (shared/runtime/storage.py FolderStore): files by their SHA-256, written
whole or not at all, the content checked against its name."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from shared.runtime import storage
from shared.runtime.settings import PlatformSettings
from shared.runtime.storage import ContentMismatch, FolderStore, StorageUnavailable, open_blob_store

CONTENT = b"%PDF-1.4\n" + os.urandom(300_000) + b"\n%%EOF\n"
SHA = hashlib.sha256(CONTENT).hexdigest()


def read(blob: storage.Blob) -> bytes:
    return b"".join(blob.chunks())


def leftovers(root: Path) -> list[Path]:
    return sorted(p for p in (root / "incoming").glob("*")) if (root / "incoming").exists() else []


def test_a_file_is_stored_by_its_hash_and_read_back(tmp_path: Path) -> None:
    store = FolderStore(tmp_path / "attachments")
    assert store.size(SHA) is None and store.open(SHA) is None
    assert not (tmp_path / "attachments").exists()  # nothing made before the first file

    assert store.put(SHA, io.BytesIO(CONTENT), len(CONTENT)) is True
    assert store.path(SHA) == tmp_path / "attachments" / SHA[:2] / SHA[2:4] / SHA
    assert store.size(SHA) == len(CONTENT)
    blob = store.open(SHA)
    assert blob is not None and blob.size == len(CONTENT)
    assert read(blob) == CONTENT
    assert leftovers(tmp_path / "attachments") == []


def test_storing_the_same_bytes_again_changes_nothing(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    store.put(SHA, io.BytesIO(CONTENT), len(CONTENT))
    written = store.path(SHA).stat().st_mtime_ns
    assert store.put(SHA, io.BytesIO(CONTENT), len(CONTENT)) is False
    assert store.path(SHA).stat().st_mtime_ns == written


def test_content_that_does_not_hash_to_its_name_is_not_stored(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    other = "0" * 64
    with pytest.raises(ContentMismatch):
        store.put(other, io.BytesIO(CONTENT), len(CONTENT))
    with pytest.raises(ContentMismatch):
        store.put(SHA, io.BytesIO(CONTENT), len(CONTENT) + 1)  # not as long as said
    assert store.size(other) is None and store.size(SHA) is None
    assert leftovers(tmp_path) == []


def test_a_failed_write_leaves_nothing_half_written(tmp_path: Path) -> None:
    class Failing(io.BytesIO):
        """A source whose reading fails half-way (a client gone, a disk error)."""

        def read(self, size: int = -1) -> bytes:
            if self.tell() > 100_000:
                raise OSError("the source failed")
            return super().read(min(size, 65_536) if size and size > 0 else 65_536)

    store = FolderStore(tmp_path)
    with pytest.raises(StorageUnavailable):
        store.put(SHA, Failing(CONTENT), len(CONTENT))
    assert store.size(SHA) is None and store.open(SHA) is None
    assert leftovers(tmp_path) == []  # the partial file was removed


def test_a_folder_that_cannot_be_written_is_unavailable(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(StorageUnavailable):
        FolderStore(blocked).put(SHA, io.BytesIO(CONTENT), len(CONTENT))


def test_names_are_hashes_only(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    for name in ("../../etc/passwd", SHA.upper(), SHA[:-1], ""):
        with pytest.raises(ValueError, match="SHA-256"):
            store.path(name)


def test_delete_removes_the_file(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    store.put(SHA, io.BytesIO(CONTENT), len(CONTENT))
    store.delete(SHA)
    store.delete(SHA)  # already gone: nothing to do
    assert store.size(SHA) is None


def test_the_settings_choose_the_folder_under_the_data_directory_by_default(tmp_path: Path) -> None:
    settings = PlatformSettings(XINFANG_ENV="test", DATA_DIR=str(tmp_path))
    store = open_blob_store(settings)
    assert isinstance(store, FolderStore) and store.root == tmp_path / "attachments"
    with pytest.raises(ValueError, match="ATTACHMENT_S3_BUCKET"):
        PlatformSettings(XINFANG_ENV="test", ATTACHMENT_STORE="s3")
