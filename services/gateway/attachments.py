"""Attachments at the gateway: what an upload's answer proves, and the check of a petition's attachments before it
is registered (the endpoints are in routes/attachments.py; docs/api.md, "Attachments").

A stored file is named by its SHA-256, and a hash is not a secret: an officer who may read a record's attachment
list but not the files (a joining organ) sees them. So a petition's entry makes its file downloadable only with the
proof that its registrant uploaded those bytes: the upload answers an `upload_token`, an HMAC (keyed from
GATEWAY_JWT_SECRET) of the hash, the size and the type found in the content, and registration checks it, and that
the file is in the store with that size. intake records the entry with its `content_type`, never the token; an
entry without a token (a file kept elsewhere, as petitions were registered before uploads existed) is recorded
without a type and cannot be downloaded.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from base64 import urlsafe_b64encode
from typing import Any
from urllib.parse import quote

from services.gateway.errors import ApiError
from shared.language.contracts import filetypes
from shared.language.contracts.errors import explain
from shared.language.contracts.registration import RegisterPetition
from shared.runtime.storage import BlobStore, StorageUnavailable

log = logging.getLogger(__name__)

TOKEN_CONTEXT = b"xinfang/attachment-upload/v1"


class UploadTokens:
    """Proof that whoever holds the token uploaded the file (or was given the upload's answer by who did)."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode("utf-8"), TOKEN_CONTEXT, hashlib.sha256).digest()

    def issue(self, sha256: str, size: int, content_type: str) -> str:
        message = f"{sha256}\n{size}\n{content_type}".encode("ascii")
        return urlsafe_b64encode(hmac.new(self._key, message, hashlib.sha256).digest()).decode("ascii").rstrip("=")

    def valid(self, token: str, sha256: str, size: int, content_type: str) -> bool:
        return hmac.compare_digest(token.encode("utf-8"), self.issue(sha256, size, content_type).encode("ascii"))


def store_unavailable() -> ApiError:
    return ApiError(503, "attachment_store_unavailable", "附件存储暂时无法使用，请稍后重试")


def _error(index: int, field: str, code: str, message: str) -> dict[str, Any]:
    return {"type": code, "loc": ("body", "attachments", index, field), "msg": message}


def check_references(command: RegisterPetition, tokens: UploadTokens, store: BlobStore) -> None:
    """Refuse (422 naming each attachment) a registration whose uploaded attachments are not as uploaded: a token
    that does not prove this file, a type without a token, a name whose extension disagrees with the content, a
    file no longer in the store. Entries without a token or type are references to files kept elsewhere."""
    errors = []
    for index, attachment in enumerate(command.attachments):
        number = f"第{index + 1}个附件"
        if attachment.upload_token is None:
            if attachment.content_type is not None:
                errors.append(_error(index, "upload_token", "invalid_upload_token",
                                     f"{number}缺少上传凭证：文件类型由平台在上传时识别，请先上传该文件，再按上传结果填写"))
            continue
        if attachment.content_type is None or not tokens.valid(
                attachment.upload_token, attachment.sha256, attachment.size, attachment.content_type):
            errors.append(_error(index, "upload_token", "invalid_upload_token",
                                 f"{number}的上传凭证与文件不符，请按上传结果原样填写摘要、大小和文件类型，或者重新上传"))
            continue
        kind = filetypes.BY_CONTENT_TYPE[attachment.content_type]
        if not filetypes.named_as(kind, attachment.file_name):
            errors.append(_error(index, "file_name", "invalid_file_extension",
                                 f"{number}的文件名应以{'或'.join(kind.extensions)}结尾（文件内容为{kind.label}）"))
            continue
        try:
            stored = store.size(attachment.sha256)
        except StorageUnavailable as error:
            log.warning("attachment store unavailable at registration: %s", error)
            raise store_unavailable() from None
        if stored != attachment.size:
            errors.append(_error(index, "sha256", "invalid_attachment_missing",
                                 f"{number}的文件不在附件存储中（未上传完成或者已被清理），请重新上传"))
    if errors:
        raise ApiError(422, "validation_failed", "提交的信息有误，请按提示修改后重新提交。",
                       extra={"errors": explain(errors)})


_PLAIN = re.compile(r"^[A-Za-z0-9 ._()+,=@~-]+$")


def content_disposition(file_name: str, content_type: str) -> str:
    """`attachment` with the name for every client: RFC 5987's UTF-8 `filename*`, and a plain ASCII `filename` for
    clients without it (the name itself if it is plain ASCII, otherwise "attachment" with the kind's extension)."""
    kind = filetypes.BY_CONTENT_TYPE.get(content_type)
    plain = file_name if _PLAIN.match(file_name) and file_name.strip(" .") else "attachment" + (
        kind.extensions[0] if kind else "")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(file_name, safe='')}"
