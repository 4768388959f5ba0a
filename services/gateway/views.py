"""Composing what people see from the read models (and intake, until supervision's view has caught up)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.gateway.access_records import IDENTITY_LINKS, PETITIONERS_WORDS
from services.gateway.clients import IntakeHttp, RpcPool
from services.gateway.errors import ApiError
from services.gateway.schemas import (
    CaseFileStep,
    DeadlinePublic,
    NoticePublic,
    OfficerNotice,
    OfficerPetitionView,
    OpinionPublic,
    OrganPublic,
    StatusView,
    TimelineStep,
)
from services.gateway.security import Principal, Role
from shared.language.readmodels import CaseView, InboxMessage, case_view_by_query_code

JUST_REGISTERED = "已登记，正在分流"


def _notices(query_code: str) -> list[NoticePublic]:
    messages = InboxMessage.objects(query_code=query_code).order_by("delivered_at")
    return [NoticePublic(kind=m.kind, title=m.title, body=m.body, delivered_at=m.delivered_at, notice_id=m.notice_id,
                         pdf=f"/api/v1/status/{query_code}/notices/{m.notice_id}/pdf") for m in messages]


def _deadline(d: Any) -> DeadlinePublic:
    return DeadlinePublic(kind=d.kind, label=d.label, due=d.due, basis=d.basis, provisional=d.provisional,
                          status=d.status or "open", late_days=d.late_days, breached_on=d.breached_on)


def _organ(organ: Any) -> OrganPublic | None:
    return OrganPublic(code=organ.code, name=organ.name) if organ else None


def _case_fields(case: CaseView) -> dict[str, Any]:
    return {
        "version": case.version,
        "query_code": case.query_code,
        "status": case.status,
        "status_text": case.status_text,
        "title": case.title,
        "registered_at": case.registered_at,
        "received_at": case.received_at,
        "organ": _organ(case.organ),
        "next_deadline": _deadline(case.next_deadline) if case.next_deadline else None,
        "deadlines": [_deadline(d) for d in case.deadlines],
        "timeline": [TimelineStep(at=t.at, step=t.step, text=t.text) for t in case.timeline],
        # Addressed to the petitioner: their text is theirs to read (the query code is their credential).
        "opinions": [OpinionPublic(level=o.level, label=o.label, organ=_organ(o.organ), outcome=o.outcome,
                                   outcome_text=o.outcome_text, opinion=o.opinion, on=o.on, at=o.at)
                     for o in case.opinions],
        "notices": _notices(case.query_code),
    }


def _case_file(case: CaseView) -> list[CaseFileStep]:
    return [CaseFileStep(at=e.at, step=e.step, text=e.text, status=e.status, actor=dict(e.actor), basis=e.basis,
                         said=dict(e.said)) for e in case.case_file]


def status_by_query_code(code: str, intake: IntakeHttp) -> StatusView | None:
    case = case_view_by_query_code(code)
    if case is not None:
        return StatusView(**_case_fields(case))
    # Registered moments ago: supervision has not opened the case yet, but intake has the petition.
    found = intake.find_by_query_code(code)
    if found is None:
        return None
    registered_at = datetime.fromisoformat(found["registered_at"])
    return StatusView(
        query_code=found["query_code"], status="registered", status_text=JUST_REGISTERED, title=found["title"],
        registered_at=registered_at,
        timeline=[TimelineStep(at=registered_at, step="registered", text="信访事项已登记")],
        notices=_notices(code),
    )


# --- the officer view: who sees what (docs/security.md, "What each role sees") ---------------------------------

# The query code is the petitioner's credential: only the bureau's clerks, who hand it out (and re-issue it at the
# counter), and admin see it; notice bodies are the petitioner's copy (their name and the code) and go with it.
SEES_QUERY_CODE = frozenset({Role.CLERK, Role.ADMIN})
# The bureau (信访部门) sees who petitioned and, for a report, who reported and who is reported. Auditors audit the
# process: their record of what was registered is the replayed history (routes/audit.py), not this view.
BUREAU = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})
# While the bureau triages (again), no organ holds the case: the organ the view still names has had it taken away.
TRIAGE = frozenset({"registered", "rerouting", "reported_up"})
# The organ one level up that the bureau named, while it reviews (复查) or re-reviews (复核).
REVIEWING = {"under_review": "review_organ", "under_re_review": "re_review_organ"}
REPORT = "report"
IDENTITY = ("petitioner", "representatives", "joint_signers", "similar_petitions", "repeat_of")


@dataclass(frozen=True)
class Visibility:
    query_code: bool
    identity: bool  # petitioner, agent, representatives, joint signers, and the links to their other petitions
    accused: bool  # 被反映人 of a report


def _responsible_organ(case: CaseView, principal: Principal, rpc: RpcPool) -> bool:
    """Whether the officer's organ holds the case now: the organ it is routed to (outside triage) or, except for
    a report (Art. 30: only the organ handling it), the organ reviewing it at the moment."""
    if case.organ and case.organ.code == principal.organ_code and case.status not in TRIAGE:
        return True
    key = REVIEWING.get(case.status)
    if key is None or case.category == REPORT:
        return False
    # Who reviews is in supervision's case, not in the view: asked only on this rare path.
    found = rpc.call("supervision", "get_case", case.petition_id, actor=principal.actor()) or {}
    organ = found.get(key) if found.get("status") == case.status else None
    return bool(organ) and organ.get("code") == principal.organ_code


def visibility(principal: Principal, case: CaseView | None, rpc: RpcPool) -> Visibility:
    if principal.role is Role.ORGAN_OFFICER:
        responsible = case is not None and _responsible_organ(case, principal, rpc)
        return Visibility(query_code=False, identity=responsible, accused=responsible)
    bureau = principal.role in BUREAU
    return Visibility(query_code=principal.role in SEES_QUERY_CODE, identity=bureau, accused=bureau)


def _withhold_from_case_file(steps: list[CaseFileStep]) -> list[str]:
    """What the petitioner wrote after registering (a review request's reasons, a rating's comment) and the links to
    their other petitions go with their identity: removed from the steps; the names of what was removed."""
    withheld: list[str] = []
    for step in steps:
        for key in (*PETITIONERS_WORDS.get(step.step, ()), *IDENTITY_LINKS):
            if step.said.get(key):
                withheld.append(f"case_file.{key}")
            step.said.pop(key, None)
    return list(dict.fromkeys(withheld))


def _withhold(record: dict[str, Any], shown: dict[str, Any], sees: Visibility) -> list[str]:
    """Remove from `record` and `shown` what this officer may not see; the names of what was removed."""
    withheld = []
    if not sees.query_code:
        withheld += ["query_code", *(["notices.body"] if shown.get("notices") else [])]
        shown["query_code"] = None
        shown["notices"] = [notice.model_copy(update={"body": None}) for notice in shown.get("notices", [])]
    if not sees.identity:
        empty = {"petitioner": None, "representatives": [], "joint_signers": [], "similar_petitions": [],
                 "repeat_of": None}
        withheld += [k for k in IDENTITY if record.get(k)]
        record.update(empty)
        if record.get("note"):  # the counter's note may describe the petitioner
            withheld.append("note")
        record["note"] = None
        withheld += _withhold_from_case_file(shown.get("case_file", []))
    if not sees.accused and record.get("accused"):
        record["accused"] = None
        withheld.append("accused")
    return withheld


def officer_view(petition_id: str, principal: Principal, rpc: RpcPool) -> OfficerPetitionView | None:
    case = CaseView.objects(petition_id=petition_id).first()
    if principal.role is Role.ORGAN_OFFICER and (case is None or principal.organ_code not in case.involved_organs):
        raise ApiError(403, "not_your_organ", "该信访事项未转送至您所在的机关，无权查看")
    record = rpc.call("intake", "get_petition", petition_id, actor=principal.actor())
    if record is None:
        return None
    if case is not None:
        shown = {**_case_fields(case), "case_file": _case_file(case)}
        routing = {"routing_basis": case.routing_basis, "rules_version": case.rules_version}
    else:
        registered_at = datetime.fromisoformat(record["registered_at"])
        shown = {"query_code": record["query_code"], "status": "registered", "status_text": JUST_REGISTERED,
                 "title": record["title"], "registered_at": registered_at,
                 "timeline": [TimelineStep(at=registered_at, step="registered", text="信访事项已登记")]}
        routing = {}
    # The petitioner's PDF link holds the query code: officers print from GET /api/v1/notices/{id}/pdf instead.
    shown["notices"] = [OfficerNotice(**{**notice.model_dump(), "pdf": None}) for notice in shown.get("notices", [])]
    sees = visibility(principal, case, rpc)
    record = dict(record)
    withheld = _withhold(record, shown, sees)
    detail = {k: record[k] for k in ("channel", "category", "topic", "request", "facts_and_reasons", "place_code",
                                     "people_count", "anonymous", "petitioner", "accused", "representatives",
                                     "joint_signers", "flags", "repeat_of", "similar_petitions", "attachments",
                                     "registered_by")}
    detail.update(window=record.get("window"), note=record.get("note"))  # registered at a counter
    if record.get("provincial"):  # no personal data: the province's reference number and dates
        detail["provincial"] = {k: record["provincial"].get(k) for k in ("reference", "mode", "sent_on", "report_by")}
    if record.get("received_at"):  # intake's, as the counter gave it (the case view has it once the case opens)
        shown["received_at"] = record["received_at"]
    return OfficerPetitionView(id=record["id"], **shown, **routing, **detail,
                               identity_withheld=not sees.identity, withheld=withheld)
