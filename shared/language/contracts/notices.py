"""The notices the petitioner is sent, in the platform's language (docs/domain.md §"Notices"): each kind declared
once — its Chinese title, who issues it, the values its template needs, the statute it rests on and the version of
its wording — and what a lifecycle step sends (`Sends`, `Depending`, `Silent`: the `notice` of every `Step` in
shared/language/contracts/lifecycle.py STEPS).

The templates themselves are notification's data files (services/notification/templates/<kind>.txt.j2), one per
kind; tests/unit/notification/test_notice_templates.py checks that each uses exactly the values declared here.
Bump a kind's `version` whenever its wording changes: a notice records the template it came from (kind, version
and the template file's digest), and a legal text must say which wording the petitioner received.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Literal


class NoticeKind(StrEnum):
    REGISTRATION_RECEIPT = "registration_receipt"  # 信访事项登记回执 (on petition.registered, not a step)
    TRANSFER_NOTICE = "transfer_notice"  # 转送告知书: where it went and why (Art. 22)
    ASSIGNMENT_NOTICE = "assignment_notice"  # 交办告知书 (Art. 22(3))
    ACCEPTANCE_NOTICE = "acceptance_notice"  # 受理告知书: receipt, route and procedure (Art. 23)
    NOT_ACCEPTED_NOTICE = "not_accepted_notice"  # 不予受理告知书: reason and basis
    NOT_ACCEPTED_AGAIN_NOTICE = "not_accepted_again_notice"  # 不再受理告知书: reason and basis (Art. 36)
    REDIRECT_NOTICE = "redirect_notice"  # out of remit: where to go (告知向有权机关提出, Art. 23)
    DIVERSION_NOTICE = "diversion_notice"  # 导入法定程序告知书: the statutory procedure to use (Art. 31(1)-(5))
    EXTENSION_NOTICE = "extension_notice"  # 延长办理期限告知书: reasons, approval, new deadline (Art. 34)
    OPINION = "opinion"  # 信访事项处理意见书, with the 30-day review right (Arts. 32, 35)
    REVIEW_OPINION = "review_opinion"  # 复查意见书, with the 30-day re-review right (Arts. 35, 36)
    RE_REVIEW_OPINION = "re_review_opinion"  # 复核意见书: final (Art. 36)
    RATING_INVITATION = "rating_invitation"  # 满意度评价: how and until when (Satisfaction Measures)
    # To an organ, not the petitioner: a case now before it (transferred, assigned, joined, to review or re-review),
    # by e-mail to its official mailbox (the organ table's `email`); its inbox is the work list.
    ORGAN_CASE_NOTICE = "organ_case_notice"
    # To the bureau's supervisors (督查督办), not the petitioner: an early warning (services/supervision/warnings.py),
    # by e-mail to their mailbox (NOTICE_SUPERVISORS_EMAIL); codes, counts and case numbers only.
    WARNING_NOTICE = "warning_notice"
    # To an organ, not the petitioner: a circular (通报) the bureau issued to it (services/supervision/circulars.py), by
    # e-mail to its official mailbox; one per organ and circular.
    CIRCULAR_NOTICE = "circular_notice"


class Issuer(StrEnum):
    """In whose name a notice is issued (its `issuer_name` value)."""

    BUREAU = "bureau"  # the county petition bureau (信访局)
    # The organ whose decision the notice tells: the competent organ for acceptance, declines, extension and its
    # opinion (never a sub-office), the reviewing / re-reviewing organ for theirs; the bureau when the bureau took
    # the step (a decline or a redirection at triage) or the platform took it for the bureau (the routing rules,
    # the repeat check at registration).
    DECIDER = "decider"


# How a value is put into the body: `line` within a line (a name, a date, a code: line breaks and other control or
# bidi characters become spaces); `text` as lines of its own (an opinion, reasons: line breaks kept, each line
# indented, so no value can make a line that looks like the notice's own); `choice` one of `choices`, which the
# template words itself.
ValueForm = Literal["line", "text", "choice"]


@dataclass(frozen=True)
class Value:
    name: str
    form: ValueForm = "line"
    optional: bool = False  # may be empty (the template then leaves its sentence out); absent is always an error
    choices: tuple[str, ...] = ()  # for form "choice"
    # (name, choice): the value may be empty when the choice `name` is `choice` (the template does not use it then)
    unless: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if (self.form == "choice") != bool(self.choices):
            raise ValueError(f"{self.name}: choices are for a value of form choice, and it needs them")


def _line(name: str, optional: bool = False, unless: tuple[str, str] | None = None) -> Value:
    return Value(name, "line", optional, unless=unless)


def _text(name: str, optional: bool = False) -> Value:
    return Value(name, "text", optional)


def _choice(name: str, *choices: str) -> Value:
    return Value(name, "choice", choices=choices)


# Every notice is addressed (the name, or 信访人 when it is empty: an anonymous report), names the matter by its
# title, the day it was registered and its query code, and is signed by its issuer with the date of issue.
COMMON = (_line("name", optional=True), _line("title"), _line("registered_date"), _line("query_code"),
          _line("issuer_name"), _line("issued_on"))
# A notice to an organ is addressed to it and signed by the bureau. It names the case by its number only: no query
# code (the petitioner's credential), no title or other words of the petitioner, no personal data — an e-mail
# leaves the platform; the organ's officers read the case in the console.
ORGAN_COMMON = (_line("organ_name"), _line("issuer_name"), _line("issued_on"))


@dataclass(frozen=True)
class NoticeSpec:
    kind: NoticeKind
    title: str  # Chinese, as the notice is headed (and the e-mail's subject)
    issuer: Issuer
    basis: str  # the statute the notice rests on (docs/domain.md §"Notices")
    version: int  # of the template's wording: bump it whenever the template file changes
    own: tuple[Value, ...] = ()  # the kind's values besides COMMON (ORGAN_COMMON for a notice to an organ)
    to_organ: bool = False  # addressed to an organ (ORGAN_COMMON), not the petitioner (COMMON)
    values: Mapping[str, Value] = field(init=False, repr=False, compare=False)  # COMMON and `own`, by name

    def __post_init__(self) -> None:
        common = ORGAN_COMMON if self.to_organ else COMMON
        values = {v.name: v for v in (*common, *self.own)}
        if len(values) != len(common) + len(self.own):
            raise ValueError(f"{self.kind}: a value is declared twice")
        for value in values.values():
            if value.unless and value.unless[1] not in getattr(values.get(value.unless[0]), "choices", ()):
                raise ValueError(f"{self.kind}: {value.name} is needed unless a choice the kind does not have")
        object.__setattr__(self, "values", MappingProxyType(values))


# What a notice to an organ asks of it (ORGAN_CASE_NOTICE's `duty`), by the case's key that names the organ; a
# reminder of a deadline it holds, or its breach (the deadline watch), names the deadline (`deadline_label`).
ORGAN_DUTIES = ("transfer", "assign", "join", "review", "re_review", "reminder", "overdue", "supervision",
                "answer_rejected", "accountability")
_ROUTED = (_line("organ_name"), _line("joining_organ_names", optional=True), _text("basis"))
_DECLINED = (_line("reason"), _line("basis"), _text("explanation", optional=True))

NOTICES: dict[NoticeKind, NoticeSpec] = {spec.kind: spec for spec in (
    NoticeSpec(NoticeKind.REGISTRATION_RECEIPT, "信访事项登记回执", Issuer.BUREAU,
               "《信访工作条例》第二十一条、第二十三条；《信访事项网上办理工作规程》（查询码）", 1,
               (_line("channel_label"),)),
    NoticeSpec(NoticeKind.TRANSFER_NOTICE, "信访事项转送告知书", Issuer.BUREAU,
               "《信访工作条例》第二十二条、第二十三条", 1, _ROUTED),
    NoticeSpec(NoticeKind.ASSIGNMENT_NOTICE, "信访事项交办告知书", Issuer.BUREAU,
               "《信访工作条例》第二十二条第三款、第二十三条", 1, _ROUTED),
    NoticeSpec(NoticeKind.ACCEPTANCE_NOTICE, "信访事项受理告知书", Issuer.DECIDER,
               "《信访工作条例》第二十三条、第三十四条；《信访事项简易办理办法》", 1,
               (_line("accepted_on"), _choice("procedure", "ordinary", "simplified"), _line("handling_due"))),
    NoticeSpec(NoticeKind.NOT_ACCEPTED_NOTICE, "信访事项不予受理告知书", Issuer.DECIDER,
               "《信访工作条例》相应条款（依不予受理的理由确定）", 1, _DECLINED),
    NoticeSpec(NoticeKind.NOT_ACCEPTED_AGAIN_NOTICE, "信访事项不再受理告知书", Issuer.DECIDER,
               "《信访工作条例》第三十五条、第三十六条", 1, _DECLINED),
    NoticeSpec(NoticeKind.REDIRECT_NOTICE, "信访事项告知书", Issuer.DECIDER, "《信访工作条例》第二十三条", 1,
               (_text("where_to_go"),)),
    NoticeSpec(NoticeKind.DIVERSION_NOTICE, "信访事项导入法定程序告知书", Issuer.DECIDER,
               "《信访工作条例》第三十一条第一至五项", 1,
               (_line("procedure"), _line("basis"), _text("explanation", optional=True))),
    NoticeSpec(NoticeKind.EXTENSION_NOTICE, "信访事项延长办理期限告知书", Issuer.DECIDER, "《信访工作条例》第三十四条", 1,
               (_line("previous_due"), _line("days"), _line("new_due"), _line("approved_by"), _text("reasons"))),
    # v2: `basis` and `review_organ` may be empty (nothing records them yet: the reply takes no basis of its own, and
    # the organ table knows no organ's superior): the basis section is then left out, and the review right names
    # the organ as the statute does (原办理机关的上一级机关、单位) — never a made-up basis or organ.
    NoticeSpec(NoticeKind.OPINION, "信访事项处理意见书", Issuer.DECIDER, "《信访工作条例》第三十二条、第三十五条", 2,
               (_text("request"), _text("facts"), _text("opinion"),
                _choice("outcome", "support", "explain", "not_support"), _text("basis", optional=True),
                _line("review_organ", optional=True))),
    # v2: `re_review_organ` may be empty (not known yet): the re-review right names it as the statute does.
    NoticeSpec(NoticeKind.REVIEW_OPINION, "信访事项复查意见书", Issuer.DECIDER, "《信访工作条例》第三十五条、第三十六条", 2,
               (_line("original_organ_name"), _line("requested_on"), _text("opinion"),
                _choice("outcome", "uphold", "change", "rehandle"),
                _line("re_review_organ", optional=True))),
    NoticeSpec(NoticeKind.RE_REVIEW_OPINION, "信访事项复核意见书", Issuer.DECIDER, "《信访工作条例》第三十六条", 1,
               (_line("review_organ_name"), _line("requested_on"), _text("opinion"),
                _choice("outcome", "uphold", "change"))),
    # v2: `status_url` may be empty (no deployment setting names the status page's address yet): the page is then
    # named without its address.
    NoticeSpec(NoticeKind.RATING_INVITATION, "信访事项办理满意度评价告知", Issuer.BUREAU,
               "《信访事项办理群众满意度评价工作办法》；《信访事项网上办理工作规程》", 2,
               (_choice("level", "reply", "review", "re_review"), _line("organ_name"), _line("status_url", optional=True),
                _line("rating_due", optional=True))),
    # v2: the deadline watch's reminder and overdue notice (`reminder`, `overdue`: `deadline_label`, `days_left`);
    # supervision: an order (`supervision`, its `order_level`), an answer not accepted, an accountability
    # recommendation to the organ with management authority.
    NoticeSpec(NoticeKind.ORGAN_CASE_NOTICE, "信访事项办理通知", Issuer.BUREAU,
               "《信访工作条例》第二十二条、第二十三条、第三十五条至第四十条", 2,
               (_choice("duty", *ORGAN_DUTIES), _line("petition_ref"), _line("sent_on"), _line("due", optional=True),
                _line("case_url", optional=True), _line("deadline_label", optional=True),
                _line("days_left", optional=True), _line("order_level", optional=True)), to_organ=True),
    # Addressed like a notice to an organ (ORGAN_COMMON: `organ_name` is the supervisors' office): what the warning
    # counted, the topic's label and the town's name, the window (a spike's), the threshold, the cases by number.
    NoticeSpec(NoticeKind.WARNING_NOTICE, "信访信息预警通知", Issuer.BUREAU, "《信访工作条例》第二十五条、第四十六条", 1,
               (_choice("warning_kind", "topic_spike", "place_spike", "group", "sensitive", "repeat"),
                _line("topic_label", optional=True), _line("place_name", optional=True), _line("window", optional=True),
                _line("count"), _line("threshold", optional=True), _text("petition_refs"), _line("warning_ref"),
                _line("raised_on"), _line("console_url", optional=True)), to_organ=True),
    # Addressed to each organ a circular names (ORGAN_COMMON): its kind, title and number, the problems and demands
    # (the bureau's own text, as `text` values), the day to report the rectification by, how many cases it cites.
    NoticeSpec(NoticeKind.CIRCULAR_NOTICE, "信访工作通报", Issuer.BUREAU, "《信访工作条例》第三十九条、第四十条", 1,
               (_choice("circular_kind", "typical_problem", "criticism"), _line("circular_title"),
                _line("circular_number"), _text("problems"), _text("demands"), _line("report_due", optional=True),
                _line("case_count", optional=True), _line("console_url", optional=True)), to_organ=True),
)}
if set(NOTICES) != set(NoticeKind):
    raise ImportError("notices: a kind of notice is not declared")

# The channels a notice goes on, in words. Every notice to the petitioner is published on the status page
# (`inbox`), which is not a receipt; the clocks that run from the petitioner's receipt count from the others.
NOTICE_CHANNELS: Mapping[str, str] = MappingProxyType({"inbox": "查询页面", "email": "电子邮件", "sms": "短信",
                                                       "post": "邮寄"})
RECEIPT_CHANNELS = ("email", "sms", "post")

# The notices to the petitioner (every kind but those to organs).
PETITIONER_NOTICES = tuple(kind for kind, spec in NOTICES.items() if not spec.to_organ)

# The registration receipt is sent when a petition is registered (petition.registered, intake's), whoever registers
# it, not by a lifecycle step.
ON_REGISTRATION = NoticeKind.REGISTRATION_RECEIPT


# --- what a lifecycle step sends the petitioner (Step.notice) ------------------------------------------------------
@dataclass(frozen=True)
class Sends:
    """The step sends these notices, in this order."""

    kinds: tuple[NoticeKind, ...]

    def __post_init__(self) -> None:
        if not self.kinds:
            raise ValueError("Sends names at least one kind of notice; a step that sends none is Silent")

    def for_step(self, details: Mapping[str, object]) -> tuple[NoticeKind, ...]:
        return self.kinds

    def named(self) -> frozenset[NoticeKind]:
        return frozenset(self.kinds)


@dataclass(frozen=True)
class Silent:
    """The step sends the petitioner nothing, for `reason` (an internal step, the petitioner's own act, or a
    notice another step sends)."""

    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise ValueError("a step that sends no notice says why")

    def for_step(self, details: Mapping[str, object]) -> tuple[NoticeKind, ...]:
        return ()

    def named(self) -> frozenset[NoticeKind]:
        return frozenset()


@dataclass(frozen=True)
class Depending:
    """What the step sends depends on what it decided: the value of `on` in the step's recorded details (the
    routing's `disposition`, an opinion's `outcome`). A value not listed gets `otherwise`; without `otherwise`, it
    is an error (a new disposition or outcome must be declared here)."""

    on: str
    cases: tuple[tuple[str, Sends | Silent], ...]  # (value, what is sent), as `depending` builds them
    otherwise: Sends | Silent | None = None

    def for_step(self, details: Mapping[str, object]) -> tuple[NoticeKind, ...]:
        value = details.get(self.on)
        case = dict(self.cases).get(value) if isinstance(value, str) else None
        if case is None:
            if self.otherwise is None:
                raise KeyError(f"no notice is declared for {self.on} {value!r}")
            case = self.otherwise
        return case.for_step(details)

    def named(self) -> frozenset[NoticeKind]:
        named = frozenset().union(*(case.named() for _, case in self.cases))
        return named | (self.otherwise.named() if self.otherwise else frozenset())


StepNotice = Sends | Silent | Depending


def sends(*kinds: NoticeKind) -> Sends:
    return Sends(tuple(kinds))


def silent(reason: str) -> Silent:
    return Silent(reason)


def depending(on: str, cases: Mapping[str, Sends | Silent], otherwise: Sends | Silent | None = None) -> Depending:
    return Depending(on, tuple(cases.items()), otherwise)


# --- what a lifecycle step tells organs (ORGAN_CASE_NOTICE) ----------------------------------------------------------
# The steps that put a case before organs, and which: (the key of the case just after the step that names the organ
# or organs, the duty asked of them). A routing by the rules tells its organ it was assigned or transferred by the
# disposition it recorded; an upheld objection re-routes the case to the organ the bureau named.
HOLDER = "details.holder"  # not a key of the case: the organ the step itself names
TELLS_ORGANS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType({
    "route": (("organ", "transfer"), ("joining_organs", "join")),
    "transfer": (("organ", "transfer"), ("joining_organs", "join")),
    "assign": (("organ", "assign"), ("joining_organs", "join")),
    "decide_objection": (("organ", "transfer"),),
    "open_review": (("review_organ", "review"),),
    "open_re_review": (("re_review_organ", "re_review"),),
    # The deadline watch: the organ holding the deadline, as the step recorded it (`details.holder`).
    "remind_deadline": ((HOLDER, "reminder"),),
    "record_breach": ((HOLDER, "overdue"),),
    # Supervision: the organ an order, a rejected answer or a recommendation is addressed to (`details.holder`).
    "supervise": ((HOLDER, "supervision"),),
    "review_order_answer": ((HOLDER, "answer_rejected"),),  # only when not accepted (compose.organs_told)
    "recommend_accountability": ((HOLDER, "accountability"),),
})
