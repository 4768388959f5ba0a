"""Chinese words for the machine values the console shows or offers in its forms.

Field labels come from the API's own table (shared/language/contracts/errors.py FIELD_LABELS, which names fields
in its 422s), so a form and the error about it say the same word. The labels of the public form are fixed by
issue 16 (PUBLIC_LABELS). The option words below are the ones the platform's own texts use; the lists that are
reference data (organs, decline reasons, diversion items, places) are taken from the reference API once it is
served (console/reference.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.language.chinatime import chinese_day
from shared.language.contracts.actor import DEADLINE_SWEEP, DEADLINE_WATCH, NOTICE_RECEIPT, REPEAT_CHECK, ROUTING_RULES
from shared.language.contracts.deadlines import DEADLINE_LABELS
from shared.language.contracts.errors import FIELD_LABELS
from shared.language.contracts.lifecycle import (
    ACCOUNTABILITY_FAILINGS,
    HANDLING_STEPS,
    OWNERSHIP_TRIGGERS,
    RETURN_VISIT_CHANNELS,
    STATUS_TEXT,
    STEPS,
    SUPERVISION_LEVELS,
    SUPERVISION_METHODS,
    SUPERVISION_SCOPES,
    SUPERVISION_TRIGGERS,
)
from shared.language.contracts.notices import NOTICE_CHANNELS, NOTICES
from shared.language.contracts.reference import (
    CATEGORY_LABELS,
    DECLINE_AGAIN_REASONS,
    DECLINE_REASONS,
    ITEM_NUMERALS,
    STATUTORY_PROCEDURES,
    TOPIC_LABELS,
)
from shared.language.contracts.registration import CHANNEL_LABELS
from shared.language.contracts.search import SEARCH_BY_TEXT
from shared.language.contracts.worklists import FLAG_TEXT, LIST_GROUP_TEXT

# The public form (issue 16: "on the public form these labels are used exactly"): the API's own labels of these
# fields, which are the words, so that its errors name the field as the form does.
PUBLIC_FIELDS = ("petitioner.name", "petitioner.id_number", "petitioner.phone", "petitioner.address",
                 "petitioner.email", "title", "request", "facts_and_reasons", "category", "topic", "place_code",
                 "people_count")
PUBLIC_LABELS = {name: FIELD_LABELS[name] for name in PUBLIC_FIELDS}

CATEGORIES = dict(CATEGORY_LABELS)
TOPICS = dict(TOPIC_LABELS)
CHANNELS = {str(channel): text for channel, text in CHANNEL_LABELS.items()}
SEARCH_BY = {str(by): text for by, text in SEARCH_BY_TEXT.items()}
STATUSES = {str(status): text for status, text in STATUS_TEXT.items()}
ROLES = {"clerk": "登记人员", "organ_officer": "承办机关工作人员", "supervisor": "督查督办人员", "auditor": "审计人员",
         "admin": "管理员", "petitioner": "信访人", "system": "系统"}
# The platform's own actors (shared/language/contracts/actor.py), by what they do.
SYSTEM_ACTORS = {ROUTING_RULES.user: "分流规则", REPEAT_CHECK.user: "重复信访核查", DEADLINE_SWEEP.user: "期限巡查",
                 NOTICE_RECEIPT.user: "送达登记", DEADLINE_WATCH.user: "期限监控"}
FLAGS = dict(FLAG_TEXT)
LIST_GROUPS = {str(group): text for group, text in LIST_GROUP_TEXT.items()}
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
DEADLINE_STATUS = {"met": "已按期完成", "late": "逾期完成", "stopped": "已停止计算"}

# The options of the lifecycle commands' choice fields, by field name (and by step where one name means two lists).
OPTIONS: dict[str, dict[str, str]] = {
    "procedure": {"ordinary": "普通程序", "simplified": "简易程序"},
    "outcome": {"support": "支持", "explain": "解释说明", "not_support": "不予支持"},
    "kind": dict(HANDLING_STEPS),
    "rating": RATINGS,
    "return_visit_channel": dict(RETURN_VISIT_CHANNELS),
    "upheld": {"true": "异议成立", "false": "异议不成立"},
    "trigger": dict(SUPERVISION_TRIGGERS), "scope": dict(SUPERVISION_SCOPES), "method": dict(SUPERVISION_METHODS),
    "failing": dict(ACCOUNTABILITY_FAILINGS),
    "accepted": {"true": "认可，督办办结", "false": "不认可，限期重新报告"},
    "resolved": {"true": "已化解", "false": "尚未化解"},
}
STEP_OPTIONS: dict[tuple[str, str], dict[str, str]] = {
    ("decide_review", "outcome"): {"uphold": "维持", "change": "变更", "rehandle": "撤销并责令重新办理"},
    ("decide_re_review", "outcome"): {"uphold": "维持", "change": "变更"},
    ("supervise", "order_level"): dict(SUPERVISION_LEVELS),
}


# What the auditors' history and the case file name that no request field names.
RECORD_LABELS = {
    "disposition": "分流方式", "facts": "分流依据的事实", "rule_id": "适用规则", "rules_version": "规则版本", "level": "意见层级",
    "taken_by": "评价方式", "received_on": "收到日期", "on": "日期", "outcome_text": "结论", "notice_id": "告知书编号",
    "rating_text": "评价", "opened": "开始计算的期限", "closed": "结束的期限", "accepted_on": "受理日期",
    "channels": "送达渠道", "organ": "机关", "reason": "理由", "again": "不再受理", "review_organ": "复查机关",
    "re_review_organ": "复核机关", "joining_organs": "配合办理机关", "approved_by": "批准人", "query_code": "查询码",
    "outcome": "处理结论", "status_text": "状态", "late_days": "逾期天数", "due": "截止日期", "days_left": "剩余工作日",
}
VALUE_WORDS = {"category": CATEGORIES, "topic": TOPICS, "channel": {**CHANNELS, "online": "网上"},
               "procedure": OPTIONS["procedure"], "rating": RATINGS,
               "taken_by": {"petitioner": "信访人网上评价", "return_visit": "信访部门回访"},
               "disposition": {"transfer": "转送", "assign": "交办", "political_legal": "转政法机关", "discipline": "转纪检监察机关",
                               "report_up": "报请党委政府", "out_of_remit": "告知向有权机关提出",
                               "bureau_triage": "由信访部门研判分流"},
               "level": {"reply": "处理意见", "review": "复查意见", "re_review": "复核意见"},
               "outcome": {**OPTIONS["outcome"], "uphold": "维持", "change": "变更", "rehandle": "撤销并责令重新办理"}}


def field_label(name: str) -> str:
    """The API's Chinese label of a field (its last part when it is nested), or the name itself."""
    return (FIELD_LABELS.get(name) or FIELD_LABELS.get(name.rsplit(".", 1)[-1]) or RECORD_LABELS.get(name)
            or name)


