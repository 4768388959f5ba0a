"""Attachments: upload (public), and download by those who may see the case (docs/api.md, "Attachments").

- `POST /api/v1/attachments` takes one file (multipart/form-data, field `file`), recognises its type by its content
  (shared/language/contracts/filetypes.py: an allow-list), refuses a declared type or a file name that disagrees,
  stores it by its SHA-256 (shared/runtime/storage.py) and answers the entry a petition lists, upload token
  included (services/gateway/attachments.py).
- Officers download a petition's file as they may see its petitioner (docs/security.md, "What each role sees"):
  the bureau, the organ responsible now, and auditors; each download is recorded as a view of personal data
  before it is answered. The petitioner downloads their own with the query code and the ID number's last six
  characters, as for the evaluation (routes/lifecycle.py).
- Served as a download: `Content-Disposition: attachment` with the RFC 5987 name, the type found at upload,
  `X-Content-Type-Options: nosniff` and a sandboxing Content-Security-Policy.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, Form, Header, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from services.gateway import access_records, views
from services.gateway.attachments import content_disposition, store_unavailable
from services.gateway.deps import (
    OFFICER_ROLES,
    CorrelationIdDep,
    Gateway,
    GatewayDep,
    client_address,
    public_rate_limit,
    require_roles,
)
from services.gateway.errors import ApiError, problem
from services.gateway.routes.lifecycle import _verified_petitioner
from services.gateway.schemas import Problem
from services.gateway.security import Principal, Role
from shared.language.contracts import filetypes
from shared.language.contracts.actor import PETITIONER
from shared.language.contracts.errors import validation_problem
from shared.language.contracts.lifecycle import IdNumberTail
from shared.language.contracts.registration import Text
from shared.language.readmodels import CaseView
from shared.runtime.storage import Blob, ContentMismatch, StorageUnavailable, digests

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["attachments"])

UPLOAD_PATH = "/api/v1/attachments"
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file, within the upload's body limit
DOWNLOAD_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"
TAIL_HEADER = "X-Id-Number-Tail"


class UploadedAttachment(BaseModel):
    """An uploaded file, as a petition lists it in `attachments` (send it as it is)."""

    file_name: str
    size: int
    sha256: str
    content_type: str = Field(description="the type found in the content: " + ", ".join(filetypes.BY_CONTENT_TYPE))
    upload_token: str = Field(description="proof of the upload, checked when a petition lists the file")


class PetitionAttachment(BaseModel):
    file_name: str
    size: int
    sha256: str
    content_type: str | None = None
    downloadable: bool  # uploaded to the platform (listed with its upload token); otherwise kept elsewhere


class PetitionAttachments(BaseModel):
    attachments: list[PetitionAttachment]


class _UploadName(BaseModel):
    file_name: Annotated[Text, Field(max_length=255, title="文件名")]


class _SecondFactor(BaseModel):
    id_number_tail: Annotated[IdNumberTail, Field(title="身份证号码后六位")]


def upload_limits(max_file_bytes: int) -> dict[str, tuple[int, Any]]:
    """The upload route's body limit and refusal for BodySizeLimit: the per-file limit plus the multipart framing,
    answered as a file over the per-file limit is."""
    refusal = too_large(max_file_bytes)
    return {UPLOAD_PATH: (max_file_bytes + MULTIPART_OVERHEAD, problem(413, refusal.error, refusal.message))}


def too_large(max_file_bytes: int) -> ApiError:
    return ApiError(413, "file_too_large", f"文件过大：单个附件不能超过{_megabytes(max_file_bytes)}")


def _megabytes(size: int) -> str:
    return f"{round(size / 1048576, 1):g}MB" if size >= 1048576 else f"{size // 1024}KB"


UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "PDF, JPEG, PNG, .docx/.xlsx/.pptx, .doc/.xls, UTF-8 text (.txt)"}}}}}}}


@router.post("/attachments", status_code=201, response_model=UploadedAttachment, openapi_extra=UPLOAD_BODY,
             dependencies=[Depends(public_rate_limit)],
             responses={code: {"model": Problem} for code in (400, 413, 415, 422, 429, 503)})
async def upload_attachment(request: Request, gw: GatewayDep) -> UploadedAttachment:
    """Upload one file for a petition (`multipart/form-data`, field `file`), before registering it: its type is
    recognised by its content (PDF, JPEG, PNG, Word/Excel/PowerPoint, UTF-8 text); a declared type or file name
    that disagrees is refused. The answer goes into the petition's `attachments` as it is. A file no petition lists
    may be removed after a while."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "请以multipart/form-data格式上传文件（字段名file）")
    try:
        async with request.form(max_files=1, max_fields=8, max_part_size=64 * 1024) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ApiError(422, "file_missing", "请选择要上传的文件（表单字段名为file）")
            return await run_in_threadpool(accept, gw, upload.file, upload.filename or "", upload.content_type)
    except (MultiPartException, StarletteHTTPException):
        raise ApiError(400, "invalid_multipart", "上传内容格式不正确：请以multipart/form-data格式上传一个文件（字段名file）") from None


