"""Typical-problem circulars (典型问题通报, 通报批评; docs/domain.md §"Supervision"): a supervisor (or admin) circulates
the typical problems found across cases to one or more organs, with the demands (整改要求) and optionally the day to
report the rectification by (《信访工作条例》第三十九条、第四十条). Not a step of one case: a `Circular` aggregate of
supervision's store, issued by hand through supervision's RPC `issue_circular` (the gateway's POST
/api/v1/supervision/circulars), published as `case.circular_issued` (codes, dates, organ codes and case ids: the
title, problems and demands stay here, and notification asks for them by RPC, `circular_particulars`, to send each
organ its notice) and shown from a read model (`circulars`, shared/language/readmodels.py CircularRecord).

**Once per request.** A circular's id is a uuid4; with the request's `Idempotency-Key` it is uuid5 of (the issuer,
the key), so a retried request finds its circular there (the store refuses a second aggregate of the same id) and
answers with it; the same key with a different circular is refused (409 `idempotency_key_reused`).

**Its number** (文号) 督通〔YYYY〕N号 takes N from the id's first six hex digits, not a per-year counter (which would
need a single writer across instances): shared/language/contracts/circulars.py circular_number.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic
from prometheus_client import Counter
from pydantic import ValidationError

from services.supervision.domainmodel import Case
from services.supervision.lifecycle import CaseError, InvalidCommand, NotPermitted
from shared.language.chinatime import local_date
from shared.language.contracts.actor import Actor, Role
from shared.language.contracts.circulars import CIRCULAR_KINDS, IssueCircular, circular_number
from shared.language.contracts.errors import validation_problem
from shared.language.readmodels import CircularRecord, insert_new
from shared.runtime.eventstore import IntegrityError

ISSUED = Counter("xinfang_circulars_issued_total", "Circulars issued", ["kind"])
CIRCULAR_NAMESPACE = uuid5(NAMESPACE_URL, "urn:xinfang:circular")
ISSUERS = (Role.SUPERVISOR, Role.ADMIN)
LABELS = {name: field.title or name for name, field in IssueCircular.model_fields.items()}
_CASE_OPENED = get_topic(Case.Opened)


def circular_id(actor: Actor, idempotency_key: str | None) -> UUID:
    """A new circular's id: uuid4; with an Idempotency-Key, uuid5 of (the issuer, the key) — the same request sent
    again names the same circular."""
    if idempotency_key is None:
        return uuid.uuid4()
    return uuid5(CIRCULAR_NAMESPACE, f"{actor.user or actor.role}|{actor.organ or ''}|{idempotency_key}")


def request_digest(command: IssueCircular) -> str:
    """What the request asked, as a digest: a retry with the same key must ask the same."""
    canonical = json.dumps(command.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Circular(Aggregate):
    """One circular (通报), issued once: the bureau's own text (title, problems, demands), the organs addressed and the
    cases cited (ids only)."""

    @staticmethod
    def create_id(circular_id: str) -> UUID:  # type: ignore[override]
        return UUID(circular_id)

    class Issued(Aggregate.Created):
        circular_id: str
        number: str  # 督通〔YYYY〕xxxxxx号
        kind: str  # CIRCULAR_KINDS
        title: str
        problems: str
        demands: str
        report_due: str | None  # YYYY-MM-DD
        organs: list[dict[str, str]]  # {"code", "name"} as the directory had them
        petitions: list[str]
        issued_by: dict[str, Any]  # the actor
        at: str  # ISO instant
        issued_on: str  # YYYY-MM-DD (China)
        request_digest: str  # of the request (an idempotent retry must ask the same)
        correlation_id: str

    @event(Issued)
    def __init__(self, *, circular_id: str, number: str, kind: str, title: str, problems: str, demands: str,
                 report_due: str | None, organs: list[dict[str, str]], petitions: list[str], issued_by: dict[str, Any],
                 at: str, issued_on: str, request_digest: str, correlation_id: str) -> None:
        self.number = number
        self.kind = kind
        self.title = title
        self.problems = problems
        self.demands = demands
        self.report_due = report_due
        self.organs = organs
        self.petitions = petitions
        self.issued_by = issued_by
        self.at = at
        self.issued_on = issued_on
        self.request_digest = request_digest
        self.correlation_id = correlation_id


# --- issuing ----------------------------------------------------------------------------------------------------
def _field_error(field: str, code: str, message: str) -> dict[str, str]:
    base = field.split(".")[0]
    index = field.split(".")[1] if "." in field else None
    label = f"第{int(index) + 1}个{LABELS[base]}" if index is not None else LABELS[base]
    return {"field": field, "label": label, "code": code, "message": message}


def _refused(errors: list[dict[str, str]]) -> InvalidCommand:
    return InvalidCommand("validation_failed", "提交的信息有误，请按提示修改后重新提交。", errors=errors)


def _is_case(application: Any, petition_id: UUID) -> bool:
    """The id is a case of this store (its first event opened a case: not a warning's or a circular's id)."""
    first = application.recorder.select_events(petition_id, limit=1)
    return bool(first) and first[0].topic == _CASE_OPENED


def checked(application: Any, payload: Mapping[str, Any], actor: Actor) -> IssueCircular:
    """The command, valid, its organs in the directory, its cases in this store, its day after today — or the
    refusal: 403 for anyone but a supervisor or admin, 422 naming each bad field by its Chinese label."""
    if actor.role not in ISSUERS:
        raise NotPermitted("not_permitted", "只有督查督办人员或者管理员可以印发通报")
    try:
        command = IssueCircular.model_validate(payload)
    except ValidationError as error:
        problem = validation_problem(error.errors(), IssueCircular)
        raise InvalidCommand(problem["error"], problem["message"], errors=problem["errors"]) from None
    errors = []
    today = local_date(application.clock())
    if command.report_due is not None and command.report_due <= today:
        errors.append(_field_error("report_due", "report_due_not_after_today",
                                   f"{LABELS['report_due']}应晚于今天（{today.isoformat()}）"))
    for i, code in enumerate(command.organ_codes):
        if application.organs.get(code) is None:
            errors.append(_field_error(f"organ_codes.{i}", "unknown_organ",
                                       f"机关代码“{code}”不在本县机关名录中，可选值见 /api/v1/reference/organs"))
    for i, petition in enumerate(command.petition_ids):
        if not _is_case(application, petition):
            errors.append(_field_error(f"petition_ids.{i}", "unknown_petition", f"未找到信访事项“{petition}”"))
    if errors:
        raise _refused(errors)
    return command


def issue_circular(application: Any, payload: Mapping[str, Any], actor: Actor | Mapping[str, Any], *,
                   correlation_id: str | None = None, idempotency_key: str | None = None) -> tuple[dict[str, Any], bool]:
    """Issue a circular in `application`'s (supervision's) store: (its document, True) — or, when this request's
    Idempotency-Key issued it before, (that circular's document, False). Raises CaseError: 403 not a supervisor or
    admin, 422 invalid (each field named in Chinese), 409 the key issued a different circular."""
    acting = Actor.model_validate(actor)
    command = checked(application, payload, acting)
    digest = request_digest(command)
    new_id = circular_id(acting, idempotency_key)
    for _attempt in range(2):
        existing = _circular(application, new_id)
        if existing is not None:
            if existing.request_digest != digest:
                raise CaseError("idempotency_key_reused",
                                "该 Idempotency-Key 已用于印发内容不同的另一份通报；新的通报请使用新的 Idempotency-Key")
            return document(existing), False
        now = application.clock()
        issued_on = local_date(now)
        circular = Circular(
            circular_id=str(new_id), number=circular_number(issued_on, new_id), kind=command.kind,
            title=command.title, problems=command.problems, demands=command.demands,
            report_due=command.report_due.isoformat() if command.report_due else None,
            organs=[application.organs.get(code).as_dict() for code in command.organ_codes],
            petitions=[str(p) for p in command.petition_ids], issued_by=acting.model_dump(), at=instant(now),
            issued_on=issued_on.isoformat(), request_digest=digest, correlation_id=correlation_id or str(uuid.uuid4()))
        try:
            application.save(circular)
        except IntegrityError:  # the same request, retried, issued it meanwhile: answered from the store
            continue
        ISSUED.labels(command.kind).inc()
        return document(circular), True
    raise CaseError("conflict", "通报正在印发，请稍后重试")


def instant(moment: datetime) -> str:
    """An instant as a circular records and shows it: UTC, to the millisecond (as the read model keeps it)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _circular(application: Any, id_: UUID) -> Circular | None:
    try:
        found = application.repository.get(id_)
    except AggregateNotFoundError:
        return None
    return found if isinstance(found, Circular) else None


def get_circular(application: Any, circular_id_: str) -> Circular | None:
    try:
        return _circular(application, UUID(str(circular_id_)))
    except ValueError:
        return None


def document(circular: Circular) -> dict[str, Any]:
    """The circular as the API shows it (the RPC's answer; the read model's `present` gives the same shape)."""
    return {"id": str(circular.id), "number": circular.number, "kind": circular.kind,
            "kind_text": CIRCULAR_KINDS[circular.kind], "title": circular.title, "problems": circular.problems,
            "demands": circular.demands, "report_due": circular.report_due, "organs": list(circular.organs),
            "petitions": list(circular.petitions), "issued_by": dict(circular.issued_by), "issued_at": circular.at,
            "issued_on": circular.issued_on}


def particulars(application: Any, circular_id_: str) -> dict[str, Any] | None:
    """What notification needs to compose each organ's notice that the exchange does not carry (the title, the
    problems and demands: the bureau's own text), or None: not a circular of this store."""
    circular = get_circular(application, circular_id_)
    if circular is None:
        return None
    return {"title": circular.title, "problems": circular.problems, "demands": circular.demands,
            "number": circular.number, "kind": circular.kind, "report_due": circular.report_due,
            "issued_on": circular.issued_on, "organs": list(circular.organs), "petitions": list(circular.petitions)}


# --- the read model ---------------------------------------------------------------------------------------------
def record_of(issued: Any) -> dict[str, Any]:
    """The `circulars` document of an Issued event."""
    return {"_id": str(issued.originator_id), "number": issued.number, "kind": issued.kind, "title": issued.title,
            "problems": issued.problems, "demands": issued.demands, "report_due": issued.report_due,
            "organs": [dict(o) for o in issued.organs], "organ_codes": [o["code"] for o in issued.organs],
            "petitions": list(issued.petitions), "issued_by": dict(issued.issued_by),
            "issued_at": datetime.fromisoformat(issued.at), "issued_on": issued.issued_on}


class CircularProjection:
    """supervision's store → `circulars`: one document per circular, written once (a replay finds it there)."""

    name = "circulars"
    gather_seconds = 2.0  # read by supervisors on their pages: seconds behind under load cost nothing

    def __init__(self, application: Any = None) -> None:
        self._application = application

    def drop(self) -> None:
        CircularRecord.drop_collection()
        CircularRecord.ensure_indexes()

    def prepare(self) -> None:
        CircularRecord.ensure_indexes()

    def apply_batch(self, items: Sequence[tuple[int, Any]]) -> None:
        insert_new(CircularRecord._get_collection(),
                   [record_of(e) for _position, e in items if isinstance(e, Circular.Issued)])
