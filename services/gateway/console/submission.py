"""Submitting the petition form, online (/petition/new) and at the counter (/console/register): one path for both.

The files chosen come first, each uploaded through the attachments API (POST /api/v1/attachments) as the browser
sent it; then the petition (POST /api/v1/petitions) with the entries the uploads answered and those kept from an
earlier post of the form. A refused upload (its type, its size: the API's 4xx and Chinese message) registers
nothing: the form comes back with what was typed, the message beside the file input and the files that were
accepted kept (ticked boxes carrying the uploads' answers), so nothing is uploaded twice. So does any refusal of
the petition itself (a 422 by field, a 403, a 429 or a 503 in the summary), with the same Idempotency-Key: sending
it again registers it once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from services.gateway.console import api, petitionform
from services.gateway.console.petitionform import ATTACHMENTS, FILES, PetitionForm
from shared.language.contracts.filetypes import ALLOWED_TEXT, KINDS
from shared.language.contracts.registration import MAX_ATTACHMENTS

ACCEPT = ",".join(ext for kind in KINDS for ext in kind.extensions)  # the file input's hint to the browser's picker


@dataclass
class Outcome:
    """A post of the form: the receipt once registered; otherwise what to show again."""

    key: str  # the Idempotency-Key of this form, kept until it registers
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)  # uploaded, to send with the petition
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    receipt: dict[str, Any] | None = None


def blank() -> Outcome:
    """A new form: a new key per form shown, so submitting twice (a double click, a reload) registers once."""
    return Outcome(key=str(uuid.uuid4()))


def context(request: Request, layout: PetitionForm, outcome: Outcome) -> dict[str, Any]:
    """What the form's template takes (macros.html: petition_parts, attachments_fieldset)."""
    max_bytes = request.app.state.gateway.settings.attachment_max_bytes
    return {"form": layout.shown(outcome.values), "values": outcome.values, "errors": outcome.errors, "kept": outcome.attachments,
            "opened": layout.opened(outcome.values, outcome.errors), "idempotency_key": outcome.key,
            "files": {"accept": ACCEPT, "kinds": ALLOWED_TEXT, "max_bytes": max_bytes, "most": MAX_ATTACHMENTS}}


def _chosen(form: Any) -> list[UploadFile]:
    """The files chosen (an empty file input still sends one part, without a name)."""
    return [f for f in form.getlist(FILES) if isinstance(f, UploadFile) and f.filename]


async def _upload(request: Request, upload: UploadFile, token: str | None) -> api.Answer:
    await upload.seek(0)
    part = (upload.filename or "", upload.file, upload.content_type or "application/octet-stream")
    return await api.call(request, "POST", "/api/v1/attachments", token=token, files=[("file", part)])


async def submit(request: Request, form: Any, layout: PetitionForm, channel: str, token: str | None) -> Outcome:
    """Upload the files, then register the petition, for the browser (and officer, `token`) that posted `form`."""
    outcome = Outcome(key=str(form.get("idempotency_key", "")) or str(uuid.uuid4()), values=layout.values(form),
                      attachments=petitionform.kept_attachments(form))
    chosen = _chosen(form)
    if len(outcome.attachments) + len(chosen) > MAX_ATTACHMENTS:
        outcome.errors[ATTACHMENTS] = (f"附件最多{MAX_ATTACHMENTS}个：已上传{len(outcome.attachments)}个，"
                                       f"本次选择了{len(chosen)}个，请减少后重新选择")
        outcome.status = 422
        return outcome
    refused = []
    for upload in chosen:
        answer = await _upload(request, upload, token)
        if answer.ok:
            outcome.attachments.append(answer.body)
            continue
        refused.append(f"“{upload.filename}”未能上传：{answer.words()}")
        outcome.status = outcome.status if outcome.status >= 400 else answer.status
        outcome.headers.update(answer.problem().headers or {})
    if refused:
        outcome.errors[ATTACHMENTS] = "；".join(refused)
        return outcome
    answer = await api.call(request, "POST", "/api/v1/petitions", token=token, headers={"Idempotency-Key": outcome.key},
                            json_body=layout.body(form, channel, outcome.attachments))
    if not answer.ok:
        outcome.errors = layout.errors(answer.body if isinstance(answer.body, dict) else {
            "message": answer.problem().message}, outcome.values)
        outcome.status = answer.status
        outcome.headers.update(answer.problem().headers or {})
        return outcome
    outcome.receipt = answer.body
    outcome.status = answer.status
    return outcome