def accept(gw: Gateway, file: BinaryIO, raw_name: str, declared: str | None) -> UploadedAttachment:
    """Check one uploaded file and store it (blocking: run in the thread pool)."""
    file_name = _file_name(raw_name)
    size = file.seek(0, os.SEEK_END)
    if size == 0:
        raise ApiError(422, "empty_file", "文件为空，请选择有内容的文件")
    if size > gw.settings.attachment_max_bytes:
        raise too_large(gw.settings.attachment_max_bytes)
    kind = filetypes.sniff(file)
    if kind is None:
        raise ApiError(415, "unsupported_file_type", f"文件类型不支持：只能上传{filetypes.ALLOWED_TEXT}")
    if not filetypes.declared_as(kind, declared):
        raise ApiError(422, "file_type_mismatch", f"声明的文件类型与文件内容（{kind.label}）不符，请检查后重新上传")
    if not filetypes.named_as(kind, file_name):
        raise ApiError(422, "file_type_mismatch",
                       f"文件扩展名与文件内容（{kind.label}）不符，文件名应以{'或'.join(kind.extensions)}结尾")
    sha256, _, length = digests(file)
    try:
        gw.attachments.put(sha256, file, length)
    except (StorageUnavailable, ContentMismatch) as error:  # a mismatch: the spooled file changed under us
        log.warning("storing an attachment failed: %s", error)
        raise store_unavailable() from None
    token = gw.upload_tokens.issue(sha256, length, kind.content_type)
    return UploadedAttachment(file_name=file_name, size=length, sha256=sha256, content_type=kind.content_type,
                              upload_token=token)


def _file_name(raw_name: str) -> str:
    base = raw_name.replace("\\", "/").rsplit("/", 1)[-1]  # some browsers send the client's whole path
    try:
        return _UploadName(file_name=base).file_name
    except ValidationError as error:
        problem = validation_problem(error.errors(), _UploadName)
        raise ApiError(422, problem["error"], problem["message"], extra={"errors": problem["errors"]}) from None


# --- downloads ------------------------------------------------------------------------------------------------------