def said(key: str, value: object) -> str:
    """A recorded value in words: codes by their Chinese names, organs by name, deadlines as label and due day."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        return VALUE_WORDS.get(key, {}).get(value) or written(key, value)
    if isinstance(value, dict):
        if "name" in value:
            return str(value["name"])
        return "；".join(f"{field_label(k)}：{said(k, v)}" for k, v in value.items())
    if isinstance(value, list):
        return "；".join(
            f"{v.get('label')}（至{said('due', v.get('due'))}）" if isinstance(v, dict) and "label" in v and "due" in v
            else said(key, v) for v in value)
    return str(value)


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def written(key: str, value: str) -> str:
    """A recorded text without a word of its own, as people read it: a day as 2026年12月5日, never 2026-12-05; a
    routing rule by its id in Chinese words (the rules' descriptions are the routing service's: the step's basis,
    shown beside it, is the rule's own)."""
    if ISO_DAY.fullmatch(value):
        return chinese_day(value)
    if key == "rule_id":
        return f"分流规则“{value}”"
    return value


def actor_words(actor: Mapping[str, Any]) -> str:
    """Who took a step, in words: 系统：分流规则 for the platform's own actors, else the role and the user name (the
    organ is the page's to name, by the reference data)."""
    role, user = actor.get("role"), actor.get("user")
    words = ROLES.get(str(role), str(role or ""))
    if role == "system" and user:
        return f"{words}：{SYSTEM_ACTORS.get(user, user)}"
    return f"{words} {user}" if user else words


# --- what was recorded, in words: the auditors' history (console/officers.py `said`, audit_case.html) -------------
# Kept apart from the words above. The names of the services and of their events, and the words of a recorded value
# that depend on the event it was recorded in — a notice's kind, channel and outcome, a rating's channel, the
# deadlines a step stopped — or on the reference data (places and organs by name). What is empty is left out.

# The services, as the auditors' history names where an event was recorded (docs/architecture.md §"Layout").
SERVICE_NAMES = {"intake": "受理登记", "routing": "分流", "supervision": "督办", "notification": "告知"}
# The events that are not a lifecycle step (a step's event is named by its STEPS text, from the `action` it
# records); the notices' events are named by the notice's title (`event_name`).
EVENT_NAMES = {
    "Petition.Registered": "登记信访事项",
    "Assignment.Routed": "按规则分流",
    "Assignment.Rerouted": "异议成立后重新分流",
    "Case.Opened": "开始督办",
    "Case.OrganAssigned": "转送",  # recorded before the lifecycle steps were
}
NOTICE_EVENTS = frozenset({"Notice.Requested", "Delivery.Concluded", "Case.NoticeDelivered", "Delivery.ResendRequested",
                           "Delivery.Attempted", "PostalDelivery.Posted", "PostalDelivery.ReceiptRecorded"})
# A notice's events that are not a delivery's outcome, by what they record.
NOTICE_EVENT_NAMES = {"Delivery.ResendRequested": "{title}重新发送", "PostalDelivery.Posted": "{title}已挂号邮寄",
                      "PostalDelivery.ReceiptRecorded": "{title}已签收（登记）"}
NOTICE_TITLES = {str(kind): spec.title for kind, spec in NOTICES.items()}
DELIVERY_CHANNELS = NOTICE_CHANNELS
DELIVERY_OUTCOMES = {"delivered": "已送达", "refused": "无法送达", "failed": "发送失败"}
# A notice's record: its kind, the channels it goes on and how it went on one.
NOTICE_LABELS = {"kind": "告知书", "channel": "送达渠道", "channels": "送达渠道", "outcome": "送达结果",
                 "by": "登记人", "posted_on": "邮寄日期", "registered_mail_number": "挂号信号码",
                 "received_on": "签收日期"}
NOTICE_WORDS = {"kind": NOTICE_TITLES, "channel": DELIVERY_CHANNELS, "channels": DELIVERY_CHANNELS,
                "outcome": DELIVERY_OUTCOMES}
# What one step's record means by a name that means something else elsewhere.
STEP_LABELS = {("evaluate", "channel"): "评价渠道", ("finalize", "window"): "届满的请求期限",
               ("finalize", "window_due"): "请求期限届满日", ("object", "organ_code"): "提出异议的机关",
               ("count_from_receipt", "window"): "重新计算的请求期限", ("count_from_receipt", "kind"): "送达的文书",
               ("count_from_receipt", "delivered_by"): "送达方式", ("count_from_receipt", "presumed"): "推定送达",
               ("count_from_receipt", "posted_on"): "邮寄日期", ("count_from_receipt", "received_on"): "送达日期",
               ("remind_deadline", "kind"): "提醒的期限", ("remind_deadline", "days"): "提前提醒（工作日）",
               ("remind_deadline", "holder"): "提醒的机关", ("record_breach", "kind"): "超期的期限",
               ("record_breach", "on"): "超期之日", ("record_breach", "holder"): "超期的机关",
               ("supervise", "order_level"): "督办方式", ("supervise", "holder"): "督办对象", ("supervise", "due"): "书面答复期限",
               ("supervise", "previous_order_level"): "升级前的督办方式", ("answer_order", "holder"): "督办对象",
               ("review_order_answer", "holder"): "督办对象", ("review_order_answer", "due"): "重新答复期限",
               ("recommend_accountability", "holder"): "有管理权限的机关",
               ("propose_leader_ownership", "triggers"): "建议包案的情形"}
STEP_WORDS = {("evaluate", "channel"): {"online": "网上", **RETURN_VISIT_CHANNELS},
              ("count_from_receipt", "delivered_by"): DELIVERY_CHANNELS,
              ("count_from_receipt", "kind"): NOTICE_TITLES,
              ("count_from_receipt", "presumed"): {"true": "是（邮寄后推定）", "false": "否（已登记实际送达）"},
              ("remind_deadline", "kind"): DEADLINE_LABELS, ("record_breach", "kind"): DEADLINE_LABELS,
              ("supervise", "order_level"): SUPERVISION_LEVELS, ("supervise", "previous_order_level"): SUPERVISION_LEVELS,
              ("propose_leader_ownership", "triggers"): OWNERSHIP_TRIGGERS}
# Names a record uses that no request field names, or that read otherwise once the value is in words.
RECORDED_LABELS = {
    "place_code": "问题发生地", "flags": "标记", "accused_organs": "被检举控告的机关", "excluded_organs": "不再分流给的机关",
    "organ_code": "机关", "suggested_organ": "建议的有权处理机关", "previous": "调整前的期限", "previous_due": "原办理期限",
    "requested_on": "请求日期", "started_on": "听证开始日期", "paused_days": "期限暂停天数", "window_due": "期限届满日",
}
RECORDED_WORDS: dict[str, Mapping[Any, str]] = {
    "kind": OPTIONS["kind"], "flags": FLAGS,
    "reason_code": {code: label for code, (label, _basis) in (DECLINE_REASONS | DECLINE_AGAIN_REASONS).items()},
    "item": {item: f"第三十一条第{ITEM_NUMERALS[item]}项" for item in STATUTORY_PROCEDURES},
    "disposition": {**VALUE_WORDS["disposition"], "direct_receipt": "直接收到"},
    "trigger": SUPERVISION_TRIGGERS, "scope": SUPERVISION_SCOPES, "method": SUPERVISION_METHODS,
    "failing": ACCOUNTABILITY_FAILINGS,
}
ORGAN_CODES = frozenset({"organ_code", "suggested_organ_code", "joining_organ_codes", "accused_organs",
                         "excluded_organs"})  # organs named by their codes: shown by name
BY_DEADLINE = frozenset({"closed", "previous", "late_days"})  # {deadline kind: status, due day or days late}
# A recorded text that says again what its code says: left out when the code is in words.
SAID_TWICE = {"outcome_text": "outcome", "rating_text": "rating"}


def _empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


class Recorded:
    """Where a recorded value was recorded, for the words that depend on it: the event (console/officers.py gives
    the history's), the console's reference data (places and organs by name: console/reference.py), and the labels
    of the deadlines the case's own steps recorded (`opened_labels`), which a county's rules may word otherwise than
    DEADLINE_LABELS."""

    def __init__(self, event: Mapping[str, Any] | None = None, reference: Any = None,
                 deadline_labels: Mapping[str, str] | None = None) -> None:
        self.event = event or {}
        self.reference = reference
        self.deadline_labels = deadline_labels or {}

    @property
    def action(self) -> str:
        return str(self.event.get("action") or "")

    @property
    def notice(self) -> bool:
        return self.event.get("service") == "notification" or self.event.get("event") in NOTICE_EVENTS

    def words(self, key: str) -> Mapping[Any, str]:
        if self.notice and key in NOTICE_WORDS:
            return NOTICE_WORDS[key]
        return STEP_WORDS.get((self.action, key)) or RECORDED_WORDS.get(key) or VALUE_WORDS.get(key) or {}

    def label(self, key: str) -> str:
        if self.notice and key in NOTICE_LABELS:
            return NOTICE_LABELS[key]
        return STEP_LABELS.get((self.action, key)) or RECORDED_LABELS.get(key) or field_label(key)

    def deadline(self, kind: str) -> str:
        return self.deadline_labels.get(kind) or DEADLINE_LABELS.get(kind) or kind

    def place(self, code: str) -> str:
        return self.reference.place_name(code) if self.reference is not None else code

    def organ(self, code: str) -> str:
        return self.reference.organ_name(code) if self.reference is not None else code


def opened_labels(events: list[Mapping[str, Any]]) -> dict[str, str]:
    """The label each kind of deadline was first opened with in a history (its steps' `opened`)."""
    found: dict[str, str] = {}
    for event in events:
        for deadline in event.get("opened") or []:
            if isinstance(deadline, Mapping) and deadline.get("kind") and deadline.get("label"):
                found.setdefault(str(deadline["kind"]), str(deadline["label"]))
    return found


def event_name(event: Mapping[str, Any]) -> str:
    """An event of the history in Chinese: a lifecycle step by its text (STEPS), a notice's by the notice's title,
    the rest by EVENT_NAMES; an event no name is known for, by its machine name."""
    name = str(event.get("event") or "")
    step = STEPS.get(str(event.get("action") or ""))
    if step is not None:
        return step.text
    if name in NOTICE_EVENTS:
        title = NOTICE_TITLES.get(str(event.get("kind") or ""), "告知书")
        if name == "Notice.Requested":
            return f"生成{title}"
        if name == "Case.NoticeDelivered":
            return f"{title}已送达（记入案卷）"
        if name in NOTICE_EVENT_NAMES:
            return NOTICE_EVENT_NAMES[name].format(title=title)
        return f"{title}{DELIVERY_OUTCOMES.get(str(event.get('outcome')), '送达结果')}"
    return EVENT_NAMES.get(name, name)


def service_name(service: object) -> str:
    return SERVICE_NAMES.get(str(service), str(service or ""))


def recorded(key: str, value: object, context: Recorded | None = None) -> str:
    """A recorded value in words, as `said` words it, and besides: by the event it was recorded in (a notice's kind
    by its title, its channel and outcome; a rating's channel), places and organs by name, deadlines by their labels
    and their end (已按期完成 / 已停止计算), flags by name, the keys of a record by their Chinese names; what is
    empty (None, "", [], {}) is left out."""
    context = context or Recorded()
    if value is None:
        return ""
    if isinstance(value, bool):
        return said(key, value)
    if isinstance(value, str) and key in ORGAN_CODES:
        return context.organ(value)
    if isinstance(value, str) and key == "place_code":
        return context.place(value)
    if isinstance(value, str) and context.action == "finalize" and key == "window":
        return context.deadline(value)
    if isinstance(value, str | int):
        words = context.words(key)
        return words[value] if value in words else said(key, value)
    if isinstance(value, dict):
        if "name" in value:
            return said(key, value)
        if key == "by" and "role" in value:  # the officer who recorded it (a posting, a re-send)
            organ = value.get("organ")
            return actor_words(value) + (f"，{context.organ(str(organ))}" if organ else "")
        shown = {k: v for k, v in value.items() if not _empty(v)}
        if key in BY_DEADLINE:
            return "；".join(f"{context.deadline(str(k))}：" + (
                f"逾期{v}日" if key == "late_days" else DEADLINE_STATUS.get(str(v)) or said("due", v))
                for k, v in shown.items())
        return "；".join(f"{context.label(str(k))}：{recorded(str(k), v, context)}" for k, v in shown.items())
    if isinstance(value, list):
        shown = [v for v in value if not _empty(v)]
        if shown and all(isinstance(v, dict) and "label" in v and "due" in v for v in shown):
            return said(key, shown)
        plain = all(isinstance(v, str) or isinstance(v, dict) and "name" in v for v in shown)
        return ("、" if plain else "；").join(recorded(key, v, context) for v in shown)
    return said(key, value)


def recorded_fields(record: Mapping[str, Any], skip: frozenset[str] | set[str] = frozenset(),
                    context: Recorded | None = None) -> list[tuple[str, str]]:
    """What a record said, as (label, words) pairs in its order, without `skip`, what is empty and what says again
    what its code says (SAID_TWICE)."""
    context = context or Recorded(record)
    return [(context.label(key), recorded(key, value, context)) for key, value in record.items()
            if key not in skip and not _empty(value)
            and not (key in SAID_TWICE and record.get(SAID_TWICE[key]) in context.words(SAID_TWICE[key]))]
