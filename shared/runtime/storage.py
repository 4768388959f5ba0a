"""The attachment store: files kept by the SHA-256 of their content, behind one port with two adapters.

- `FolderStore`, the embedded default: `<DATA_DIR>/attachments/ab/cd/abcd…` (the first two pairs of hex digits
  fan the folder out). A file is written under `incoming/` in the same folder, flushed to disk and renamed into
  place (`os.replace`, atomic on one file system): a reader, or a crash, never meets half a file.
- `S3Store`, production: an S3-compatible bucket (any endpoint: MinIO, Ceph, a cloud's object storage), key
  `<prefix><sha256>`, one PutObject with Content-MD5, which the server checks before the object exists at all:
  the object is there whole or not at all.

Both check that the content hashes to the name it is stored under before storing it, so a caller's mistake cannot
file one document under another's name. Storing what is already there does nothing (content addressing: the same
bytes uploaded twice are one file). A store that cannot be reached raises `StorageUnavailable`.

Nothing here knows about petitions: which files a petition references is intake's record, and the gateway decides
who may read them (docs/api.md, "Attachments"). A file no petition references may be removed (docs/architecture.md).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StorageUnavailable(RuntimeError):
    """The store could not be reached or refused the operation; nothing was stored."""


class ContentMismatch(ValueError):
    """The content given does not hash to the name it was to be stored under (or is not as long as said)."""


class Blob(Protocol):
    size: int

    def chunks(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class BlobStore(Protocol):
    def put(self, sha256: str, source: BinaryIO, size: int) -> bool:
        """Store `size` bytes read from `source` (seekable; read from its start) as `sha256`; True if they were
        not there before. Raises ContentMismatch, StorageUnavailable."""
        ...

    def size(self, sha256: str) -> int | None:
        """The stored file's size, or None if there is no such file."""
        ...

    def open(self, sha256: str) -> Blob | None:
        """The stored file to read (close it after), or None."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove the file (for the sweeper of files no petition references; docs/architecture.md)."""
        ...


def _checked(sha256: str) -> str:
    if not SHA256.match(sha256):
        raise ValueError("a stored file is named by the 64 lower-case hex digits of its SHA-256")
    return sha256


def digests(source: BinaryIO) -> tuple[str, bytes, int]:
    """SHA-256 (hex), MD5 (raw) and length of everything in `source`, read from its start."""
    source.seek(0)
    sha, md5, length = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    while chunk := source.read(CHUNK):
        sha.update(chunk)
        md5.update(chunk)
        length += len(chunk)
    return sha.hexdigest(), md5.digest(), length


# --- the folder under the data directory ------------------------------------------------------------------------

class _FileBlob:
    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.size = os.fstat(handle.fileno()).st_size

    def chunks(self) -> Iterator[bytes]:
        try:
            while chunk := self._handle.read(CHUNK):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self._handle.close()