def _petition_id(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ApiError(404, "not_found", "未找到该信访事项") from None


def _listed(record: dict[str, Any], sha256: str) -> dict[str, Any]:
    wanted = sha256.strip().lower()
    for attachment in record.get("attachments") or []:
        if attachment.get("sha256") == wanted:
            if not attachment.get("content_type"):
                raise ApiError(404, "attachment_not_uploaded", "该附件未上传至本平台，无法下载")
            return attachment
    raise ApiError(404, "attachment_not_found", "该信访事项没有此附件")


def _open(gw: Gateway, attachment: dict[str, Any]) -> Blob:
    try:
        blob = gw.attachments.open(attachment["sha256"])
    except StorageUnavailable as error:
        log.warning("attachment store unavailable: %s", error)
        raise store_unavailable() from None
    if blob is None:  # listed by a petition but gone from the store: lost, or swept by mistake
        log.error("attachment %s of a petition is not in the store", attachment["sha256"])
        raise ApiError(404, "attachment_missing", "附件文件缺失，请与信访部门联系")
    return blob


def _download(attachment: dict[str, Any], blob: Blob) -> StreamingResponse:
    content_type = attachment["content_type"]
    headers = {
        "Content-Disposition": content_disposition(attachment["file_name"], content_type),
        "Content-Length": str(blob.size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": DOWNLOAD_POLICY,  # should a browser render it after all, it runs nothing
        "ETag": f'"{attachment["sha256"]}"',
    }
    media_type = f"{content_type}; charset=utf-8" if content_type == filetypes.TEXT.content_type else content_type
    return StreamingResponse(blob.chunks(), media_type=media_type, headers=headers,
                             background=BackgroundTask(blob.close))  # closed also if the client went away


def _may_download(principal: Principal, case: CaseView | None, gw: Gateway) -> None:
    """Who may read a petition's files: as its petitioner's identity (docs/security.md, "What each role sees"), the
    bureau and the organ responsible now (for a report: the handling organ, not a reviewing one); and auditors,
    whose downloads, like their case bundles, are recorded. A joining or former organ may not."""
    if principal.role is not Role.ORGAN_OFFICER:
        return
    if case is None or principal.organ_code not in case.involved_organs:
        raise ApiError(403, "not_your_organ", "该信访事项未转送至您所在的机关，无权查看")
    if not views.visibility(principal, case, gw.rpc).identity:
        raise ApiError(403, "attachment_not_permitted", "贵机关目前不是该信访事项的承办机关，无权下载其附件")


@router.get("/petitions/{petition_id}/attachments/{sha256}", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"},
                       **{code: {"model": Problem} for code in (401, 403, 404, 503)}})
def officer_download(petition_id: str, sha256: str, request: Request, gw: GatewayDep,
                     principal: Annotated[Principal, Depends(require_roles(*OFFICER_ROLES))],
                     correlation: CorrelationIdDep) -> StreamingResponse:
    """Download a file a petition lists (`attachments[].sha256` of its record): the bureau, the organ responsible
    for the case now, and auditors. Recorded as a view of personal data before it is answered (503 if it cannot
    be)."""
    petition_id = _petition_id(petition_id)
    case = CaseView.objects(petition_id=petition_id).first() if principal.role is Role.ORGAN_OFFICER else None
    _may_download(principal, case, gw)
    record = gw.rpc.call("intake", "get_petition", petition_id, actor=principal.actor())
    if record is None:
        raise ApiError(404, "not_found", "未找到该信访事项")
    attachment = _listed(record, sha256)
    blob = _open(gw, attachment)
    try:
        access_records.record(principal, petition_id, [f"attachments.{attachment['sha256']}"],
                              client_address(request), correlation)
    except BaseException:
        blob.close()
        raise
    return _download(attachment, blob)


# --- the petitioner's own ---------------------------------------------------------------------------------------

def _petitioner_record(gw: Gateway, request: Request, query_code: str, tail: str | None) -> dict[str, Any]:
    try:
        checked = _SecondFactor(id_number_tail=tail)
    except ValidationError as error:
        problem = validation_problem(error.errors(), _SecondFactor)
        raise ApiError(422, problem["error"], problem["message"], extra={"errors": problem["errors"]}) from None
    petition_id = _verified_petitioner(gw, request, query_code, checked.id_number_tail)
    record = gw.rpc.call("intake", "get_petition", petition_id, actor=PETITIONER.model_dump())
    if record is None:
        raise ApiError(404, "not_found", "未找到该查询码对应的信访事项，请核对查询码后重试")
    return record


TailHeader = Annotated[str | None, Header(alias=TAIL_HEADER, description="身份证号码后六位: the last six characters "
                                                                         "of the petitioner's ID number")]
PETITIONER_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (403, 404, 409, 422, 429, 503)}


@router.get("/status/{query_code}/attachments", response_model=PetitionAttachments,
            dependencies=[Depends(public_rate_limit)], responses=PETITIONER_RESPONSES)
def petitioner_attachments(query_code: str, request: Request, gw: GatewayDep,
                           id_number_tail: TailHeader = None) -> PetitionAttachments:
    """The petitioner's attached files, with the query code and the last six characters of the ID number in the
    `X-Id-Number-Tail` header (the second factor: the refusals are the evaluation's)."""
    record = _petitioner_record(gw, request, query_code, id_number_tail)
    return PetitionAttachments(attachments=[
        PetitionAttachment(file_name=a["file_name"], size=a["size"], sha256=a["sha256"],
                           content_type=a.get("content_type"), downloadable=bool(a.get("content_type")))
        for a in record.get("attachments") or []])


def _petitioner_download(gw: Gateway, request: Request, query_code: str, sha256: str,
                         tail: str | None) -> StreamingResponse:
    attachment = _listed(_petitioner_record(gw, request, query_code, tail), sha256)
    return _download(attachment, _open(gw, attachment))


@router.get("/status/{query_code}/attachments/{sha256}", response_class=StreamingResponse,
            dependencies=[Depends(public_rate_limit)],
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"},
                       **PETITIONER_RESPONSES})
def petitioner_download(query_code: str, sha256: str, request: Request, gw: GatewayDep,
                        id_number_tail: TailHeader = None) -> StreamingResponse:
    """Download one of the petitioner's files, with the second factor in the `X-Id-Number-Tail` header."""
    return _petitioner_download(gw, request, query_code, sha256, id_number_tail)


@router.post("/status/{query_code}/attachments/{sha256}", response_class=StreamingResponse,
             dependencies=[Depends(public_rate_limit)],
             responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"},
                        **PETITIONER_RESPONSES})
def petitioner_download_form(query_code: str, sha256: str, request: Request, gw: GatewayDep,
                             id_number_tail: Annotated[str | None, Form()] = None) -> StreamingResponse:
    """The same for a plain HTML form (`application/x-www-form-urlencoded`, field `id_number_tail`), so a browser
    downloads without script and the digits stay out of the address."""
    return _petitioner_download(gw, request, query_code, sha256, id_number_tail)
