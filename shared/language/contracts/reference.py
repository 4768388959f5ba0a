"""Reference data in the platform's language: the codes officers pick from and their Chinese labels.

Declared here, not in a service, because both sides need them: supervision checks a decline reason or a diversion
item against them (services/supervision/case/acceptance.py imports them from here), and the gateway serves them at
`GET /api/v1/reference/...` (docs/api.md §"Reference data") without importing a service. The organs are the
county's (shared/language/organs.py), the places its towns and villages (shared/language/places.py).
"""

from __future__ import annotations

from shared.language.contracts.registration import CHANNEL_LABELS, Category, Channel, Topic

# Legal reasons for 不予受理 and 不再受理: (the reason as the decision states it, its basis) (docs/domain.md
# §"Repeats and finality", which marks the unverified ones).
DECLINE_REASONS = {
    "out_of_scope": ("不属于信访事项受理范围", "《信访工作条例》第二十三条"),
    "statutory_procedure": ("已经或者依法应当通过诉讼、仲裁、行政复议等法定途径解决",
                            "《信访工作条例》第二十二条第二款、第二十八条、第三十一条"),
    "already_handled": ("同一信访事项已经受理或者正在办理", "《信访工作条例》第十九条"),
    "skip_level": ("越级走访，应当向依法有权处理的本级或者上一级机关提出", "《信访工作条例》第二十条"),
    "no_request": ("没有明确的信访诉求、事实和理由", "《信访工作条例》第二十条"),
    "review_is_the_remedy": ("已经出具处理意见，对处理意见不服的应当依法请求复查、复核，不作为新的信访事项受理",
                             "《信访工作条例》第三十五条、第三十六条"),
}
DECLINE_AGAIN_REASONS = {
    "final_after_re_review": ("信访事项已经复核终结，信访人以同一事实和理由再次提出", "《信访工作条例》第三十六条"),
    "no_review_requested": ("对处理意见未在规定期限内请求复查，以同一事实和理由再次提出",
                            "《信访工作条例》第三十五条"),
    "no_re_review_requested": ("对复查意见未在规定期限内请求复核，以同一事实和理由再次提出",
                               "《信访工作条例》第三十六条"),
}
# Statutory procedures a request belongs to (Art. 31(1)-(5); item wording unverified: docs/domain.md
# §"Categories and statutory procedures").
STATUTORY_PROCEDURES = {
    1: "诉讼、仲裁、行政复议等法定途径",
    2: "检察机关立案、法律监督程序或者公安机关法定程序",
    3: "党员申诉、复审程序",
    4: "行政裁决、行政确认、行政许可、行政处罚等行政程序",
    5: "有关机关依法履行查处违法行为、保护人身权或者财产权等职责",
}
ITEM_NUMERALS = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五"}

TOPIC_LABELS = {
    Topic.LAND_REQUISITION: "征地拆迁",
    Topic.LABOUR_WAGES: "劳动工资",
    Topic.SOCIAL_SECURITY: "社会保障",
    Topic.HOUSING_CONSTRUCTION: "住房城建",
    Topic.ENVIRONMENT: "生态环境",
    Topic.EDUCATION: "教育",
    Topic.HEALTH: "医疗卫生",
    Topic.PUBLIC_SECURITY: "公安治安",
    Topic.AGRICULTURE_RURAL: "农业农村",
    Topic.TRANSPORT: "交通运输",
    Topic.CIVIL_AFFAIRS: "民政",
    Topic.URBAN_MANAGEMENT: "城市管理",
    Topic.LITIGATION: "涉法涉诉",
    Topic.FUNDRAISING: "集资融资",
    Topic.VETERANS: "退役军人事务",
    Topic.OTHER: "其他",
}
CATEGORY_LABELS = {
    Category.SUGGESTION: "建议意见类",
    Category.REPORT: "检举控告类",
    Category.APPEAL: "申诉求决类",
}
if set(TOPIC_LABELS) != set(Topic) or set(CATEGORY_LABELS) != set(Category) or set(CHANNEL_LABELS) != set(Channel):
    raise ImportError("reference data: a topic, category or channel has no Chinese label")


def decline_reasons() -> list[dict[str, object]]:
    """不予受理 (`again: false`, the `decline` step) and 不再受理 (`again: true`, `decline-again`) reasons."""
    return [{"code": code, "label": label, "basis": basis, "again": again}
            for again, reasons in ((False, DECLINE_REASONS), (True, DECLINE_AGAIN_REASONS))
            for code, (label, basis) in reasons.items()]


def diversions() -> list[dict[str, object]]:
    """The statutory procedures of Art. 31(1)-(5) a request may be diverted into (the `diversion` step's `item`)."""
    return [{"item": item, "label": label, "basis": f"《信访工作条例》第三十一条第{ITEM_NUMERALS[item]}项"}
            for item, label in STATUTORY_PROCEDURES.items()]


def topics() -> list[dict[str, str]]:
    return [{"code": topic.value, "label": label} for topic, label in TOPIC_LABELS.items()]


def categories() -> list[dict[str, str]]:
    return [{"code": category.value, "label": label} for category, label in CATEGORY_LABELS.items()]


def channels() -> list[dict[str, str]]:
    return [{"code": channel.value, "label": label} for channel, label in CHANNEL_LABELS.items()]
