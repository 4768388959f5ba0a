"""The statutory case lifecycle in the platform's language (docs/domain.md §"Lifecycle"): its states, who acts,
the commands officers and petitioners send, and one declaration per step.

Each step is declared once, in STEPS: the command model it takes, who may take it from which states, the
officer's endpoint (path and OpenAPI summary), the petitioner's timeline text, the case.<type>s its events
publish and the notice it sends the petitioner (or why none: shared/language/contracts/notices.py). The gateway
builds its endpoints from it, the catalogue its event types, supervision its permission table, its command
dispatch and its timeline (tests/unit/supervision/test_step_declarations.py fails when a step lacks a part;
tests/unit/shared/test_step_notices.py when its notice is not the statute's). What a step does to the case is
supervision's Case, one module per phase (services/supervision/case/).

One model per command serves the gateway (request bodies, OpenAPI) and supervision (it validates RPC payloads
again), so a command is checked by the same rules whichever way it arrives. State, permission and statutory rules
(windows, limits) are the Case aggregate's to check, not these models'.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from shared.language.chinatime import chinese_day
from shared.language.contracts.actor import Role
from shared.language.contracts.deadlines import DEADLINE_LABELS
from shared.language.contracts.notices import NOTICE_CHANNELS, NoticeKind, StepNotice, depending, sends, silent
from shared.language.contracts.text import FreeText, Line


# --- states and who acts (S-numbers: docs/domain.md §"Lifecycle") ---------------------------------------------------
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
NOT_TERMINAL = frozenset(Status) - TERMINAL
TRIAGE = frozenset({Status.REGISTERED, Status.REROUTING, Status.REPORTED_UP})
UNDER_HANDLING = frozenset({Status.HANDLING, Status.SIMPLIFIED_HANDLING, Status.EXTENDED})
# An opinion is out and the petitioner's remedy is a review (re-review) request, not a new petition
# (docs/domain.md §"Repeats and finality").
AWAITING_REVIEW_REQUEST = frozenset({Status.REPLIED, Status.REVIEWED})


class Party(StrEnum):
    """Who may take a step (the Case checks it against the actor's role and organ)."""

    BUREAU = "bureau"  # the county petition bureau: clerk or admin
    ORGAN = "organ"  # an officer of the organ the case is routed to (or admin)
    REVIEWER = "reviewer"  # an officer of the reviewing / re-reviewing organ (or admin)
    PETITIONER = "petitioner"  # by query code and the ID number's last six characters (docs/security.md)
    SYSTEM = "system"  # routing rules, the repeat check, the deadline sweep
    SUPERVISOR = "supervisor"  # the bureau's supervision (督查督办): a supervisor (or admin)
    SUPERVISED = "supervised"  # an officer of the organ a supervision order is addressed to (or admin)


# Which roles may be each party. An organ officer is the organ or the reviewer only for the case routed to (or under
# review by) their own organ: the Case checks that relation (CASE_BOUND); the other roles are the party anywhere.
PARTY_ROLES: dict[Party, frozenset[Role]] = {
    Party.BUREAU: frozenset({Role.CLERK, Role.ADMIN}),
    Party.ORGAN: frozenset({Role.ORGAN_OFFICER, Role.ADMIN}),
    Party.REVIEWER: frozenset({Role.ORGAN_OFFICER, Role.ADMIN}),
    Party.PETITIONER: frozenset({Role.PETITIONER}),
    Party.SYSTEM: frozenset({Role.SYSTEM}),
    Party.SUPERVISOR: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Party.SUPERVISED: frozenset({Role.ORGAN_OFFICER, Role.ADMIN}),
}
CASE_BOUND = frozenset({Role.ORGAN_OFFICER})


# --- commands ------------------------------------------------------------------------------------------------------
# Opinions, reasons and the like are free text (line breaks kept); codes and names are one line. Control and bidi
# characters and invisible-only values are refused either way (shared/language/contracts/text.py).
Text = Annotated[FreeText, Field(min_length=1, max_length=5_000)]
ShortText = Annotated[FreeText, Field(max_length=2_000)]
OrganCode = Annotated[Line, Field(min_length=1, max_length=64)]

# The Chinese words for the values of the commands' choices (a refusal lists them; the OpenAPI shows them as
# `x-choices`, so a form can too).
PROCEDURES = {"ordinary": "普通程序", "simplified": "简易程序"}
HANDLING_STEPS = {"hearing": "听证", "mediation": "调解", "settlement": "和解", "investigation": "调查核实"}
REPLY_OUTCOMES = {"support": "支持", "explain": "解释说明", "not_support": "不予支持"}
REVIEW_OUTCOMES = {"uphold": "维持", "change": "变更", "rehandle": "撤销并责令重新办理"}
RE_REVIEW_OUTCOMES = {"uphold": "维持", "change": "变更"}
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
# How the bureau reached the petitioner on a return visit (回访), by ReturnVisitChannel.
RETURN_VISIT_CHANNELS = {"phone": "电话回访", "visit": "走访回访", "letter": "信函回访"}
# Supervision (docs/domain.md §"Supervision"): the ladder, lowest first (Arts. 38-40; 约谈, 通报 and 挂牌督办: Art. 39),
# what sets an order off (Art. 40 and practice), its kind and how it is checked.
SUPERVISION_LEVELS = {"urge": "催办", "letter": "督办函", "interview": "约谈", "circular": "通报", "listed": "挂牌督办"}
SUPERVISION_TRIGGERS = {
    "overdue": "超期未受理、未告知或者未办结", "improper": "违反规定受理、交办、转送或者办理", "shirking": "推诿",
    "perfunctory": "敷衍", "delay": "拖延", "falsification": "弄虚作假", "not_carried_out": "拒不执行信访处理意见",
    "dissatisfied_confirmed": "群众不满意经回访核实", "leader_instruction": "领导批示或者上级交办"}
SUPERVISION_SCOPES = {"daily": "日常督办", "special": "专项督办"}
SUPERVISION_METHODS = {"online": "网上督办", "on_site": "实地督查"}
# What a recommendation of accountability cites (Arts. 44-46; docs/domain.md §"Supervision").
ACCOUNTABILITY_FAILINGS = {
    "not_handled": "未按规定登记、受理、转送、交办或者办理信访事项（第四十四条）",
    "no_written_answer": "未按规定书面告知或者出具处理意见（第四十四条）",
    "shirking_delay_falsification": "推诿、敷衍、拖延或者弄虚作假（第四十条、第四十五条）",
    "not_carried_out": "拒不执行信访处理意见（第四十条）",
    "caused_by_misconduct": "滥用职权、不作为等导致信访事项发生（第四十五条）",
    "rude_treatment": "对待信访人态度恶劣、作风粗暴（第四十六条第一项）",
    "group_visit_mishandled": "处置规模性集体访、负面舆情不力，导致事态扩大（第四十六条第三项）",
    "major_item_concealed": "对重大、紧急信访事项和信访信息隐瞒、谎报、缓报（第四十六条第四项）",
    "materials_disclosed": "将信访人的检举、揭发材料或者有关情况透露、转给被检举、揭发的人员或者单位（第四十六条第五项）",
    "retaliation": "打击报复信访人（第四十六条第六项）",
    "other": "其他违规违纪违法行为（第四十六条第七项）",
}
# Why the platform proposes leader ownership (§6.3, §8 of the rules; docs/domain.md §"Supervision").
OWNERSHIP_TRIGGERS = {"group_of_30": "30人以上的集体信访", "repeat_visits": "同一信访人就同一事项三次以上重复信访",
                      "long_open": "信访事项长期未办结", "from_above": "上级转送、交办的信访事项"}


def label(title: str, choices: Mapping[str, str] | None = None) -> Any:
    """A command field's Chinese label (its `title`: what a 422 names it, shared/language/contracts/errors.py), and
    the Chinese words of its values if it is a choice. Every field of every command has one
    (tests/unit/shared/test_lifecycle_commands.py)."""
    return Field(title=title, json_schema_extra={"x-choices": dict(choices)} if choices else None)


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Transfer(_Command):
    """转送 to the competent organ (optionally with organs that join a lead organ)."""

    organ_code: Annotated[OrganCode, label("有权处理机关")]
    joining_organ_codes: Annotated[list[OrganCode], Field(max_length=10), label("配合办理机关")] = []
    basis: Annotated[ShortText, label("转送、交办依据")] = ""


class Assign(Transfer):
    """交办: the result must be reported back by `report_due` (the rule's default when omitted)."""

    report_due: Annotated[date | None, label("办结报告期限")] = None


class ReportUp(_Command):
    reasons: Annotated[Text, label("报请理由")]


class Redirect(_Command):
    # the organ or procedure the petitioner should turn to
    where_to_go: Annotated[Text, label("告知的有权机关或者途径")]


class Objection(_Command):
    reasons: Annotated[Text, label("异议理由")]
    suggested_organ_code: Annotated[OrganCode | None, label("建议的有权处理机关")] = None


class ObjectionDecision(_Command):
    upheld: Annotated[bool, label("异议是否成立")]
    reasons: Annotated[Text, label("审核意见")]
    # where to transfer when upheld; omitted: routed again by the rules
    organ_code: Annotated[OrganCode | None, label("重新转送的机关")] = None


class Accept(_Command):
    procedure: Annotated[Literal["ordinary", "simplified"], label("办理程序", PROCEDURES)] = "ordinary"
    notes: Annotated[ShortText, label("受理备注")] = ""


class Decline(_Command):
    reason_code: Annotated[Line, Field(min_length=1, max_length=64), label("不予受理理由")]
    explanation: Annotated[ShortText, label("不予受理说明")] = ""
    # A petition id (UUID): published in case.declined(_again) as one, so no officer's words can ride in it.
    earlier_petition_id: Annotated[uuid.UUID | None, label("此前信访事项编号")] = None


class DeclineAgain(Decline):
    """不再受理: as 不予受理, in its own words."""

    reason_code: Annotated[Line, Field(min_length=1, max_length=64), label("不再受理理由")]
    explanation: Annotated[ShortText, label("不再受理说明")] = ""


class NewMatter(_Command):
    new_facts: Annotated[Text, label("新的事实和理由")]  # the new facts or reasons the clerk found


class Divert(_Command):
    item: Annotated[int, Field(ge=1, le=5), label("法定程序（第三十一条第几项）")]  # Art. 31 item (1)-(5)
    explanation: Annotated[ShortText, label("导入法定程序的说明")] = ""


class HandlingStep(_Command):
    kind: Annotated[Literal["hearing", "mediation", "settlement", "investigation"], label("办理方式", HANDLING_STEPS)]
    summary: Annotated[Text, label("办理情况")]


class ConvertToOrdinary(_Command):
    reason: Annotated[Text, label("转为普通程序的理由")]


class Extend(_Command):
    days: Annotated[int, Field(ge=1), label("延长天数")]
    reasons: Annotated[Text, label("延期理由")]
    approved_by: Annotated[Line, Field(min_length=1, max_length=50), label("批准人")]


class Reply(_Command):
    outcome: Annotated[Literal["support", "explain", "not_support"], label("处理结果", REPLY_OUTCOMES)]
    opinion: Annotated[Text, label("处理意见")]
    # The laws and policies the opinion rests on (Art. 32: the 处理意见书 states them); the notice leaves the
    # section out when none is given, never makes one up.
    opinion_basis: Annotated[Text | None, label("处理依据")] = None


class OpenReview(_Command):
    organ_code: Annotated[OrganCode, label("复查机关")]  # the organ one level above


class OpenReReview(OpenReview):
    organ_code: Annotated[OrganCode, label("复核机关")]


class ReviewDecision(_Command):
    outcome: Annotated[Literal["uphold", "change", "rehandle"], label("复查结果", REVIEW_OUTCOMES)]
    opinion: Annotated[Text, label("复查意见")]


class ReReviewDecision(_Command):
    outcome: Annotated[Literal["uphold", "change"], label("复核结果", RE_REVIEW_OUTCOMES)]
    opinion: Annotated[Text, label("复核意见")]


class Hearing(_Command):
    pass


class Withdraw(_Command):
    reasons: Annotated[Text, label("撤回理由")]


Rating = Literal["satisfied", "basically_satisfied", "dissatisfied"]
# How the bureau reached the petitioner on a return visit (回访): by telephone, in person, or by letter.
ReturnVisitChannel = Literal["phone", "visit", "letter"]


_ID_NUMBER_TAIL = re.compile(r"[0-9]{5}[0-9X]")


def id_number_tail(value: str) -> str:
    """The last six characters of a resident ID number: five digits, then a digit or X (the check character).
    Full-width characters and a lower-case x, as a phone keyboard may give them, are read as typed on paper."""
    tail = unicodedata.normalize("NFKC", value).strip().upper()
    if not _ID_NUMBER_TAIL.fullmatch(tail):
        raise PydanticCustomError("invalid_id_number_tail", "身份证号码后六位应为6位数字（最后一位可能是X）")
    return tail


IdNumberTail = Annotated[Line, Field(max_length=32), AfterValidator(id_number_tail)]


class _Rating(_Command):
    rating: Annotated[Rating, label("满意度评价", RATINGS)]
    comment: Annotated[ShortText, label("评价意见")] = ""


class Evaluation(_Rating):
    """满意度评价 as supervision takes it. `return_visit_channel` is for a rating a clerk took on a return visit
    (回访) only; the Case checks it against who acts (the petitioner's own rating is online, without one)."""

    return_visit_channel: Annotated[ReturnVisitChannel | None, label("回访方式", RETURN_VISIT_CHANNELS)] = None


class ReturnVisitEvaluation(_Rating):
    """The petitioner's rating as a clerk took it on a return visit (回访): recorded with the clerk as actor. The
    field is not called `channel`: that name (and its label, 信访渠道) is the petition's own channel."""

    return_visit_channel: Annotated[ReturnVisitChannel, label("回访方式", RETURN_VISIT_CHANNELS)]


class ReviewRequest(_Command):
    reasons: Annotated[Text, label("请求复查或者复核的理由")]


class SupervisionOrder(_Command):
    """督办单: one organ, one demand, a day to answer by in writing (the rule's 5 working days when left out)."""

    order_level: Annotated[Literal["urge", "letter", "interview", "circular", "listed"],
                           label("督办方式", SUPERVISION_LEVELS)] = "letter"
    trigger: Annotated[Literal["overdue", "improper", "shirking", "perfunctory", "delay", "falsification",
                               "not_carried_out", "dissatisfied_confirmed", "leader_instruction"],
                       label("督办事由", SUPERVISION_TRIGGERS)]
    demand: Annotated[Text, label("督办要求")]
    respond_by: Annotated[date | None, label("书面答复期限")] = None
    scope: Annotated[Literal["daily", "special"], label("督办类型", SUPERVISION_SCOPES)] = "daily"
    method: Annotated[Literal["online", "on_site"], label("督查方式", SUPERVISION_METHODS)] = "online"
    organ_code: Annotated[OrganCode | None, label("督办对象")] = None  # the case's organ when left out


class OrderAnswer(_Command):
    answer: Annotated[Text, label("办理情况报告")]


class OrderAnswerReview(_Command):
    accepted: Annotated[bool, label("是否认可办理情况报告")]
    reasons: Annotated[Text, label("审核意见")]
    respond_by: Annotated[date | None, label("重新答复期限")] = None


class AccountabilityRecommendation(_Command):
    failing: Annotated[Literal["not_handled", "no_written_answer", "shirking_delay_falsification",
                               "not_carried_out", "caused_by_misconduct", "rude_treatment",
                               "group_visit_mishandled", "major_item_concealed", "materials_disclosed",
                               "retaliation", "other"], label("追责事由", ACCOUNTABILITY_FAILINGS)]
    responsible: Annotated[Line, Field(min_length=1, max_length=200), label("责任单位或者责任人")]
    grounds: Annotated[Text, label("事实和依据")]
    organ_code: Annotated[OrganCode, label("有管理权限的机关")]


class LeaderOwnership(_Command):
    leader: Annotated[Line, Field(min_length=1, max_length=50), label("包案领导")]
    leader_title: Annotated[Line, Field(min_length=1, max_length=100), label("包案领导职务")]
    team: Annotated[list[Annotated[Line, Field(min_length=1, max_length=50)]], Field(max_length=20),
                    label("工作专班成员")] = []
    plan: Annotated[Text, label("化解方案")]
    due: Annotated[date | None, label("化解期限")] = None


class OwnershipProgress(_Command):
    progress: Annotated[Text, label("化解进展")]
    resolved: Annotated[bool, label("是否已化解")] = False


class ProgressReport(_Command):
    """The progress report a province's assignment (上级交办) demands by its day: the officer's own account, sent to
    that province alone (province.progress_reported; never on the county's events exchange)."""

    summary: Annotated[Text, Field(max_length=2_000), label("办理进展情况")]


class _SecondFactor(_Command):
    """What the petitioner adds to the query code at the public endpoints (docs/security.md): the last six
    characters of the ID number on file. The gateway checks it with intake and does not pass it on."""

    id_number_tail: Annotated[IdNumberTail, label("身份证号码后六位")]


class PetitionerEvaluation(_SecondFactor, _Rating):
    """满意度评价 by the petitioner, online, with the query code."""


class PetitionerReviewRequest(_SecondFactor, ReviewRequest):
    """请求复查 or 请求复核 by the petitioner, online, with the query code."""


# --- the petitioner's timeline ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepFacts:
    """What a timeline line may say of one recorded step: what it recorded, under which basis, the due date of the
    first deadline it opened, and the name of the organ handling the case after it."""

    details: Mapping[str, Any]
    basis: str
    due: str | None  # as recorded, "2027-02-03"
    organ_name: str

    @property
    def due_day(self) -> str:
        """The due date as the petitioner reads it: 2027年2月3日 (a timeline line never shows the ISO date)."""
        return chinese_day(self.due) if self.due else ""


Timeline = Callable[[StepFacts], str | None]  # None: nothing public to say


def _breached(f: StepFacts) -> str:
    kind = str(f.details.get("kind", ""))
    due = chinese_day(f.details["due"]) if f.details.get("due") else ""
    holder = (f.details.get("holder") or {}).get("name") or "信访部门"
    return f"{DEADLINE_LABELS.get(kind, '办理期限')}已于{due}届满，已记录超期并督促{holder}办理"


def _reported_up(f: StepFacts) -> str:
    return "属于重大紧急事项，已报请本级党委和政府研究决定"


def _redirected(f: StepFacts) -> str:
    return f"该事项不属于本系统受理范围，请向{f.details.get('where_to_go', '有权处理的机关')}提出"


def _routed(f: StepFacts) -> str | None:
    """A transfer or assignment; the rules' report up or redirection is said as for the clerk's step."""
    organ, disposition = f.details.get("organ"), f.details.get("disposition")
    if organ is None:
        said = {"report_up": _reported_up, "out_of_remit": _redirected}.get(disposition)
        return said(f) if said else None
    if disposition == "assign":
        return f"已交办{organ['name']}办理，该机关将在规定期限内告知是否受理"
    if disposition == "political_legal":
        return f"涉法涉诉事项，已转{organ['name']}依法处理"
    return f"已转送{organ['name']}办理，该机关将在规定期限内告知是否受理"


def _objection_decided(f: StepFacts) -> str | None:
    if "organ" in f.details:  # upheld, and the bureau named the new organ
        return _routed(f)
    return "信访部门审核后正在重新确定办理机关" if f.details["upheld"] else "信访部门审核后维持原转送"


def _accepted(f: StepFacts) -> str:
    procedure = "简易程序" if f.details.get("procedure") == "simplified" else "普通程序"
    return f"{f.organ_name}已受理（{procedure}），应于{f.due_day}前办结"


def _evaluated(f: StepFacts) -> str:
    """The petitioner's own rating, or one a clerk took on a return visit (older events: the petitioner's)."""
    if f.details.get("taken_by", "petitioner") == "return_visit":
        how = RETURN_VISIT_CHANNELS.get(f.details.get("channel"), "回访")
        return f"信访部门回访，信访人评价：{f.details.get('rating_text')}（{how}）"
    return f"信访人评价：{f.details.get('rating_text')}"


def _review_decided(f: StepFacts) -> str:
    if f.details.get("outcome") == "rehandle":
        return "复查意见：撤销原处理意见，责令重新办理"
    return f"复查意见：{f.details.get('outcome_text')}。如不服，可自收到之日起30日内请求复核"


# A review (re-review) window counted again from the receipt of the written answer that opened it.
_ANSWERS = {"review_request": ("处理意见书", "复查"), "re_review_request": ("复查意见书", "复核")}


def _counted_from_receipt(f: StepFacts) -> str:
    document, request = _ANSWERS.get(f.details.get("window"), _ANSWERS["review_request"])
    received = chinese_day(f.details["received_on"])
    if f.details.get("presumed"):
        said = f"{document}已于{chinese_day(f.details['posted_on'])}挂号邮寄，推定{received}送达"
    else:
        said = f"{document}已于{received}{NOTICE_CHANNELS.get(f.details.get('delivered_by'), '')}送达"
    until = f"，可于{f.due_day}前请求{request}" if f.due else ""
    return f"{said}，{request}请求期限自该日起计算{until}"


# --- the steps -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    """An officer's endpoint: POST /api/v1/petitions/{petition_id}/<path>."""

    path: str
    summary: str  # OpenAPI, naming who acts
    body: type[BaseModel] | None = None  # the request body, when it is not the step's command


@dataclass(frozen=True)
class Step:
    """One step of the lifecycle. A step without parties is a fact the platform records (an organ received the
    item itself, the calendar changed), not anyone's decision: no permission or state is checked for it."""

    name: str  # the action, as the case records it
    text: str  # Chinese, as in "不能{text}"
    parties: frozenset[Party]
    allowed_from: frozenset[Status]
    publishes: tuple[str, ...]  # its case.<type>s, named after supervision's events (case.accepted: Case.Accepted)
    timeline: Timeline
    command: type[BaseModel] | None = None  # what an officer or petitioner sends; None: the platform takes it
    endpoint: Endpoint | None = None  # the officer's; the petitioner's own steps go by query code
    # The notice it sends the petitioner (docs/domain.md §"Notices"): always the same kinds (`sends`), by what it
    # decided (`depending` on its recorded disposition or outcome), or none, saying why (`silent`). Required: a new
    # step cannot forget its notice (tests/unit/shared/test_step_notices.py checks what each declares).
    notice: StepNotice = field(kw_only=True)


def _step(name: str, text: str, parties: set[Party], allowed_from: set[Status] | frozenset[Status],
          publishes: tuple[str, ...], timeline: Timeline, command: type[BaseModel] | None = None,
          endpoint: Endpoint | None = None, *, notice: StepNotice) -> Step:
    return Step(name, text, frozenset(parties), frozenset(allowed_from), publishes, timeline, command, endpoint,
                notice=notice)


# The notices the steps send (shared/language/contracts/notices.py), and the silences shared by several steps.
_N = NoticeKind
_ROUTED_NOTICES = {"transfer": sends(_N.TRANSFER_NOTICE), "political_legal": sends(_N.TRANSFER_NOTICE),
                   "discipline": sends(_N.TRANSFER_NOTICE), "assign": sends(_N.ASSIGNMENT_NOTICE),
                   "out_of_remit": sends(_N.REDIRECT_NOTICE)}
_REPORTED_UP = silent("reported to the county Party committee and government, not yet a decision on where the "
                      "petition goes: the transfer or assignment that follows tells the petitioner")
_PETITIONERS_OWN = silent("the petitioner's own request: the opinion that decides it is the answer")
_HEARING = silent("internal to the re-review: the clock pauses or resumes (hearing invitations are not modelled); "
                  "the new due date is on the status page")


BUREAU, ORGAN, REVIEWER, PETITIONER, SYSTEM, SUPERVISOR, SUPERVISED = Party
STEPS: dict[str, Step] = {s.name: s for s in (
    # --- triage (docs/domain.md §"Routing") ---
    _step("route", "按规则转送", {SYSTEM}, TRIAGE, ("transferred", "assigned", "reported_up", "redirected"), _routed,
          notice=depending("disposition", {**_ROUTED_NOTICES, "report_up": _REPORTED_UP, "bureau_triage": silent(
              "not published (services/routing/translate.py): the case stays in the bureau's triage list, and the "
              "transfer or assignment a clerk makes tells the petitioner")})),
    _step("transfer", "转送", {BUREAU}, TRIAGE | {Status.AWAITING_ACCEPTANCE}, ("transferred",), _routed, Transfer,
          Endpoint("transfer", "转送有权处理机关（信访部门）"), notice=sends(_N.TRANSFER_NOTICE)),
    _step("assign", "交办", {BUREAU}, TRIAGE | {Status.AWAITING_ACCEPTANCE}, ("assigned",), _routed, Assign,
          Endpoint("assignment", "交办，并确定办结报告期限（信访部门）"), notice=sends(_N.ASSIGNMENT_NOTICE)),
    _step("report_up", "报请党委政府研究", {BUREAU}, TRIAGE - {Status.REPORTED_UP} | {Status.AWAITING_ACCEPTANCE},
          ("reported_up",), _reported_up, ReportUp, Endpoint("report-up", "重大紧急事项报请本级党委和政府（信访部门）"),
          notice=_REPORTED_UP),
    # ORGAN: only for an item it received directly (S2'; Case.route checks).
    _step("redirect", "告知向有权机关提出", {BUREAU, ORGAN}, TRIAGE | {Status.AWAITING_ACCEPTANCE}, ("redirected",),
          _redirected, Redirect, Endpoint("redirect", "不属于受理范围，告知向有权机关提出（信访部门）"),
          notice=sends(_N.REDIRECT_NOTICE)),
    _step("object", "提出异议", {ORGAN}, {Status.AWAITING_ACCEPTANCE}, ("objection_raised",),
          lambda f: "承办机关对职责范围提出异议，信访部门正在审核", Objection,
          Endpoint("objection", "对转送、交办提出异议，5个工作日内（承办机关）"),
          notice=silent("between the receiving organ and the bureau: the petitioner is told only if the item goes "
                        "elsewhere (decide_objection, route)")),
    _step("decide_objection", "审核异议", {BUREAU}, {Status.OBJECTION_RAISED}, ("objection_upheld", "objection_rejected"),
          _objection_decided, ObjectionDecision, Endpoint("objection/decision", "审核异议（信访部门）"),
          notice=depending("disposition", {"transfer": sends(_N.TRANSFER_NOTICE)}, otherwise=silent(
              "rejected: the item stays where it was; upheld without naming an organ: the rules route it again and "
              "that step (route) tells the petitioner"))),
    # --- acceptance (the competent organ) ---
    _step("accept", "受理", {ORGAN}, {Status.AWAITING_ACCEPTANCE}, ("accepted",), _accepted, Accept,
          Endpoint("acceptance", "受理：普通程序或简易程序（承办机关）"), notice=sends(_N.ACCEPTANCE_NOTICE)),
    # SYSTEM: the repeat check at registration (docs/domain.md §"Repeats and finality").
    _step("decline", "不予受理", {ORGAN, BUREAU, SYSTEM}, TRIAGE | {Status.AWAITING_ACCEPTANCE}, ("declined",),
          lambda f: f"不予受理：{f.details.get('reason')}（{f.basis}）", Decline,
          Endpoint("decline", "不予受理，并说明法定理由（承办机关或信访部门）"), notice=sends(_N.NOT_ACCEPTED_NOTICE)),
    _step("decline_again", "不再受理", {ORGAN, BUREAU, SYSTEM}, TRIAGE | {Status.AWAITING_ACCEPTANCE},
          ("declined_again",), lambda f: f"不再受理：{f.details.get('reason')}（{f.basis}）", DeclineAgain,
          Endpoint("decline-again", "不再受理（复核终结后同一事实和理由）"), notice=sends(_N.NOT_ACCEPTED_AGAIN_NOTICE)),
    _step("reopen_as_new_matter", "认定为新的信访事项", {BUREAU}, {Status.NOT_ACCEPTED, Status.NOT_ACCEPTED_AGAIN},
          ("reopened_as_new_matter",), lambda f: "经审核，该事项提出了新的事实和理由，作为新的信访事项办理", NewMatter,
          Endpoint("new-matter", "按重复信访自动不予受理或不再受理的事项，认定有新的事实和理由，作为新事项办理（信访部门）"),
          notice=silent("the matter is triaged again: the transfer or assignment that follows tells the petitioner")),
    # S2': recorded when the organ registers what it received itself.
    _step("receive_directly", "登记直接收到的信访事项", set(), {Status.REGISTERED}, ("received_directly",),
          lambda f: f"{f.organ_name}已直接收到该信访事项，将在规定期限内告知是否受理",
          notice=silent("the registration receipt went out on petition.registered (notices.ON_REGISTRATION); the "
                        "organ's acceptance, decline or redirection that follows tells the rest")),
    _step("divert", "导入法定程序", {ORGAN}, {Status.AWAITING_ACCEPTANCE} | UNDER_HANDLING, ("diverted",),
          lambda f: f"该事项应通过{f.details.get('procedure')}解决，已引导导入法定程序", Divert,
          Endpoint("diversion", "导入法定程序（第三十一条第一至五项）（承办机关）"), notice=sends(_N.DIVERSION_NOTICE)),
    # --- handling ---
    _step("record_handling", "记录听证或调解", {ORGAN}, UNDER_HANDLING, ("handling_recorded",),
          lambda f: f"{f.organ_name}已组织{HANDLING_STEPS.get(f.details.get('kind'), '办理')}", HandlingStep,
          Endpoint("handling-steps", "记录听证、调解、和解或调查核实（承办机关）"),
          notice=silent("a record of how the organ handles the matter, not a decision on it")),
    _step("convert_to_ordinary", "转为普通程序", {ORGAN}, {Status.SIMPLIFIED_HANDLING}, ("converted_to_ordinary",),
          lambda f: f"已转为普通程序办理，应于{f.due_day}前办结", ConvertToOrdinary,
          Endpoint("conversion", "简易程序转为普通程序（承办机关）"),
          notice=silent("no statutory notice was found for the conversion (docs/domain.md §\"Notices\"): the new "
                        "due date is published on the status page")),
    _step("extend", "延长办理期限", {ORGAN}, {Status.HANDLING}, ("extended",),
          lambda f: f"经本机关负责人批准延长办理期限{f.details.get('days')}日，延期理由：{f.details.get('reasons')}；"
                    f"应于{f.due_day}前办结", Extend,
          Endpoint("extension", "延长办理期限，不超过30日，经负责人批准（承办机关）"), notice=sends(_N.EXTENSION_NOTICE)),
    _step("reply", "出具处理意见", {ORGAN}, UNDER_HANDLING, ("replied",),
          lambda f: f"{f.organ_name}已出具处理意见（{f.details.get('outcome_text')}）。如不服，可自收到之日起30日内请求复查",
          Reply, Endpoint("reply", "出具处理意见：支持、解释说明或不予支持（承办机关）"),
          notice=sends(_N.OPINION, _N.RATING_INVITATION)),
    # BUREAU: a rating a clerk took from the petitioner on a return visit (回访), recorded as such (Case.evaluate).
    _step("evaluate", "评价", {PETITIONER, BUREAU}, {Status.REPLIED, Status.REVIEWED, Status.FINAL,
                                                   Status.REVIEW_REQUESTED, Status.UNDER_REVIEW,
                                                   Status.RE_REVIEW_REQUESTED, Status.UNDER_RE_REVIEW},
          ("evaluated",), _evaluated, Evaluation,
          Endpoint("evaluation", "回访：记录信访人通过电话、走访或信函作出的满意度评价，记为回访评价（信访部门）",
                   body=ReturnVisitEvaluation),
          notice=silent("the petitioner's own rating (or the one a clerk took from her on a return visit)")),
    # --- review and re-review ---
    # The petitioner's request_review asks for a re-review once the review opinion is out (Case.request_review).
    _step("request_review", "申请复查", {PETITIONER}, {Status.REPLIED}, ("review_requested",),
          lambda f: "信访人已请求复查", ReviewRequest, notice=_PETITIONERS_OWN),
    _step("open_review", "受理复查", {BUREAU}, {Status.REPLIED, Status.REVIEW_REQUESTED}, ("review_opened",),
          lambda f: f"{f.details.get('review_organ', {}).get('name', '复查机关')}已受理复查请求，应于{f.due_day}前提出复查意见",
          OpenReview, Endpoint("review", "受理复查请求并确定复查机关（信访部门）"),
          notice=silent("no statutory notice: the reviewing organ and its due date are published on the status page, "
                        "and its 复查意见书 answers the request")),
    _step("decide_review", "出具复查意见", {REVIEWER}, {Status.UNDER_REVIEW}, ("review_decided",), _review_decided,
          ReviewDecision, Endpoint("review/decision", "出具复查意见（复查机关）"),
          # A re-handling sends the case back to handling: no opinion to rate until the new one.
          notice=depending("outcome", {"uphold": sends(_N.REVIEW_OPINION, _N.RATING_INVITATION),
                                       "change": sends(_N.REVIEW_OPINION, _N.RATING_INVITATION),
                                       "rehandle": sends(_N.REVIEW_OPINION)})),
    _step("request_re_review", "申请复核", {PETITIONER}, {Status.REVIEWED}, ("re_review_requested",),
          lambda f: "信访人已请求复核", notice=_PETITIONERS_OWN),
    _step("open_re_review", "受理复核", {BUREAU}, {Status.REVIEWED, Status.RE_REVIEW_REQUESTED}, ("re_review_opened",),
          lambda f: f"{f.details.get('re_review_organ', {}).get('name', '复核机关')}已受理复核请求，应于{f.due_day}前提出复核意见",
          OpenReReview, Endpoint("re-review", "受理复核请求并确定复核机关（信访部门）"),
          notice=silent("no statutory notice: the re-reviewing organ and its due date are published on the status "
                        "page, and its 复核意见书 answers the request")),
    _step("start_hearing", "开始听证", {REVIEWER}, {Status.UNDER_RE_REVIEW}, ("hearing_started",),
          lambda f: "复核听证开始（听证时间不计入复核期限）", Hearing,
          Endpoint("re-review/hearing/start", "复核听证开始，期限暂停计算（复核机关）"), notice=_HEARING),
    _step("end_hearing", "结束听证", {REVIEWER}, {Status.UNDER_RE_REVIEW}, ("hearing_ended",),
          lambda f: f"复核听证结束，复核期限顺延至{f.due_day}", Hearing,
          Endpoint("re-review/hearing/end", "复核听证结束，期限顺延（复核机关）"), notice=_HEARING),
    _step("decide_re_review", "出具复核意见", {REVIEWER}, {Status.UNDER_RE_REVIEW}, ("re_review_decided",),
          lambda f: f"复核意见：{f.details.get('outcome_text')}。该信访事项已终结，以同一事实和理由再次提出的不再受理",
          ReReviewDecision, Endpoint("re-review/decision", "出具复核意见，事项终结（复核机关）"),
          notice=sends(_N.RE_REVIEW_OPINION, _N.RATING_INVITATION)),
    _step("finalize", "终结", {SYSTEM}, {Status.REPLIED, Status.REVIEWED}, ("finalized",),
          lambda f: "请求期限届满未请求复查或复核，该信访事项已终结",
          notice=silent("the opinion the petitioner received said it becomes final once the window passes unused")),
    _step("withdraw", "撤回", {BUREAU}, NOT_TERMINAL, ("withdrawn",), lambda f: "信访人申请撤回，信访部门已同意",
          Withdraw, Endpoint("withdrawal", "信访人申请撤回，经同意（信访部门）"),
          notice=silent("the petitioner asked for it herself; the bureau's approval is published on the status page")),
    # --- supervision (docs/domain.md §"Supervision"): orders, accountability, leader ownership ---
    _step("supervise", "下达督办", {SUPERVISOR}, NOT_TERMINAL | AWAITING_REVIEW_REQUEST | {Status.FINAL},
          ("supervised",), lambda f: None, SupervisionOrder,
          Endpoint("supervision-orders", "下达督办单：督办方式、事由、要求和书面答复期限（督查督办人员）"),
          notice=silent("between the bureau and the organ (TELLS_ORGANS tells the organ); the petitioner sees the "
                        "outcome of the handling, not the supervision")),
    _step("answer_order", "报告督办落实情况", {SUPERVISED}, frozenset(Status), ("order_answered",), lambda f: None,
          OrderAnswer, Endpoint("supervision-orders/answer", "书面报告督办事项的办理情况（督办对象）"),
          notice=silent("the organ's answer to the bureau, not a decision on the matter")),
    _step("review_order_answer", "审核督办报告", {SUPERVISOR}, frozenset(Status), ("order_answer_reviewed",),
          lambda f: None, OrderAnswerReview,
          Endpoint("supervision-orders/review", "审核督办对象的办理情况报告：认可办结，或者不认可并限期重新报告（督查督办人员）"),
          notice=silent("between the bureau and the organ (a rejected answer tells the organ: compose.organs_told)")),
    _step("recommend_accountability", "提出责任追究建议", {SUPERVISOR}, frozenset(Status),
          ("accountability_recommended",), lambda f: None, AccountabilityRecommendation,
          Endpoint("accountability", "提出责任追究建议：事由、责任单位或者责任人、事实和依据（督查督办人员）"),
          notice=silent("to the organ with management authority (TELLS_ORGANS), never to the petitioner")),
    _step("assign_leader", "领导包案", {SUPERVISOR}, NOT_TERMINAL | AWAITING_REVIEW_REQUEST | {Status.FINAL},
          ("leader_assigned",), lambda f: "该信访事项已确定由领导包案化解", LeaderOwnership,
          Endpoint("leader-ownership", "确定包案领导、工作专班、化解方案和化解期限（督查督办人员）"),
          notice=silent("the status page says a leader owns the case; the leader's team contacts the petitioner")),
    _step("record_ownership_progress", "记录包案化解进展", {SUPERVISOR, ORGAN}, frozenset(Status),
          ("ownership_progress_recorded",), lambda f: "包案化解工作已办结" if f.details.get("resolved") else None,
          OwnershipProgress, Endpoint("leader-ownership/progress", "记录包案化解进展，或者确认已化解（督查督办人员、承办机关）"),
          notice=silent("a record of the leader's work; the opinion or the resolution itself tells the petitioner")),
    _step("propose_leader_ownership", "建议领导包案", set(), NOT_TERMINAL | AWAITING_REVIEW_REQUEST,
          ("leader_ownership_proposed",), lambda f: None,
          notice=silent("a proposal for a supervisor to confirm (assign_leader), not a decision")),
    # --- a province's assignment (上级交办, services/supervision/case/provincial.py): its progress report ---
    _step("report_progress", "向上级报告办理进展", {BUREAU, ORGAN}, frozenset(Status), ("progress_reported",),
          lambda f: None, ProgressReport,
          Endpoint("provincial-progress", "向交办的上级机关报告办理进展情况（信访部门、承办机关）"),
          notice=silent("a report to the province that assigned the matter, not a decision on it; the opinion that "
                        "follows tells the petitioner")),
    # --- oversight: provisional deadlines counted again once the calendar covers their year ---
    _step("recompute_deadlines", "重新计算期限", set(), frozenset(Status), ("deadlines_recomputed",),
          lambda f: "节假日安排公布后，期限已重新计算",
          notice=silent("provisional deadlines counted again on the published holiday calendar, not a decision")),
    # --- the deadline watch (services/supervision/watch.py): reminders before a duty's day, the breach after it ---
    _step("remind_deadline", "期限提醒", set(), NOT_TERMINAL, ("deadline_reminded",), lambda f: None,
          notice=silent("a reminder to the organ that holds the duty (TELLS_ORGANS), not a decision on the matter")),
    _step("record_breach", "记录超期", set(), NOT_TERMINAL, ("deadline_breached",), _breached,
          notice=silent("the overdue notice goes to the organ that holds the duty (TELLS_ORGANS); the petitioner "
                        "reads the breach on the status page")),
    # The review (re-review) window counted from the petitioner's receipt of the written answer (Arts. 35, 36):
    # recorded when notification reports a delivery or a posting (services/supervision/case/receipt.py).
    _step("count_from_receipt", "按送达之日计算请求期限", set(), AWAITING_REVIEW_REQUEST,
          ("window_counted_from_receipt",), _counted_from_receipt,
          notice=silent("the receipt of the opinion it counts from is itself the notice; the new due date is on "
                        "the status page")),
)}

# action name -> its command model (what the gateway sends and supervision validates).
COMMANDS: dict[str, type[BaseModel]] = {s.name: s.command for s in STEPS.values() if s.command is not None}


def published_steps() -> tuple[str, ...]:
    """Every case.<type> a step publishes, in the order the steps are declared."""
    return tuple(dict.fromkeys(name for step in STEPS.values() for name in step.publishes))


# The roles that take some officer's step: the gateway's officer endpoints admit them (the Case checks the rest).
ACTING_ROLES = frozenset(role for step in STEPS.values() if step.endpoint is not None
                         for party in step.parties for role in PARTY_ROLES[party])
