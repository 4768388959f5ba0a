"""The gateway's response models (the public API contract: extend, never rename)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class PetitionReceipt(BaseModel):
    id: str
    query_code: str
    status: str
    registered_at: datetime | None = None


class OrganPublic(BaseModel):
    code: str
    name: str


class DeadlinePublic(BaseModel):
    kind: str
    label: str
    due: str  # YYYY-MM-DD
    basis: str
    provisional: bool = False  # 暂定: the holiday table does not cover the year yet; recounted when it does
    status: str = "open"  # open | met | stopped


class TimelineStep(BaseModel):
    at: datetime
    step: str
    text: str


class NoticePublic(BaseModel):
    kind: str
    title: str
    body: str
    delivered_at: datetime


class StatusView(BaseModel):
    """What a petitioner sees with their query code (阳光信访)."""

    query_code: str
    status: str
    status_text: str
    title: str | None = None
    registered_at: datetime | None = None
    organ: OrganPublic | None = None
    next_deadline: DeadlinePublic | None = None
    deadlines: list[DeadlinePublic] = []
    timeline: list[TimelineStep] = []
    notices: list[NoticePublic] = []


class OfficerPetitionView(StatusView):
    """The full record for authorised officers, personal data included."""

    id: str
    channel: str
    category: str
    topic: str | None = None
    request: str
    facts_and_reasons: str
    place_code: str
    people_count: int
    anonymous: bool = False
    petitioner: dict[str, Any] | None = None  # None: an anonymous report
    accused: dict[str, Any] | None = None  # 被反映人 (reports only)
    representatives: list[dict[str, Any]] = []
    joint_signers: list[dict[str, Any]] = []
    flags: list[str] = []  # group | joint_signature | major_urgent | anonymous
    repeat_of: str | None = None  # the earlier petition of the same person on the same matter (同人+同事)
    similar_petitions: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    registered_by: dict[str, Any] | None = None
    routing_basis: str | None = None
    rules_version: str | None = None


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str
    organ_code: str | None = None


class Problem(BaseModel):
    """Every error: a machine code in English and a message for people in Chinese."""

    error: str
    message: str
    errors: list[dict[str, str]] | None = None
    status: str | None = None  # 409 on a lifecycle step: the case's current status ...
    allowed_actions: list[str] | None = None  # ... and the actions open in it
