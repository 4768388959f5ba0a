"""The registration command: what a petition must contain to be registered (登记).

One model serves the public API (the gateway's request body) and intake's own entrypoints, so a petition is
checked by the same rules whichever way it arrives. Limits are documented in docs/api.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from shared.language.chinatime import local_date
from shared.language.contracts.actor import Role
from shared.language.contracts.filetypes import ContentType
from shared.language.contracts.identity import landline, mainland_mobile, place_code, resident_id_number
from shared.language.contracts.text import FreeText, Line

MAX_TITLE = 100
MAX_REQUEST = 2_000
MAX_FACTS_AND_REASONS = 20_000
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024


class Channel(StrEnum):
    ONLINE = "online"
    LETTER = "letter"
    VISIT = "visit"
    PHONE = "phone"
    PROVINCIAL_TRANSFER = "provincial_transfer"


class Category(StrEnum):
    """The three handling categories of the 2022 Regulations (Arts. 29-31; docs/domain.md §"Categories and statutory
    procedures")."""

    SUGGESTION = "suggestion"  # 建议意见类, Art. 29
    REPORT = "report"  # 检举控告类, Art. 30
    APPEAL = "appeal"  # 申诉求决类, Art. 31


class Topic(StrEnum):
    """Subject areas used by the routing rules (主管). Optional: without one, routing goes by category and place."""

    LAND_REQUISITION = "land_requisition"  # 征地拆迁
    LABOUR_WAGES = "labour_wages"  # 劳动工资
    SOCIAL_SECURITY = "social_security"  # 社会保障
    HOUSING_CONSTRUCTION = "housing_construction"  # 住房城建
    ENVIRONMENT = "environment"  # 生态环境
    EDUCATION = "education"  # 教育
    HEALTH = "health"  # 医疗卫生
    PUBLIC_SECURITY = "public_security"  # 公安治安
    AGRICULTURE_RURAL = "agriculture_rural"  # 农业农村
    TRANSPORT = "transport"  # 交通运输
    CIVIL_AFFAIRS = "civil_affairs"  # 民政
    URBAN_MANAGEMENT = "urban_management"  # 城市管理
    LITIGATION = "litigation"  # 涉法涉诉
    FUNDRAISING = "fundraising"  # 涉众型集资（非法集资）
    VETERANS = "veterans"  # 退役军人事务
    OTHER = "other"  # 其他


CHANNEL_LABELS = {
    Channel.ONLINE: "网上信访", Channel.LETTER: "来信", Channel.VISIT: "来访",
    Channel.PHONE: "来电", Channel.PROVINCIAL_TRANSFER: "上级转送",
}

# Required text: one line (names, title, address), or free text with line breaks (request, facts and reasons).
# Control and bidi characters and invisible-only values are refused; see shared/language/contracts/text.py.
Text = Annotated[Line, Field(min_length=1)]
LongText = Annotated[FreeText, Field(min_length=1)]
IdNumber = Annotated[str, AfterValidator(resident_id_number)]
Mobile = Annotated[str, AfterValidator(mainland_mobile)]
Landline = Annotated[str, AfterValidator(landline)]
PlaceCode = Annotated[str, AfterValidator(place_code)]
Sha256 = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[0-9a-fA-F]{64}$")]
UploadToken = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,100}$")]  # base64url, no padding


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Agent(_Strict):
    """An agent (代理人) acting for the petitioner."""

    name: Annotated[Text, Field(max_length=50)]
    id_number: IdNumber | None = None
    phone: Mobile
    relation: Annotated[Text, Field(max_length=50)] | None = None


class Petitioner(_Strict):
    """Reached by a mobile (`phone`) or, when there is none, a fixed line with its area code (`landline`, 区号-号码):
    at least one of the two. A petitioner without a mobile has no account on the platform's apps: notices go by
    e-mail if one is given, otherwise they await the post (docs/api.md)."""

    name: Annotated[Text, Field(max_length=50)]
    id_number: IdNumber
    # Declared before `phone`, so that a petitioner with neither is told so at `phone`, the field most forms show.
    landline: Landline | None = None
    phone: Annotated[Mobile | None, Field(validate_default=True)] = None
    address: Annotated[Text, Field(max_length=200)]
    email: EmailStr | None = None
    agent: Agent | None = None

    @field_validator("phone")
    @classmethod
    def _mobile_or_landline(cls, phone: str | None, info: ValidationInfo) -> str | None:
        # A landline that failed its own check is not in info.data: its error says enough.
        if phone is None and "landline" in info.data and info.data["landline"] is None:
            raise PydanticCustomError("phone_or_landline_required",
                                      "请填写手机号码；没有手机的，请填写固定电话（区号-号码，如0571-87654321）")
        return phone


class Person(_Strict):
    """A representative (代表) of a group petition or a joint signer (联名人). Identified, for the repeat check
    (docs/domain.md §"Repeats and finality"), by ID number where given, otherwise by name and phone."""

    name: Annotated[Text, Field(max_length=50)]
    id_number: IdNumber | None = None
    phone: Mobile | None = None


