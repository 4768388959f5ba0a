"""Attachments through the real gateway application (docs/api.md, "Attachments"): uploaded as multipart, recognised
by content, stored by their SHA-256 in the folder under the data directory and in an S3-compatible server (moto's
server mode over HTTP), listed by a petition that the real intake application registers on a real store, and
downloaded by those who may see the case: the bureau, the organ responsible now, auditors (each download recorded)
and the petitioner with the second factor.

Behind the gateway's ports: intake's application itself (its HTTP entrypoint's few lines of translation are mirrored
by `IntakePort`) and the case view as supervision's projector writes it, in a real SecantusDB read model."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from services.gateway.clients import IntakeAnswer
from services.intake.application import IntakeApplication, PetitionNotFound
from services.intake.settings import IntakeSettings
from shared.language.contracts import filetypes
from shared.language.contracts.actor import Actor
from shared.language.contracts.errors import validation_problem
from shared.language.contracts.registration import RegisterPetition
from shared.runtime.storage import FolderStore
from tests.support import documents, samples
from tests.support.gateway_app import COUNTY, LABOUR, TOWN, headers, save_case_view, views_of
from tests.support.servers import free_port

PDF_NAME = "申请材料（第1页）.pdf"
MAX_FILE = 200_000


class IntakePort:
    """The gateway's intake port answered by intake's real application, as its internal HTTP API answers."""

    def __init__(self, intake: IntakeApplication) -> None:
        self.intake = intake

    def register(self, petition: dict[str, Any], actor: dict[str, Any] | None, correlation_id: str,
                 idempotency_key: str | None = None) -> IntakeAnswer:
        body = json.loads(json.dumps(petition))  # over the wire, as JSON
        try:
            command = RegisterPetition.model_validate(body)
        except Exception as error:  # noqa: BLE001 - a pydantic ValidationError: intake's 422
            return IntakeAnswer(422, json.dumps(validation_problem(error.errors())).encode())
        receipt = self.intake.register_petition(command, actor=Actor.model_validate(actor),
                                                correlation_id=correlation_id, idempotency_key=idempotency_key)
        return IntakeAnswer(201, json.dumps(receipt).encode())

    def find_by_query_code(self, query_code: str) -> dict[str, Any] | None:
        return self.intake.find_by_query_code(query_code)

    def verify_petitioner(self, query_code: str, id_number_tail: str) -> dict[str, Any] | None:
        return self.intake.verify_petitioner(query_code, id_number_tail)

    def close(self) -> None:
        pass


class Rpc:
    """The RPC port: intake's `get_petition` from its application (supervision is not asked on these paths)."""

    def __init__(self, intake: IntakeApplication) -> None:
        self.intake = intake
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def call(self, service: str, method: str, *args: Any, actor: dict[str, Any]) -> Any:
        self.calls.append((service, method, actor))
        if (service, method) == ("intake", "get_petition"):
            try:
                return self.intake.get_petition(args[0])
            except PetitionNotFound:
                return None
        raise AssertionError(f"unexpected RPC {service}.{method}")

    def close(self) -> None:
        pass


@pytest.fixture
def intake(settings_for, closing) -> IntakeApplication:
    return closing(IntakeApplication(settings_for(IntakeSettings, store="sqlite")))


@pytest.fixture
def gateway_client(gateway_for, tmp_path, intake) -> Callable[..., TestClient]:
    """The gateway with intake's application behind its intake and RPC ports, storing attachments under
    tmp_path/gateway-data (unless `settings` say otherwise)."""

    def build(**settings: str) -> TestClient:
        return gateway_for(Rpc(intake), intake=IntakePort(intake), **{
            "GATEWAY_PUBLIC_RATE_LIMIT": "1000/minute", "DATA_DIR": str(tmp_path / "gateway-data"),
            "GATEWAY_ATTACHMENT_MAX_BYTES": str(MAX_FILE), **settings})

    return build


@pytest.fixture(params=["folder", "s3"])
def client(request, gateway_client, s3) -> TestClient:
    extra = s3.settings(s3.new_bucket()) if request.param == "s3" else {}
    return gateway_client(**extra)