class FolderStore:
    """Files in a folder (created when the first file is stored)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        _checked(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, sha256: str, source: BinaryIO, size: int) -> bool:
        target = self.path(sha256)
        if self.size(sha256) == size:
            return False
        incoming = self.root / "incoming"
        try:
            incoming.mkdir(parents=True, exist_ok=True, mode=0o750)
            partial = incoming / f"{sha256}.{uuid.uuid4().hex}.part"
        except OSError as error:
            raise StorageUnavailable(f"cannot write under {self.root}: {error}") from error
        try:
            digest, length = self._write(source, partial)
            if digest != sha256 or length != size:
                raise ContentMismatch(f"content of {length} bytes hashes to {digest}, not {sha256} of {size}")
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            os.replace(partial, target)  # atomic: the file appears whole, or not at all
            self._sync_folder(target.parent)
        except OSError as error:
            raise StorageUnavailable(f"cannot store {sha256} under {self.root}: {error}") from error
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        return True

    @staticmethod
    def _write(source: BinaryIO, partial: Path) -> tuple[str, int]:
        source.seek(0)
        sha, length = hashlib.sha256(), 0
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with os.fdopen(descriptor, "wb") as out:
            while chunk := source.read(CHUNK):
                sha.update(chunk)
                length += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        return sha.hexdigest(), length

    @staticmethod
    def _sync_folder(folder: Path) -> None:
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StorageUnavailable(f"cannot read {self.root}: {error}") from error

    def open(self, sha256: str) -> _FileBlob | None:
        try:
            return _FileBlob(self.path(sha256).open("rb"))
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StorageUnavailable(f"cannot read {self.root}: {error}") from error

    def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(sha256).unlink()


# --- S3-compatible object storage ---------------------------------------------------------------------------------

class _ObjectBlob:
    def __init__(self, answer: dict[str, Any]) -> None:
        self._body = answer["Body"]
        self.size = int(answer["ContentLength"])

    def chunks(self) -> Iterator[bytes]:
        from botocore.exceptions import BotoCoreError  # noqa: PLC0415 - boto3 is loaded only when S3 is used

        try:
            yield from self._body.iter_chunks(CHUNK)
        except BotoCoreError as error:  # the answer has begun: all that can be done is to stop it short
            log.error("reading an attachment from object storage failed: %s", type(error).__name__)
            raise
        finally:
            self.close()

    def close(self) -> None:
        self._body.close()


class S3Store:
    """Objects in one bucket of an S3-compatible store. The bucket must exist (the operator creates it, with no
    public access); the credentials need s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on it (without
    ListBucket a missing object answers 403 instead of 404, which is taken as the store refusing)."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def connect(cls, *, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str | None = None,
                access_key_id: str | None = None, secret_access_key: str | None = None,
                addressing_style: str = "path", timeout: float = 10.0) -> S3Store:
        import boto3  # noqa: PLC0415 - only where S3 is used
        from botocore.config import Config  # noqa: PLC0415

        config = Config(
            region_name=region, connect_timeout=timeout, read_timeout=timeout, max_pool_connections=32,
            retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": addressing_style},
            # botocore adds CRC checksums to every upload by default since 1.36, which several S3-compatible
            # servers refuse; the upload carries Content-MD5 instead, which every one of them checks.
            request_checksum_calculation="when_required", response_checksum_validation="when_required")
        session = boto3.session.Session()
        client = session.client("s3", endpoint_url=endpoint_url or None, aws_access_key_id=access_key_id or None,
                                aws_secret_access_key=secret_access_key or None, config=config)
        return cls(client, bucket, prefix)

    def key(self, sha256: str) -> str:
        return self.prefix + _checked(sha256)

    def put(self, sha256: str, source: BinaryIO, size: int) -> bool:
        key = self.key(sha256)
        if self.size(sha256) == size:
            return False
        try:
            digest, md5, length = digests(source)
        except OSError as error:  # the source failed (a spooled upload on a full disk, say): nothing was sent
            raise StorageUnavailable(f"cannot read the file to store as {sha256}: {error}") from error
        if digest != sha256 or length != size:
            raise ContentMismatch(f"content of {length} bytes hashes to {digest}, not {sha256} of {size}")
        source.seek(0)
        with self._errors(f"storing {sha256}"):
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=source, ContentLength=size,
                ContentMD5=base64.b64encode(md5).decode("ascii"), ContentType="application/octet-stream",
                Metadata={"sha256": sha256})
        return True

    def size(self, sha256: str) -> int | None:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            with self._errors(f"looking up {sha256}", passing=ClientError):
                answer = self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if _not_found(error):
                return None
            raise StorageUnavailable(f"object storage refused looking up {sha256}: {_code(error)}") from None
        return int(answer["ContentLength"])

    def open(self, sha256: str) -> _ObjectBlob | None:
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            with self._errors(f"reading {sha256}", passing=ClientError):
                answer = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if _not_found(error):
                return None
            raise StorageUnavailable(f"object storage refused reading {sha256}: {_code(error)}") from None
        return _ObjectBlob(answer)

    def delete(self, sha256: str) -> None:
        with self._errors(f"deleting {sha256}"):
            self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))

    @contextlib.contextmanager
    def _errors(self, what: str, passing: type[BaseException] | None = None) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            yield
        except (BotoCoreError, OSError) as error:  # unreachable, timed out, no credentials, the source failed, ...
            raise StorageUnavailable(f"object storage failed {what}: {type(error).__name__}") from None
        except ClientError as error:
            if passing is not None and isinstance(error, passing):
                raise
            raise StorageUnavailable(f"object storage refused {what}: {_code(error)}") from None


def _code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", "unknown"))


def _not_found(error: Any) -> bool:
    return _code(error) in ("404", "NoSuchKey", "NotFound")


def open_blob_store(settings: Any) -> BlobStore:
    """The store the settings name (ATTACHMENT_STORE; docs/configuration.md)."""
    if settings.attachment_store == "s3":
        secret = settings.attachment_s3_secret_access_key
        return S3Store.connect(
            bucket=settings.attachment_s3_bucket, prefix=settings.attachment_s3_prefix,
            endpoint_url=settings.attachment_s3_endpoint_url, region=settings.attachment_s3_region,
            access_key_id=settings.attachment_s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret is not None else None,
            addressing_style=settings.attachment_s3_addressing_style,
            timeout=settings.attachment_s3_timeout_seconds)
    return FolderStore(Path(settings.data_dir) / "attachments")