class AccusedParty(_Strict):
    """The person or unit reported (被反映人/单位) in a 检举控告 item. Kept by intake only: it must never reach
    the accused (2022 Regulations Art. 30; docs/domain.md §"Privacy")."""

    name: Annotated[Text, Field(max_length=100)]
    organisation: Annotated[Text, Field(max_length=200)] | None = None
    position: Annotated[Text, Field(max_length=100)] | None = None


class Attachment(_Strict):
    """An attached file, named by the SHA-256 of its content; the file itself is in the attachment store
    (shared/runtime/storage.py), never in events. The answer of `POST /api/v1/attachments` is such an entry as it
    stands: its `content_type` (what the platform found in the content) and `upload_token` (proof that the caller
    uploaded those bytes, checked by the gateway and not passed on: `exclude`) make the file downloadable. An entry
    without them describes a file kept elsewhere (as before uploads existed) and cannot be downloaded."""

    file_name: Annotated[Text, Field(max_length=255)]
    size: Annotated[int, Field(ge=0, le=MAX_ATTACHMENT_BYTES)]
    sha256: Sha256
    content_type: ContentType | None = None
    upload_token: Annotated[UploadToken | None, Field(exclude=True)] = None


# --- registration at a counter (clerks and admin only) ---------------------------------------------------------------
# How long ago a letter may have arrived, or a visit or call taken place, when it is registered: older items are
# registered with today's date and the clerk's note says when they came (docs/domain.md §"Channels and
# registration": a choice of this county).
MAX_RECEIPT_AGE_DAYS = 90
COUNTER_FIELDS = ("received_at", "window", "note")  # only the bureau's counter sets them
COUNTER_ROLES = frozenset({Role.CLERK, Role.ADMIN})
RECEIVED_AT_FORMAT = "来信填写收到日期（如2026-03-01），来访、来电填写接待时间（如2026-03-01T09:30:00+08:00）"


def _received_time(value: Any) -> Any:
    """A date (a letter's arrival) or a date and time with its offset (a visit or call): ISO 8601 text."""
    if isinstance(value, date):  # a datetime is a date too
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise PydanticCustomError("invalid_received_at", f"收到时间格式不正确：{RECEIVED_AT_FORMAT}") from None
    else:
        raise PydanticCustomError("invalid_received_at", f"收到时间格式不正确：{RECEIVED_AT_FORMAT}")
    if isinstance(moment, datetime) and moment.tzinfo is None:
        raise PydanticCustomError("invalid_received_at", "接待时间须注明时区，如2026-03-01T09:30:00+08:00")
    return moment


def _not_future_nor_stale(moment: date) -> date:
    """Not after now, nor more than MAX_RECEIPT_AGE_DAYS days ago (days as read in China)."""
    now = datetime.now(UTC)
    today = local_date(now)
    if (moment > now) if isinstance(moment, datetime) else (moment > today):
        raise PydanticCustomError("invalid_received_at", "收到时间不能晚于现在")
    day = local_date(moment) if isinstance(moment, datetime) else moment
    earliest = today - timedelta(days=MAX_RECEIPT_AGE_DAYS)
    if day < earliest:
        raise PydanticCustomError(
            "invalid_received_at",
            f"收到时间不能早于{earliest.isoformat()}（{MAX_RECEIPT_AGE_DAYS}日前）；更早收到的，请按今天登记并在登记备注中写明收到日期")
    return moment


# The exact type first: a date-time is a date too, and must stay one.
ReceivedAt = Annotated[AwareDatetime | date, BeforeValidator(_received_time), AfterValidator(_not_future_nor_stale)]


def received_day(received_at: str) -> date:
    """The day in China an ISO `received_at` (a date, or a date and time with its offset) names."""
    if len(received_at) == 10:
        return date.fromisoformat(received_at)
    return local_date(datetime.fromisoformat(received_at))


# Group petitions (docs/domain.md §"Group petitions and representatives"): five or more people elect at most five
# representatives; thirty or more make the item major/urgent.
GROUP_SIZE = 5
MAX_REPRESENTATIVES = 5
MAJOR_URGENT_SIZE = 30
MAX_JOINT_SIGNERS = 500