@pytest.fixture
def folder_client(gateway_client) -> TestClient:
    return gateway_client()


def upload(client: TestClient, name: str, content: bytes, content_type: str | None = None,
           **kwargs: Any) -> Any:
    part = (name, content, content_type) if content_type else (name, content)
    return client.post("/api/v1/attachments", files={"file": part}, **kwargs)


def uploaded(client: TestClient, name: str, content: bytes, content_type: str | None = None) -> dict[str, Any]:
    answer = upload(client, name, content, content_type)
    assert answer.status_code == 201, answer.text
    return answer.json()


def register(client: TestClient, attachments: list[dict[str, Any]], **overrides: Any) -> tuple[dict, dict]:
    body = samples.petition(attachments=attachments, **overrides)
    answer = client.post("/api/v1/petitions", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json(), body


def download(client: TestClient, petition_id: str, sha256: str, username: str) -> Any:
    return client.get(f"/api/v1/petitions/{petition_id}/attachments/{sha256}", headers=headers(client, username))


# --- the whole path -------------------------------------------------------------------------------------------------

def test_upload_register_and_download_by_those_who_may_see_the_case(client, intake):
    pdf = documents.PDF + os.urandom(50_000)  # a file of this test's own
    sent = uploaded(client, PDF_NAME, pdf, "application/pdf")
    assert sent["sha256"] == hashlib.sha256(pdf).hexdigest() and sent["size"] == len(pdf)
    assert sent["content_type"] == "application/pdf" and sent["file_name"] == PDF_NAME and sent["upload_token"]
    photo = uploaded(client, "C:\\fakepath\\现场照片.png", documents.png())  # no declared type; the path is dropped
    assert photo["file_name"] == "现场照片.png" and photo["content_type"] == "image/png"
    elsewhere = {"file_name": "原件.jpg", "size": 1234, "sha256": "cd" * 32}  # issue 2's form: a file kept elsewhere

    receipt, body = register(client, [sent, photo, elsewhere])
    pid, code = receipt["id"], receipt["query_code"]
    # intake keeps each entry with the type found at upload; the token is not passed on.
    assert intake.get_petition(pid)["attachments"] == [
        {k: v for k, v in sent.items() if k != "upload_token"},
        {k: v for k, v in photo.items() if k != "upload_token"},
        {**elsewhere, "content_type": None}]
    save_case_view(pid, code, organ=TOWN, involved=[TOWN, LABOUR])  # LABOUR joins (配合)

    for who in ("clerk", "supervisor", "admin", "town", "auditor"):
        answer = download(client, pid, sent["sha256"], who)
        assert answer.status_code == 200, (who, answer.text)
        assert answer.content == pdf
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.headers["content-length"] == str(len(pdf))
        assert answer.headers["content-disposition"] == (
            f"attachment; filename=\"attachment.pdf\"; filename*=UTF-8''{quote(PDF_NAME, safe='')}")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"
    assert download(client, pid, photo["sha256"].upper(), "town").content == documents.png()

    # A joining organ reads the matter but not the petitioner's files; an organ not involved not even the record.
    refused = download(client, pid, sent["sha256"], "labour")
    assert refused.status_code == 403 and refused.json()["error"] == "attachment_not_permitted"
    assert refused.json()["message"] == "贵机关目前不是该信访事项的承办机关，无权下载其附件"
    other = download(client, pid, sent["sha256"], "county")
    assert other.status_code == 403 and other.json()["error"] == "not_your_organ"
    assert client.get(f"/api/v1/petitions/{pid}/attachments/{sent['sha256']}").status_code == 401

    # Each download by an officer was recorded before it was answered, naming the file.
    recorded = views_of(client, pid)
    assert sorted(v["username"] for v in recorded) == ["admin", "auditor", "clerk", "supervisor", "town", "town"]
    assert {tuple(v["fields"]) for v in recorded} == {(f"attachments.{sent['sha256']}",),
                                                      (f"attachments.{photo['sha256']}",)}

    # What cannot be downloaded: a file kept elsewhere, a file the petition does not list.
    assert download(client, pid, elsewhere["sha256"], "clerk").json()["error"] == "attachment_not_uploaded"
    missing = download(client, pid, hashlib.sha256(b"other").hexdigest(), "clerk")
    assert missing.status_code == 404 and missing.json()["message"] == "该信访事项没有此附件"
    assert download(client, str(uuid.uuid4()), sent["sha256"], "clerk").status_code == 404

    # The petitioner: their own files, with the query code and the last six characters of the ID number.
    tail = {"X-Id-Number-Tail": body["petitioner"]["id_number"][-6:].lower()}
    listed = client.get(f"/api/v1/status/{code}/attachments", headers=tail)
    assert listed.status_code == 200, listed.text
    assert [(a["file_name"], a["downloadable"]) for a in listed.json()["attachments"]] == [
        (PDF_NAME, True), ("现场照片.png", True), ("原件.jpg", False)]
    mine = client.get(f"/api/v1/status/{code.lower()}/attachments/{sent['sha256']}", headers=tail)
    assert mine.status_code == 200 and mine.content == pdf
    assert mine.headers["content-disposition"].startswith("attachment; ")
    by_form = client.post(f"/api/v1/status/{code}/attachments/{photo['sha256']}",
                          data={"id_number_tail": tail["X-Id-Number-Tail"]})
    assert by_form.status_code == 200 and by_form.content == documents.png()

    wrong = client.get(f"/api/v1/status/{code}/attachments/{sent['sha256']}",
                       headers={"X-Id-Number-Tail": "000000" if tail["X-Id-Number-Tail"] != "000000" else "111111"})
    assert wrong.status_code == 403 and wrong.json()["error"] == "second_factor_mismatch"
    without = client.get(f"/api/v1/status/{code}/attachments/{sent['sha256']}")
    assert without.status_code == 422 and without.json()["errors"][0]["label"] == "身份证号码后六位"
    assert client.get("/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ/attachments", headers=tail).status_code == 404
    assert len(views_of(client, pid)) == 6  # the petitioner's own downloads are not officers' views


def test_text_and_office_documents_are_served_as_found(folder_client, intake):
    files = [("说明.txt", documents.TEXT, "text/plain; charset=utf-8"),
             ("申请书.docx", documents.ooxml("docx"), filetypes.DOCX.content_type),
             ("名单.xls", documents.xls(), "application/vnd.ms-excel")]
    sent = [uploaded(folder_client, name, content) for name, content, _ in files]
    receipt, _ = register(folder_client, sent)
    save_case_view(receipt["id"], receipt["query_code"], organ=TOWN, involved=[TOWN])
    for (name, content, served), entry in zip(files, sent, strict=True):
        answer = download(folder_client, receipt["id"], entry["sha256"], "town")
        assert answer.status_code == 200 and answer.content == content
        assert answer.headers["content-type"] == served, name


def test_a_report_s_files_go_to_the_handling_organ_and_not_to_the_reviewing_one(folder_client, intake):
    sent = uploaded(folder_client, "线索.pdf", documents.PDF + os.urandom(100))
    receipt, _ = register(folder_client, [sent], category="report", topic=None,
                          accused={"name": "孙某某", "organisation": "某物业公司"})
    save_case_view(receipt["id"], receipt["query_code"], organ=TOWN, involved=[TOWN, COUNTY],
                   status="under_review", category="report")
    assert download(folder_client, receipt["id"], sent["sha256"], "town").status_code == 200
    assert download(folder_client, receipt["id"], sent["sha256"], "county").status_code == 403


# --- refusals --------------------------------------------------------------------------------------------------------

def stored_files(tmp_path: Path) -> list[Path]:
    root = tmp_path / "gateway-data" / "attachments"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(("name", "content", "declared", "status", "error", "message"), [
    ("setup.exe", b"MZ\x90\x00" + os.urandom(2000), None, 415, "unsupported_file_type", "文件类型不支持：只能上传PDF、JPEG"),
    ("材料.pdf", b"MZ\x90\x00" + os.urandom(2000), "application/pdf", 415, "unsupported_file_type", "文件类型不支持"),
    ("照片.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", None, 415, "unsupported_file_type", "文件类型不支持"),
    ("宏.docm", documents.ooxml("docm"), None, 415, "unsupported_file_type", "文件类型不支持"),
    ("材料.pdf", documents.PDF, "image/png", 422, "file_type_mismatch", "声明的文件类型与文件内容（PDF文档）不符"),
    ("照片.jpg", documents.PDF, "application/pdf", 422, "file_type_mismatch",
     "文件扩展名与文件内容（PDF文档）不符，文件名应以.pdf结尾"),
    ("说明.html", b"<html><script>alert(1)</script></html>", "text/html", 422, "file_type_mismatch", "纯文本文件"),
    ("材料", documents.PDF, None, 422, "file_type_mismatch", "文件名应以.pdf结尾"),
    ("空.txt", b"", None, 422, "empty_file", "文件为空，请选择有内容的文件"),
    ("大.pdf", documents.PDF + b"\x00" * MAX_FILE, None, 413, "file_too_large", "文件过大：单个附件不能超过195KB"),
    ("a\u202egpj.pdf", documents.PDF, None, 422, "validation_failed", "提交的信息有误"),
])
def test_an_upload_that_is_not_an_allowed_file_as_named_is_refused(folder_client, tmp_path, name, content, declared,
                                                                  status, error, message):
    answer = upload(folder_client, name, content, declared)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error
    assert answer.json()["message"].startswith(message) or message in answer.json()["message"]
    assert stored_files(tmp_path) == []


def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(folder_client, tmp_path):
    answer = upload(folder_client, "大.pdf", documents.PDF + os.urandom(MAX_FILE + 70_000))
    assert answer.status_code == 413 and answer.json()["error"] == "file_too_large"
    # ... while a JSON body is held to the general limit, and the upload's limit is for the upload only.
    big = {"x": "y" * (2 * 1024 * 1024)}
    assert folder_client.post("/api/v1/petitions", json=big).json()["error"] == "payload_too_large"
    assert stored_files(tmp_path) == []


def test_what_is_not_one_file_in_a_multipart_form_is_refused(folder_client):
    not_multipart = folder_client.post("/api/v1/attachments", content=documents.PDF,
                                       headers={"Content-Type": "application/pdf"})
    assert not_multipart.status_code == 415 and "multipart/form-data" in not_multipart.json()["message"]
    no_file = folder_client.post("/api/v1/attachments", data={"other": "x"}, files={"notfile": ("a.pdf", b"%PDF-1.4")})
    assert no_file.status_code == 422 and no_file.json()["error"] == "file_missing"
    two = folder_client.post("/api/v1/attachments", files=[("file", ("a.pdf", documents.PDF)),
                                                           ("file", ("b.pdf", documents.PDF))])
    assert two.status_code == 400 and two.json()["error"] == "invalid_multipart"
    broken = folder_client.post("/api/v1/attachments", content=b"--x\r\nnonsense",
                                headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert broken.status_code in (400, 422) and broken.json()["message"]


def test_a_registration_lists_files_only_as_they_were_uploaded(folder_client, intake, tmp_path):
    sent = uploaded(folder_client, "材料.pdf", documents.PDF + os.urandom(64))

    def refused(entry: dict[str, Any]) -> dict[str, Any]:
        answer = folder_client.post("/api/v1/petitions", json=samples.petition(attachments=[entry]))
        assert answer.status_code == 422, answer.text
        [problem] = answer.json()["errors"]
        return problem

    forged = refused({**sent, "upload_token": "A" * 43})
    assert forged["field"] == "attachments.0.upload_token" and forged["label"] == "第1个附件上传凭证"
    assert forged["message"].startswith("第1个附件的上传凭证与文件不符")
    assert refused({**sent, "size": sent["size"] + 1})["code"] == "invalid_upload_token"
    assert refused({**sent, "content_type": "image/png"})["code"] == "invalid_upload_token"
    # Someone who read a record's hashes cannot list another's file as their own without its token.
    claimed = refused({k: v for k, v in sent.items() if k != "upload_token"})
    assert claimed["code"] == "invalid_upload_token" and "缺少上传凭证" in claimed["message"]
    renamed = refused({**sent, "file_name": "材料.exe"})
    assert renamed["field"] == "attachments.0.file_name" and "应以.pdf结尾" in renamed["message"]
    FolderStore(tmp_path / "gateway-data" / "attachments").delete(sent["sha256"])  # removed as unreferenced
    gone = refused(sent)
    assert gone["code"] == "invalid_attachment_missing" and "请重新上传" in gone["message"]

    # issue 2's entries (no token, no type) are registered as before.
    register(folder_client, [{"file_name": "现场照片.jpg", "size": 1234, "sha256": "ab" * 32}])


def test_a_store_that_cannot_be_reached_is_a_503_and_never_a_500(tmp_path, gateway_client):
    (tmp_path / "gateway-data").mkdir()
    (tmp_path / "gateway-data" / "attachments").write_text("a file where the folder should be")
    blocked = gateway_client()
    answer = upload(blocked, "材料.pdf", documents.PDF)
    assert answer.status_code == 503 and answer.json() == {
        "error": "attachment_store_unavailable", "message": "附件存储暂时无法使用，请稍后重试"}

    nowhere = gateway_client(ATTACHMENT_STORE="s3", ATTACHMENT_S3_BUCKET="b",
                             ATTACHMENT_S3_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
                             ATTACHMENT_S3_ACCESS_KEY_ID="k", ATTACHMENT_S3_SECRET_ACCESS_KEY="s",
                             ATTACHMENT_S3_TIMEOUT="2")
    assert upload(nowhere, "材料.pdf", documents.PDF).status_code == 503
    token = nowhere.app.state.gateway.upload_tokens.issue(hashlib.sha256(documents.PDF).hexdigest(),
                                                          len(documents.PDF), "application/pdf")
    entry = {"file_name": "材料.pdf", "size": len(documents.PDF), "sha256": hashlib.sha256(documents.PDF).hexdigest(),
             "content_type": "application/pdf", "upload_token": token}
    registration = nowhere.post("/api/v1/petitions", json=samples.petition(attachments=[entry]))
    assert registration.status_code == 503 and registration.json()["error"] == "attachment_store_unavailable"


# --- the real server ------------------------------------------------------------------------------------------------

def test_the_gateway_process_takes_an_upload_up_to_its_limit_and_answers_a_larger_one(tmp_path, mongodb_uri):
    """As started by the Procfile (uvicorn, the real socket): a file within GATEWAY_ATTACHMENT_MAX_BYTES is stored
    under DATA_DIR; a larger one, sent whole or chunked, reads the Chinese 413 instead of a reset."""
    import httpx

    from tests.support.gateway_process import GatewayProcess

    data = tmp_path / "data"
    process = GatewayProcess(tmp_path / "gateway", mongodb_uri, DATA_DIR=str(data),
                             GATEWAY_ATTACHMENT_MAX_BYTES=str(MAX_FILE), GATEWAY_MAX_BODY_BYTES="65536")
    try:
        with httpx.Client(base_url=process.url, timeout=30) as http:
            pdf = documents.PDF + os.urandom(MAX_FILE - len(documents.PDF))  # exactly at the limit
            stored = http.post("/api/v1/attachments", files={"file": ("材料.pdf", pdf, "application/pdf")})
            assert stored.status_code == 201, stored.text
            digest = stored.json()["sha256"]
            assert (data / "attachments" / digest[:2] / digest[2:4] / digest).read_bytes() == pdf

            over = documents.PDF + os.urandom(3 * MAX_FILE)
            refused = http.post("/api/v1/attachments", files={"file": ("材料.pdf", over)})
            assert refused.status_code == 413 and refused.json()["error"] == "file_too_large"
            assert refused.json()["message"] == "文件过大：单个附件不能超过195KB"

            boundary = "x" * 20
            body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n"
                    .encode() + over + f"\r\n--{boundary}--\r\n".encode())
            chunked = http.post("/api/v1/attachments", content=(body[i:i + 65536] for i in range(0, len(body), 65536)),
                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
            assert chunked.status_code == 413 and chunked.json()["error"] == "file_too_large"
            assert http.get("/api/v1/status/ZZZZ-ZZZZ-ZZZZ-ZZZZ").status_code in (404, 503)  # still usable
    finally:
        process.stop()
