"""Chinese words for the machine values the console shows or offers in its forms.

Field labels come from the API's own table (shared/language/contracts/errors.py FIELD_LABELS, which names fields
in its 422s), so a form and the error about it say the same word. The labels of the public form are fixed by
issue 16 (PUBLIC_LABELS). The option words below are the ones the platform's own texts use; the lists that are
reference data (organs, decline reasons, diversion items, places) are taken from the reference API once it is
served (console/reference.py).
"""

from __future__ import annotations

from shared.language.contracts.errors import FIELD_LABELS
from shared.language.contracts.lifecycle import HANDLING_STEPS, RETURN_VISIT_CHANNELS, STATUS_TEXT
from shared.language.contracts.reference import CATEGORY_LABELS, TOPIC_LABELS
from shared.language.contracts.registration import CHANNEL_LABELS
from shared.language.contracts.search import SEARCH_BY_TEXT
from shared.language.contracts.worklists import FLAG_TEXT, LIST_GROUP_TEXT

# The public form (issue 16: "on the public form these labels are used exactly").
PUBLIC_LABELS = {
    "petitioner.name": "姓名",
    "petitioner.id_number": "身份证号码",
    "petitioner.phone": "手机号码",
    "petitioner.address": "联系地址",
    "petitioner.email": "电子邮箱",
    "title": "标题",
    "request": "诉求",
    "facts_and_reasons": "事实和理由",
    "category": "信访类别",
    "topic": "问题类别",
    "place_code": "问题发生地",
    "people_count": "涉及人数",
}

CATEGORIES = dict(CATEGORY_LABELS)
TOPICS = dict(TOPIC_LABELS)
CHANNELS = {str(channel): text for channel, text in CHANNEL_LABELS.items()}
SEARCH_BY = {str(by): text for by, text in SEARCH_BY_TEXT.items()}
STATUSES = {str(status): text for status, text in STATUS_TEXT.items()}
ROLES = {"clerk": "登记人员", "organ_officer": "承办机关工作人员", "supervisor": "督查督办人员", "auditor": "审计人员",
         "admin": "管理员", "petitioner": "信访人", "system": "系统"}
FLAGS = dict(FLAG_TEXT)
LIST_GROUPS = {str(group): text for group, text in LIST_GROUP_TEXT.items()}
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
DEADLINE_STATUS = {"met": "已按期完成", "stopped": "已停止计算"}

# The options of the lifecycle commands' choice fields, by field name (and by step where one name means two lists).
OPTIONS: dict[str, dict[str, str]] = {
    "procedure": {"ordinary": "普通程序", "simplified": "简易程序"},
    "outcome": {"support": "支持", "explain": "解释说明", "not_support": "不予支持"},
    "kind": dict(HANDLING_STEPS),
    "rating": RATINGS,
    "return_visit_channel": dict(RETURN_VISIT_CHANNELS),
    "upheld": {"true": "异议成立", "false": "异议不成立"},
}
STEP_OPTIONS: dict[tuple[str, str], dict[str, str]] = {
    ("decide_review", "outcome"): {"uphold": "维持", "change": "变更", "rehandle": "撤销并责令重新办理"},
    ("decide_re_review", "outcome"): {"uphold": "维持", "change": "变更"},
}


# What the auditors' history and the case file name that no request field names.
RECORD_LABELS = {
    "disposition": "分流方式", "facts": "分流依据的事实", "rule_id": "规则", "rules_version": "规则版本", "level": "意见层级",
    "taken_by": "评价方式", "received_on": "收到日期", "on": "日期", "outcome_text": "结论", "notice_id": "告知书编号",
    "rating_text": "评价", "opened": "开始计算的期限", "closed": "结束的期限", "accepted_on": "受理日期",
    "channels": "送达渠道", "organ": "机关", "reason": "理由", "again": "不再受理", "review_organ": "复查机关",
    "re_review_organ": "复核机关", "joining_organs": "配合办理机关", "approved_by": "批准人", "query_code": "查询码",
    "outcome": "处理结论", "status_text": "状态",
}
VALUE_WORDS = {"category": CATEGORIES, "topic": TOPICS, "channel": {**CHANNELS, "online": "网上"},
               "procedure": OPTIONS["procedure"], "rating": RATINGS,
               "taken_by": {"petitioner": "信访人网上评价", "return_visit": "信访部门回访"},
               "disposition": {"transfer": "转送", "assign": "交办", "political_legal": "转政法机关", "discipline": "转纪检监察机关",
                               "report_up": "报请党委政府", "out_of_remit": "告知向有权机关提出"},
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
        return VALUE_WORDS.get(key, {}).get(value, value)
    if isinstance(value, dict):
        if "name" in value:
            return str(value["name"])
        return "；".join(f"{field_label(k)}：{said(k, v)}" for k, v in value.items())
    if isinstance(value, list):
        return "；".join(
            f"{v.get('label')}（至{v.get('due')}）" if isinstance(v, dict) and "label" in v and "due" in v
            else said(key, v) for v in value)
    return str(value)