class RegisterPetition(_Strict):
    channel: Channel
    category: Category
    # Only a report (检举控告) may be anonymous; it then names the accused party instead of the petitioner.
    anonymous: bool = False
    petitioner: Annotated[Petitioner | None, Field(validate_default=True)] = None
    accused: Annotated[AccusedParty | None, Field(validate_default=True)] = None
    title: Annotated[Text, Field(max_length=MAX_TITLE)]
    request: Annotated[LongText, Field(max_length=MAX_REQUEST)]
    facts_and_reasons: Annotated[LongText, Field(max_length=MAX_FACTS_AND_REASONS)]
    topic: Topic | None = None
    place_code: PlaceCode
    people_count: Annotated[int, Field(ge=1, le=100_000)] = 1
    joint_signers: Annotated[list[Person], Field(max_length=MAX_JOINT_SIGNERS)] = []
    representatives: Annotated[list[Person], Field(max_length=MAX_REPRESENTATIVES, validate_default=True)] = []
    attachments: Annotated[list[Attachment], Field(max_length=MAX_ATTACHMENTS)] = []
    # At the counter (COUNTER_ROLES only): when the letter arrived or the visit or call took place — the triage clock
    # runs from it, not from the typing —, the receiving window (接待窗口) and the clerk's note.
    received_at: ReceivedAt | None = None
    window: Annotated[Text, Field(max_length=50)] | None = None
    note: Annotated[LongText, Field(max_length=2_000)] | None = None

    @field_validator("received_at")
    @classmethod
    def _received_offline(cls, received_at: date | None, info: ValidationInfo) -> date | None:
        if received_at is not None and info.data.get("channel") is Channel.ONLINE:
            raise PydanticCustomError("invalid_received_at", "网上信访以提交时间为收到时间，不填写收到时间")
        return received_at

    @field_validator("anonymous")
    @classmethod
    def _only_reports_anonymous(cls, anonymous: bool, info: ValidationInfo) -> bool:
        if anonymous and info.data.get("category") not in (None, Category.REPORT):
            raise PydanticCustomError("invalid_anonymous", "只有检举控告类事项可以匿名提出")
        return anonymous

    @field_validator("petitioner")
    @classmethod
    def _petitioner_unless_anonymous(cls, petitioner: Petitioner | None, info: ValidationInfo) -> Petitioner | None:
        if petitioner is None and not info.data.get("anonymous"):
            raise PydanticCustomError("invalid_petitioner", "请填写信访人信息（仅匿名检举控告可不填写）")
        if petitioner is not None and info.data.get("anonymous"):
            raise PydanticCustomError("invalid_petitioner", "匿名检举控告不填写信访人信息；如愿署名，请取消匿名")
        return petitioner

    @field_validator("accused")
    @classmethod
    def _accused_for_anonymous_reports(cls, accused: AccusedParty | None,
                                       info: ValidationInfo) -> AccusedParty | None:
        if accused is None and info.data.get("anonymous"):
            raise PydanticCustomError("invalid_accused", "匿名检举控告须写明被反映人或者单位")
        if accused is not None and info.data.get("category") not in (None, Category.REPORT):
            raise PydanticCustomError("invalid_accused", "只有检举控告类事项填写被反映人")
        return accused

    @field_validator("representatives")
    @classmethod
    def _representatives_for_groups(cls, representatives: list[Person], info: ValidationInfo) -> list[Person]:
        # docs/domain.md §"Group petitions and representatives": 推选代表，代表人数不超过5人.
        # A joint letter names its signers instead: every item must be registered (Art. 21), and the rule is
        # about who speaks for a group, which the signers of a letter do themselves.
        people = info.data.get("people_count") or 1
        joint_letter = info.data.get("channel") is Channel.LETTER and info.data.get("joint_signers")
        if people >= GROUP_SIZE and not representatives and not joint_letter:
            raise PydanticCustomError(
                "invalid_representatives",
                f"{GROUP_SIZE}人以上共同提出的信访事项，应当推选代表（不超过{MAX_REPRESENTATIVES}人）并填写代表信息")
        for person in representatives:
            if person.id_number is None and person.phone is None:
                raise PydanticCustomError("invalid_representatives", "每位代表须填写身份证号码或者手机号码")
        return representatives

    def counter_fields(self) -> list[str]:
        """The counter's fields this registration sets (COUNTER_FIELDS): only COUNTER_ROLES may set them."""
        return [name for name in COUNTER_FIELDS if getattr(self, name) is not None]

    @property
    def flags(self) -> list[str]:
        """What the bureau must watch: group (≥5 people), joint signature, major/urgent (≥30 people)."""
        flags = []
        if self.people_count >= GROUP_SIZE:
            flags.append("group")
        if self.joint_signers:
            flags.append("joint_signature")
        if self.people_count >= MAJOR_URGENT_SIZE:
            flags.append("major_urgent")
        if self.anonymous:
            flags.append("anonymous")
        return flags

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{
                "channel": "online",
                "petitioner": {"name": "王秀兰", "id_number": "11010519491231002X", "phone": "13800138000",
                               "address": "示例县城关镇人民路1号", "email": "wangxl@example.cn"},
                "title": "小区污水外溢长期无人处理",
                "request": "请求有关部门尽快疏通污水管道",
                "facts_and_reasons": "自今年三月起，小区北门污水井多次外溢……",
                "category": "appeal",
                "topic": "urban_management",
                "place_code": "330106001",
                "people_count": 1,
                "attachments": [{"file_name": "现场照片.jpg", "size": 1234,
                                 "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}],
            }]
        },
    )
