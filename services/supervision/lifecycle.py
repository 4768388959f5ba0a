"""The statutory case lifecycle as data: states, actions, who may take them and from which states.

States and transitions follow docs/domain.md §"Lifecycle" (S1-S13) and the 2022 信访工作条例. The Case aggregate
(domainmodel.py) enforces this table; the gateway shows it to officers (allowed actions per case), and an illegal
step is refused with the current state and what is allowed, in Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    REGISTERED = "registered"  # S1: registered, awaiting the bureau's triage
    AWAITING_ACCEPTANCE = "awaiting_acceptance"  # S3: transferred (转送) or assigned (交办)
    OBJECTION_RAISED = "objection_raised"  # S3: the receiving organ objects to the routing (异议)
    REROUTING = "rerouting"  # objection upheld: awaiting a new routing
    REPORTED_UP = "reported_up"  # major/urgent: reported to the county Party committee and government
    REDIRECTED = "redirected"  # out of remit: the petitioner was told where to go (告知)
    NOT_ACCEPTED = "not_accepted"  # S3-x 不予受理
    NOT_ACCEPTED_AGAIN = "not_accepted_again"  # S3-x 不再受理
    DIVERTED = "diverted"  # S4: into a statutory procedure (导入法定程序, Art. 31(1)-(5))
    HANDLING = "handling"  # S5
    SIMPLIFIED_HANDLING = "simplified_handling"  # S4s
    EXTENDED = "extended"  # S6
    REPLIED = "replied"  # S7
    REVIEW_REQUESTED = "review_requested"  # S9
    UNDER_REVIEW = "under_review"  # S10
    REVIEWED = "reviewed"
    RE_REVIEW_REQUESTED = "re_review_requested"
    UNDER_RE_REVIEW = "under_re_review"  # S11
    FINAL = "final"  # S12 终结
    WITHDRAWN = "withdrawn"  # S13


STATUS_TEXT = {
    Status.REGISTERED: "已登记，待信访部门转送、交办",
    Status.AWAITING_ACCEPTANCE: "已转送有权处理机关，待受理",
    Status.OBJECTION_RAISED: "有权处理机关提出异议，待信访部门审核",
    Status.REROUTING: "异议成立，待重新转送",
    Status.REPORTED_UP: "重大紧急事项，已报请本级党委和政府研究",
    Status.REDIRECTED: "不属于本系统受理范围，已告知向有权机关提出",
    Status.NOT_ACCEPTED: "不予受理",
    Status.NOT_ACCEPTED_AGAIN: "不再受理",
    Status.DIVERTED: "已导入法定程序办理",
    Status.HANDLING: "已受理，办理中",
    Status.SIMPLIFIED_HANDLING: "已受理，简易办理中",
    Status.EXTENDED: "已延期，办理中",
    Status.REPLIED: "已出具处理意见",
    Status.REVIEW_REQUESTED: "已申请复查，待受理",
    Status.UNDER_REVIEW: "复查中",
    Status.REVIEWED: "已出具复查意见",
    Status.RE_REVIEW_REQUESTED: "已申请复核，待受理",
    Status.UNDER_RE_REVIEW: "复核中",
    Status.FINAL: "已终结",
    Status.WITHDRAWN: "已撤回",
}

TERMINAL = frozenset({Status.REDIRECTED, Status.NOT_ACCEPTED, Status.NOT_ACCEPTED_AGAIN, Status.DIVERTED,
                      Status.FINAL, Status.WITHDRAWN})
TRIAGE = frozenset({Status.REGISTERED, Status.REROUTING, Status.REPORTED_UP})
UNDER_HANDLING = frozenset({Status.HANDLING, Status.SIMPLIFIED_HANDLING, Status.EXTENDED})
# An opinion is out and the petitioner's remedy is a review (re-review) request, not a new petition
# (docs/domain.md §"Repeats and finality").
AWAITING_REVIEW_REQUEST = frozenset({Status.REPLIED, Status.REVIEWED})


class Party(StrEnum):
    """Who may take an action (checked against the actor's role and organ)."""

    BUREAU = "bureau"  # the county petition bureau: clerk or admin
    ORGAN = "organ"  # an officer of the organ the case is routed to (or admin)
    REVIEWER = "reviewer"  # an officer of the reviewing / re-reviewing organ (or admin)
    PETITIONER = "petitioner"  # by query code and the ID number's last six characters (docs/security.md)
    SYSTEM = "system"  # routing rules, deadline sweep


@dataclass(frozen=True)
class Action:
    name: str
    text: str  # Chinese, as in "不能{text}"
    parties: frozenset[Party]
    allowed_from: frozenset[Status]


def _action(name: str, text: str, parties: set[Party], allowed_from: set[Status] | frozenset[Status]) -> Action:
    return Action(name, text, frozenset(parties), frozenset(allowed_from))


NOT_TERMINAL = frozenset(Status) - TERMINAL

ACTIONS: dict[str, Action] = {a.name: a for a in (
    _action("route", "按规则转送", {Party.SYSTEM}, TRIAGE),
    _action("transfer", "转送", {Party.BUREAU}, TRIAGE | {Status.AWAITING_ACCEPTANCE}),
    _action("assign", "交办", {Party.BUREAU}, TRIAGE | {Status.AWAITING_ACCEPTANCE}),
    _action("report_up", "报请党委政府研究", {Party.BUREAU}, TRIAGE - {Status.REPORTED_UP}
            | {Status.AWAITING_ACCEPTANCE}),
    # ORGAN: only for an item it received directly (S2'; Case.route checks).
    _action("redirect", "告知向有权机关提出", {Party.BUREAU, Party.ORGAN}, TRIAGE | {Status.AWAITING_ACCEPTANCE}),
    _action("object", "提出异议", {Party.ORGAN}, {Status.AWAITING_ACCEPTANCE}),
    _action("decide_objection", "审核异议", {Party.BUREAU}, {Status.OBJECTION_RAISED}),
    _action("accept", "受理", {Party.ORGAN}, {Status.AWAITING_ACCEPTANCE}),
    # SYSTEM: the repeat check at registration (docs/domain.md §"Repeats and finality").
    _action("decline", "不予受理", {Party.ORGAN, Party.BUREAU, Party.SYSTEM}, TRIAGE | {Status.AWAITING_ACCEPTANCE}),
    _action("decline_again", "不再受理", {Party.ORGAN, Party.BUREAU, Party.SYSTEM},
            TRIAGE | {Status.AWAITING_ACCEPTANCE}),
    _action("reopen_as_new_matter", "认定为新的信访事项", {Party.BUREAU},
            {Status.NOT_ACCEPTED, Status.NOT_ACCEPTED_AGAIN}),
    _action("divert", "导入法定程序", {Party.ORGAN}, {Status.AWAITING_ACCEPTANCE} | UNDER_HANDLING),
    _action("record_handling", "记录听证或调解", {Party.ORGAN}, UNDER_HANDLING),
    _action("convert_to_ordinary", "转为普通程序", {Party.ORGAN}, {Status.SIMPLIFIED_HANDLING}),
    _action("extend", "延长办理期限", {Party.ORGAN}, {Status.HANDLING}),
    _action("reply", "出具处理意见", {Party.ORGAN}, UNDER_HANDLING),
    # BUREAU: a rating a clerk took from the petitioner on a return visit (回访), recorded as such (Case.evaluate).
    _action("evaluate", "评价", {Party.PETITIONER, Party.BUREAU}, {Status.REPLIED, Status.REVIEWED, Status.FINAL,
                                                    Status.REVIEW_REQUESTED, Status.UNDER_REVIEW,
                                                    Status.RE_REVIEW_REQUESTED, Status.UNDER_RE_REVIEW}),
    _action("request_review", "申请复查", {Party.PETITIONER}, {Status.REPLIED}),
    _action("open_review", "受理复查", {Party.BUREAU}, {Status.REPLIED, Status.REVIEW_REQUESTED}),
    _action("decide_review", "出具复查意见", {Party.REVIEWER}, {Status.UNDER_REVIEW}),
    _action("request_re_review", "申请复核", {Party.PETITIONER}, {Status.REVIEWED}),
    _action("open_re_review", "受理复核", {Party.BUREAU}, {Status.REVIEWED, Status.RE_REVIEW_REQUESTED}),
    _action("start_hearing", "开始听证", {Party.REVIEWER}, {Status.UNDER_RE_REVIEW}),
    _action("end_hearing", "结束听证", {Party.REVIEWER}, {Status.UNDER_RE_REVIEW}),
    _action("decide_re_review", "出具复核意见", {Party.REVIEWER}, {Status.UNDER_RE_REVIEW}),
    _action("finalize", "终结", {Party.SYSTEM}, {Status.REPLIED, Status.REVIEWED}),
    _action("withdraw", "撤回", {Party.BUREAU}, NOT_TERMINAL),
)}


def allowed_actions(status: Status) -> list[str]:
    """The actions open in `status`, for people (automatic ones left out)."""
    return [name for name, action in ACTIONS.items()
            if status in action.allowed_from and action.parties != {Party.SYSTEM}]


class CaseError(Exception):
    """A command the case refuses; `code` for machines, `message` in Chinese for people."""

    http_status = 409

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def as_problem(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message, **self.details}


class IllegalTransition(CaseError):
    def __init__(self, action: str, status: Status) -> None:
        allowed = allowed_actions(status)
        texts = "、".join(ACTIONS[a].text for a in allowed) or "无（办理已结束）"
        super().__init__(
            "illegal_transition",
            f"当前状态为“{STATUS_TEXT[status]}”，不能{ACTIONS[action].text}。当前可以：{texts}",
            status=status.value, action=action, allowed_actions=allowed)


class NotPermitted(CaseError):
    http_status = 403


class RuleViolation(CaseError):
    """The step is legal in this state but breaks a statutory rule (a window passed, a limit exceeded): 409."""


class InvalidCommand(CaseError):
    http_status = 422
