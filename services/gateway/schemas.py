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
    status: str = "open"  # open | met | late | stopped (open past its day: overdue)
    late_days: int | None = None  # late: done this many calendar days after its day
    breached_on: str | None = None  # still open: recorded overdue from this day (the deadline watch)


class TimelineStep(BaseModel):
    at: datetime
    step: str
    text: str


class NoticePublic(BaseModel):
    kind: str
    title: str
    body: str
    delivered_at: datetime
    notice_id: str | None = None
    pdf: str | None = None  # the petitioner's printable copy (A4 PDF), by the query code


class OpinionPublic(BaseModel):
    """An opinion addressed to the petitioner, with its text: the 处理意见, the 复查意见 or the 复核意见."""

    level: str  # reply | review | re_review
    label: str  # 处理意见 | 复查意见 | 复核意见
    organ: OrganPublic | None = None  # the organ that issued it
    outcome: str  # support | explain | not_support; uphold | change | rehandle
    outcome_text: str  # 支持 ...
    opinion: str  # the text
    on: str | None = None  # YYYY-MM-DD, the day it was issued (the 30 days to ask for review run from it)
    at: datetime


class StatusView(BaseModel):
    """What a petitioner sees with their query code (阳光信访)."""

    query_code: str
    # The case's version this view shows: a step's answer gives the version it made, and the view follows within
    # moments (a client that must show the step waits for it).
    version: int | None = None
    status: str
    status_text: str
    title: str | None = None
    registered_at: datetime | None = None
    # When the letter arrived or the visit or call took place (a date, or a date and time), if the counter said
    received_at: str | None = None
    organ: OrganPublic | None = None
    next_deadline: DeadlinePublic | None = None
    deadlines: list[DeadlinePublic] = []
    timeline: list[TimelineStep] = []
    opinions: list[OpinionPublic] = []  # in the order they were issued
    notices: list[NoticePublic] = []


class OfficerNotice(NoticePublic):
    body: str | None = None  # None: withheld (the petitioner's copy names them and holds the query code)


class CaseFileStep(BaseModel):
    """One step of the case file (案卷): who took it (role, account, organ), when, under which basis, and what it
    said — the opinion, reasons, explanation, approver, hearing dates, handling summary ... as recorded. What the
    petitioner wrote (a review request's reasons, a rating's comment) and links to their other petitions are
    withheld from officers who may not see the petitioner (`withheld` names them as `case_file.<field>`)."""

    at: datetime
    step: str  # the action, e.g. "extend"
    text: str  # its Chinese name, e.g. 延长办理期限
    status: str  # the case's status after it
    actor: dict[str, Any]
    basis: str | None = None
    said: dict[str, Any] = {}


class ProvincialMatter(BaseModel):
    reference: str
    mode: str
    sent_on: str | None = None
    report_by: str | None = None


class OfficerPetitionView(StatusView):
    """A petition's record as this officer may see it (docs/security.md, "What each role sees"): the query code
    only for the bureau's clerks and admin; the petitioner's identity only for the bureau and the organ
    responsible for the case now (for a report: the bureau and the handling organ)."""

    query_code: str | None = None  # None: withheld, it is the petitioner's credential
    notices: list[OfficerNotice] = []
    identity_withheld: bool = False  # petitioner, representatives and joint signers left out for this officer
    withheld: list[str] = []  # the fields left out for this officer, e.g. ["query_code", "petitioner"]
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
    window: str | None = None  # 接待窗口 (registered at the counter)
    note: str | None = None  # the clerk's note: with the petitioner's identity only (it may describe them)
    # A matter a province sent (上级转送 / 交办): its reference number, `mode` (transfer | assign), `sent_on`, and
    # for an assignment `report_by`, the day the county reports on it by (docs/integration-events.md)
    provincial: ProvincialMatter | None = None
    routing_basis: str | None = None
    rules_version: str | None = None
    case_file: list[CaseFileStep] = []  # every lifecycle step as recorded, in order


class PersonalDataView(BaseModel):
    """One officer view of a petition that showed personal data (services/gateway/access_records.py)."""

    id: str
    at: datetime
    username: str
    role: str
    organ: str | None = None
    petition_id: str
    fields: list[str]  # the personal fields shown, e.g. "petitioner.id_number", "query_code"
    client: str  # the client address
    correlation_id: str


class PersonalDataViews(BaseModel):
    views: list[PersonalDataView]  # newest first
    next_offset: int | None = None  # the `offset` of the next page; None: this is the last one


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - OAuth2's token type, not a secret
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
    retry_after: int | None = None  # 429 account_locked: seconds until the user name may sign in again


class SignInLockout(BaseModel):
    """A user name locked after too many consecutive wrong passwords (a security record for auditors)."""

    at: datetime
    username: str | None  # None: no such account (the name tried is not recorded)
    known_account: bool
    client: str  # the client address the last wrong password came from
    until: datetime
    duration_seconds: int
    lockout_number: int  # 1 for the first lock-out of a streak; each further one doubles the duration


class SignInLockouts(BaseModel):
    lockouts: list[SignInLockout]
