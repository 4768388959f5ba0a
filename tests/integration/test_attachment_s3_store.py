"""The attachment store's S3 adapter (shared/runtime/storage.py S3Store) against a real S3-compatible server (moto's
server mode over HTTP, tests/support/s3.py): objects by their SHA-256, whole or not at all, checked by Content-MD5."""

from __future__ import annotations

import base64
import hashlib
import io
import os

import pytest

from shared.runtime.settings import PlatformSettings
from shared.runtime.storage import ContentMismatch, S3Store, StorageUnavailable, open_blob_store
from tests.support.s3 import S3Server
from tests.support.servers import free_port

CONTENT = b"\x89PNG\r\n\x1a\n" + os.urandom(700_000)
SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def bucket(s3: S3Server) -> str:
    return s3.new_bucket()


@pytest.fixture
def store(s3: S3Server, bucket: str) -> S3Store:
    settings = PlatformSettings(XINFANG_ENV="test", **s3.settings(bucket))
    built = open_blob_store(settings)
    assert isinstance(built, S3Store)
    return built


def keys(s3: S3Server, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_file_is_stored_under_its_hash_and_read_back(s3, bucket, store) -> None:
    assert store.size(SHA) is None and store.open(SHA) is None
    assert store.put(SHA, io.BytesIO(CONTENT), len(CONTENT)) is True
    assert keys(s3, bucket) == [f"attachments/{SHA}"]
    stored = s3.client().head_object(Bucket=bucket, Key=f"attachments/{SHA}")
    assert stored["Metadata"] == {"sha256": SHA} and stored["ContentType"] == "application/octet-stream"

    assert store.size(SHA) == len(CONTENT)
    blob = store.open(SHA)
    assert blob is not None and blob.size == len(CONTENT)
    assert b"".join(blob.chunks()) == CONTENT


def test_storing_the_same_bytes_again_uploads_nothing(store) -> None:
    store.put(SHA, io.BytesIO(CONTENT), len(CONTENT))

    class Unread(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("the file is already there: nothing is read or sent")

    assert store.put(SHA, Unread(CONTENT), len(CONTENT)) is False


def test_content_that_does_not_hash_to_its_name_is_not_stored(s3, bucket, store) -> None:
    with pytest.raises(ContentMismatch):
        store.put("0" * 64, io.BytesIO(CONTENT), len(CONTENT))
    assert keys(s3, bucket) == []


def test_a_source_that_fails_leaves_no_object(s3, bucket, store) -> None:
    class Failing(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            if self.tell() > 100_000:
                raise OSError("the spooled upload could not be read")
            return super().read(min(size, 65_536) if size and size > 0 else 65_536)

    with pytest.raises(StorageUnavailable):
        store.put(SHA, Failing(CONTENT), len(CONTENT))
    assert keys(s3, bucket) == []


def test_each_upload_carries_its_content_md5(store) -> None:
    # S3 (and MinIO, Ceph, ...) refuse a body that does not match its Content-MD5 before the object exists; moto does
    # not check it, so what is checked here is that the adapter sends it, and nothing else (no CRC of botocore's).
    sent: list[dict[str, str]] = []
    store.client.meta.events.register("before-send.s3.PutObject",
                                      lambda request, **_: sent.append(
                                          {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}))
    store.put(SHA, io.BytesIO(CONTENT), len(CONTENT))
    [headers] = sent
    assert headers["Content-MD5"] == base64.b64encode(hashlib.md5(CONTENT, usedforsecurity=False).digest()).decode()
    assert not any(name.lower().startswith("x-amz-checksum") for name in headers)


def test_delete_removes_the_object(store) -> None:
    store.put(SHA, io.BytesIO(CONTENT), len(CONTENT))
    store.delete(SHA)
    assert store.size(SHA) is None and store.open(SHA) is None


def test_a_missing_bucket_or_an_unreachable_server_is_unavailable(s3) -> None:
    no_bucket = S3Store.connect(bucket="no-such-bucket", endpoint_url=s3.endpoint_url, region="us-east-1",
                                access_key_id="k", secret_access_key="s")
    with pytest.raises(StorageUnavailable):
        no_bucket.put(SHA, io.BytesIO(CONTENT), len(CONTENT))
    with pytest.raises(StorageUnavailable):
        no_bucket.open(SHA)

    nobody = S3Store.connect(bucket="b", endpoint_url=f"http://127.0.0.1:{free_port()}", region="us-east-1",
                             access_key_id="k", secret_access_key="s", timeout=2)
    for attempt in (lambda: nobody.size(SHA), lambda: nobody.open(SHA),
                    lambda: nobody.put(SHA, io.BytesIO(CONTENT), len(CONTENT))):
        with pytest.raises(StorageUnavailable):
            attempt()
