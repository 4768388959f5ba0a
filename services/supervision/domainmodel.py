"""supervision's aggregate: the case, i.e. the statutory handling lifecycle of one petition.

Every command checks who acts (lifecycle.Party), then the state (lifecycle.ACTIONS), then the statutory rule
(windows, limits, eligibility), and only then records an event. Each lifecycle event records the action, the new
status, who acted (role, user, organ), when, the legal basis, and the deadlines it opened or closed — computed at
the time of the step, so replaying the history never depends on today's calendar.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.supervision.deadlines import Deadline, DeadlineRules
from services.supervision.lifecycle import (
    ACTIONS,
    AWAITING_REVIEW_REQUEST,
    TERMINAL,
    IllegalTransition,
    InvalidCommand,
    NotPermitted,
    Party,
    RuleViolation,
    Status,
)
from shared.language.chinatime import local_date

# Group petitions (docs/domain.md §"Group petitions and representatives"): five or more people elect
# representatives; multi-party items are excluded from simplified handling (简易办理办法 Art. 5(4)).
GROUP_SIZE = 5
OUTCOMES = {"support": "支持", "explain": "解释说明", "not_support": "不予支持"}
REVIEW_OUTCOMES = {"uphold": "维持", "change": "变更", "rehandle": "撤销并责令重新办理"}
RE_REVIEW_OUTCOMES = {"uphold": "维持", "change": "变更"}
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
# Who gave a rating to the platform (Evaluated details `taken_by`): the petitioner online, with the query code and
# the ID number's last six characters, or a clerk who asked the petitioner on a return visit (回访), by `channel`.
# Evaluated events recorded before this distinction lack both keys: they were the petitioner's, online.
RETURN_VISIT_CHANNELS = {"phone": "电话回访", "visit": "走访回访", "letter": "信函回访"}
RATING_TAKEN_BY = ("petitioner", "return_visit")
HANDLING_STEPS = {"hearing": "听证", "mediation": "调解", "settlement": "和解", "investigation": "调查核实"}

# Legal reasons for 不予受理 and 不再受理 (docs/domain.md §"Repeats and finality", which marks the unverified ones).
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
TRANSFER_BASIS = "《信访工作条例》第二十二条：按照属地管理、分级负责，谁主管、谁负责的原则转送有权处理机关"
ASSIGN_BASIS = "《信访工作条例》第二十二条第三款：重要信访事项交办有权处理机关，要求反馈结果并报送办结报告"
REPORT_UP_BASIS = "《信访工作条例》第二十二条第一款：重大、紧急信访事项报请本级党委和政府决定"
REDIRECT_BASIS = "《信访工作条例》第二十三条：不属于本机关、本系统职权范围的，告知信访人向有权处理的机关提出"
OBJECTION_BASIS = "《信访工作条例》第二十三条第三款"
ACCEPT_BASIS = "《信访工作条例》第二十三条：属于本机关职权范围的，告知信访人接收情况以及处理途径和程序"
SIMPLIFIED_BASIS = "《信访事项简易办理办法》第四条"
DIVERT_BASIS = "《信访工作条例》第三十一条第一项至第五项：导入相应法定程序"
EXTEND_BASIS = "《信访工作条例》第三十四条：经本机关负责人批准，可以适当延长办理期限，延长期限不得超过30日"
REPLY_BASIS = "《信访工作条例》第三十二条、第三十四条：出具信访处理意见书，并告知信访人可在30日内请求复查"
EVALUATION_BASIS = "《信访事项办理群众满意度评价工作办法》"
REVIEW_BASIS = "《信访工作条例》第三十五条"
RE_REVIEW_BASIS = "《信访工作条例》第三十六条"
FINAL_BASIS = "《信访工作条例》第三十五条、第三十六条：复查、复核期限届满未请求或者复核终结"
WITHDRAW_BASIS = "信访人申请撤回，经信访部门同意"
DIRECT = "direct_receipt"
DIRECT_BASIS = ("《信访工作条例》第二十三条：有关机关、单位直接收到信访人提出的信访事项，属于本机关职权范围的，"
                "应当告知信访人接收情况以及处理途径和程序")
NEW_MATTER_BASIS = "《信访工作条例》第三十六条：不再受理限于同一事实和理由；提出新的事实和理由的，作为新的信访事项登记办理"
# Who decides on repeats at registration (docs/domain.md §"Repeats and finality").
SYSTEM_REPEAT_CHECK = {"role": "system", "user": "repeat-check", "organ": None}


class Case(Aggregate):
    """One petition under supervision (its id is the petition's id)."""

    @staticmethod
    def create_id(petition_id: UUID) -> UUID:  # type: ignore[override]
        return petition_id

    class Opened(Aggregate.Created):
        # v2 added people_count and repeat_of (the lifecycle), v3 the registration flags, v4 the organs a report
        # accuses (Art. 30); older histories are upcast on load.
        class_version = 4

        petition_id: UUID
        query_code: str
        title: str
        category: str
        channel: str
        place_code: str
        at: str
        deadlines: list[dict[str, Any]]
        correlation_id: str
        causation_id: str
        people_count: int
        repeat_of: str | None
        flags: list[str]
        accused_organs: list[str]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("people_count", 1)
            state.setdefault("repeat_of", None)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.setdefault("flags", [])

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            state.setdefault("accused_organs", [])

    @event(Opened)
    def __init__(
        self,
        *,
        petition_id: UUID,
        query_code: str,
        title: str,
        category: str,
        channel: str,
        place_code: str,
        at: str,  # when the petition was registered (ISO 8601)
        deadlines: list[dict[str, Any]],
        correlation_id: str,
        causation_id: str,
        people_count: int = 1,
        repeat_of: str | None = None,
        flags: list[str] | None = None,
        accused_organs: list[str] | None = None,
    ) -> None:
        self.query_code = query_code
        self.accused_organs = list(accused_organs or [])  # a report is never sent to them (Art. 30)
        self.category = category
        self.channel = channel
        self.people_count = people_count
        self.repeat_of = repeat_of
        self.flags = list(flags or [])
        self.declined_as_repeat = False
        self.status = Status.REGISTERED
        self.deadlines: dict[str, dict[str, Any]] = {d["kind"]: {"status": "open", **d} for d in deadlines}
        self.organ: dict[str, str] | None = None
        self.joining_organs: list[dict[str, str]] = []
        self.disposition: str | None = None
        self.received_on: str | None = None  # when the organ received the transfer or assignment
        self.objecting_organs: list[str] = []
        self.procedure: str | None = None  # ordinary | simplified
        self.accepted_on: str | None = None
        self.opinions: list[dict[str, Any]] = []  # reply, review, re-review opinions in order
        self.evaluated_levels: list[str] = []
        self.review_organ: dict[str, str] | None = None
        self.re_review_organ: dict[str, str] | None = None
        self.hearing_started_on: str | None = None
        self.requested_on: str | None = None  # of the pending review or re-review request
        self.last_step_on = local_date(datetime.fromisoformat(at)).isoformat()
        self.notices: list[dict[str, str]] = []

    # --- lifecycle events ------------------------------------------------------------------------------------
    class Transitioned(Aggregate.Event):
        """Base of every lifecycle event: one state change of the case, with who, when, why and the clocks."""

        action: str
        status: str  # after the step
        details: dict[str, Any]
        opened: list[dict[str, Any]]  # deadlines started (or restarted) by this step
        closed: dict[str, str]  # deadline kind -> "met" | "stopped"
        actor: dict[str, Any]
        at: str  # ISO 8601
        basis: str
        correlation_id: str
        causation_id: str | None

        def apply(self, aggregate: Any) -> None:
            aggregate._apply_transition(self)

    class Transferred(Transitioned): ...
    class Assigned(Transitioned): ...
    class ReportedUp(Transitioned): ...
    class Redirected(Transitioned): ...
    class ObjectionRaised(Transitioned): ...
    class ObjectionUpheld(Transitioned): ...
    class ObjectionRejected(Transitioned): ...
    class Accepted(Transitioned): ...
    class Declined(Transitioned): ...
    class DeclinedAgain(Transitioned): ...
    class Diverted(Transitioned): ...
    class HandlingRecorded(Transitioned): ...
    class ConvertedToOrdinary(Transitioned): ...
    class Extended(Transitioned): ...
    class Replied(Transitioned): ...
    class Evaluated(Transitioned): ...
    class ReviewRequested(Transitioned): ...
    class ReviewOpened(Transitioned): ...
    class ReviewDecided(Transitioned): ...
    class ReReviewRequested(Transitioned): ...
    class ReReviewOpened(Transitioned): ...
    class HearingStarted(Transitioned): ...
    class HearingEnded(Transitioned): ...
    class ReReviewDecided(Transitioned): ...
    class Finalized(Transitioned): ...
    class Withdrawn(Transitioned): ...
    class DeadlinesRecomputed(Transitioned): ...
    class ReopenedAsNewMatter(Transitioned): ...
    class ReceivedDirectly(Transitioned): ...

    def _apply_transition(self, e: Transitioned) -> None:
        self.status = Status(e.status)
        for kind, outcome in e.closed.items():
            if kind in self.deadlines:
                self.deadlines[kind] = {**self.deadlines[kind], "status": outcome}
        for deadline in e.opened:
            self.deadlines[deadline["kind"]] = deadline
        self.last_step_on = max(self.last_step_on, local_date(datetime.fromisoformat(e.at)).isoformat())
        d = e.details
        if "organ" in d and e.action in ("route", "transfer", "assign", "decide_objection", "receive_directly"):
            self.organ, self.joining_organs = d["organ"], d.get("joining_organs", [])
            self.disposition, self.received_on = d["disposition"], d["received_on"]
        if e.action == "object":
            self.objecting_organs.append(d["organ_code"])
        elif e.action == "accept":
            self.procedure, self.accepted_on = d["procedure"], d["accepted_on"]
        elif e.action == "convert_to_ordinary":
            self.procedure = "ordinary"
        elif e.action in ("reply", "decide_review", "decide_re_review"):
            self.opinions.append({"level": d["level"], "outcome": d["outcome"], "on": d["on"]})
            if e.action == "decide_review" and d["outcome"] == "rehandle":
                self.procedure = "ordinary"
        elif e.action == "evaluate":
            self.evaluated_levels.append(d["level"])
        elif e.action in ("request_review", "request_re_review"):
            self.requested_on = d["requested_on"]
        elif e.action == "open_review":
            self.review_organ = d["review_organ"]
        elif e.action == "open_re_review":
            self.re_review_organ = d["re_review_organ"]
        elif e.action == "start_hearing":
            self.hearing_started_on = d["on"]
        elif e.action == "end_hearing":
            self.hearing_started_on = None
        elif e.action in ("decline", "decline_again"):
            self.declined_as_repeat = bool(d.get("repeat_check"))
        elif e.action == "reopen_as_new_matter":
            self.declined_as_repeat = False

    # --- queries ---------------------------------------------------------------------------------------------
    @property
    def is_closed(self) -> bool:
        return self.status in TERMINAL

    def open_deadlines(self) -> list[dict[str, Any]]:
        return sorted((d for d in self.deadlines.values() if d.get("status", "open") == "open"),
                      key=lambda d: d["due"])

    def parties(self, actor: dict[str, Any]) -> set[Party]:
        role, organ = actor.get("role"), actor.get("organ")
        if role == "admin":
            return {Party.BUREAU, Party.ORGAN, Party.REVIEWER}
        if role == "clerk":
            return {Party.BUREAU}
        if role == "petitioner":
            return {Party.PETITIONER}
        if role == "system":
            return {Party.SYSTEM}
        found: set[Party] = set()
        if role == "organ_officer" and organ:
            if self.organ and organ == self.organ["code"]:
                found.add(Party.ORGAN)
            reviewer = self.re_review_organ if self.status == Status.UNDER_RE_REVIEW else self.review_organ
            if reviewer and organ == reviewer["code"]:
                found.add(Party.REVIEWER)
        return found

    def can(self, action: str, actor: dict[str, Any]) -> bool:
        spec = ACTIONS[action]
        return self.status in spec.allowed_from and bool(spec.parties & self.parties(actor))

    def _check(self, action: str, actor: dict[str, Any]) -> None:
        spec = ACTIONS[action]
        if not spec.parties & self.parties(actor):
            raise NotPermitted("not_permitted", f"您无权对该信访事项执行“{spec.text}”操作")
        if self.status not in spec.allowed_from:
            raise IllegalTransition(action, self.status)

    def _deadline(self, kind: str) -> dict[str, Any] | None:
        found = self.deadlines.get(kind)
        return found if found and found.get("status", "open") == "open" else None

    def _within(self, kind: str, today: date, code: str, what: str) -> None:
        deadline = self._deadline(kind)
        if deadline and today > date.fromisoformat(deadline["due"]):
            raise RuleViolation(code, f"已超过{deadline['label']}（截止{deadline['due']}），不能{what}",
                                due=deadline["due"])

    def _close_open(self, outcome: str, *kinds: str) -> dict[str, str]:
        wanted = kinds or tuple(self.deadlines)
        return {k: outcome for k in wanted if self._deadline(k)}

    def _step(self, event_class: type[Transitioned], action: str, status: Status, *, actor: dict[str, Any],
              at: datetime, basis: str, details: dict[str, Any] | None = None,
              opened: list[Deadline] | None = None, closed: dict[str, str] | None = None,
              correlation_id: str, causation_id: str | None = None) -> None:
        self.trigger_event(
            event_class, action=action, status=status.value, details=details or {},
            opened=[d.as_dict() for d in opened or []], closed=closed or {}, actor=dict(actor),
            at=at.isoformat(), basis=basis, correlation_id=correlation_id, causation_id=causation_id)

    def _today(self, at: datetime) -> date:
        today = local_date(at)
        if today.isoformat() < self.last_step_on:
            raise InvalidCommand("date_before_last_step", f"日期不能早于上一办理环节（{self.last_step_on}）")
        return today

    # --- triage (bureau, or the routing rules) ---------------------------------------------------------------
    def route(self, *, disposition: str, organ: dict[str, str] | None, joining_organs: list[dict[str, str]],
              basis: str, rules: DeadlineRules, at: datetime, actor: dict[str, Any], correlation_id: str,
              causation_id: str | None = None, rule_id: str | None = None, rules_version: str | None = None,
              where_to_go: str | None = None, report_due: date | None = None, action: str = "route") -> None:
        """Triage: transfer (转送), assign (交办), report a major/urgent item up, or redirect an out-of-remit item.
        Litigation-related and report items are transfers to the political-legal / discipline organs."""
        self._check(action, actor)
        today = self._today(at)
        if action == "redirect":
            self._check_redirect(actor)
        extra = {"rule_id": rule_id, "rules_version": rules_version} if rule_id else {}
        if disposition == "report_up":
            self._step(self.ReportedUp, action, Status.REPORTED_UP, actor=actor, at=at, basis=basis,
                       details={"disposition": disposition, **extra}, closed=self._close_open("met", "major_report"),
                       correlation_id=correlation_id, causation_id=causation_id)
            return
        if disposition == "out_of_remit":
            self._step(self.Redirected, action, Status.REDIRECTED, actor=actor, at=at, basis=basis,
                       details={"disposition": disposition, "where_to_go": where_to_go or "", **extra},
                       closed=self._close_open("met", "triage") | self._close_open("stopped"),
                       correlation_id=correlation_id, causation_id=causation_id)
            return
        if organ is None:
            raise InvalidCommand("organ_required", "请指定有权处理机关")
        if organ["code"] in self.objecting_organs:
            raise InvalidCommand("objecting_organ", "异议成立的机关不能再作为有权处理机关")
        self.check_not_accused(organ, joining_organs)
        if disposition not in ("transfer", "assign", "political_legal", "discipline"):
            raise InvalidCommand("invalid_disposition", f"未知的分流方式：{disposition}")
        opened = [rules.compute("acceptance", today), rules.compute("objection", today)]
        if disposition == "assign":
            report = rules.compute("assignment_report", today)
            if report_due is not None:  # the bureau sets the report-back deadline itself (Art. 22(3))
                if report_due <= today:
                    raise InvalidCommand("invalid_report_due", "交办办结报告期限应晚于今天")
                report = replace(report, days=(report_due - today).days, unit="calendar", due=report_due.isoformat(),
                                 provisional=False)
            opened.append(report)
        closed = self._close_open("met", "triage")
        if self.status == Status.AWAITING_ACCEPTANCE:  # re-routed before acceptance: the old clocks stop
            closed |= self._close_open("stopped", "acceptance", "objection", "assignment_report")
        event_class = self.Assigned if disposition == "assign" else self.Transferred
        self._step(event_class, action, Status.AWAITING_ACCEPTANCE, actor=actor, at=at, basis=basis,
                   details={"disposition": disposition, "organ": organ, "joining_organs": joining_organs,
                            "received_on": today.isoformat(), **extra},
                   opened=opened, closed=closed, correlation_id=correlation_id, causation_id=causation_id)

    def check_not_accused(self, organ: dict[str, str] | None, joining_organs: list[dict[str, str]]) -> None:
        """2022 Regulations Art. 30: a report's materials must not be passed to the person or unit it accuses."""
        accused = [o for o in (organ, *joining_organs) if o and o["code"] in self.accused_organs]
        if accused:
            raise RuleViolation(
                "accused_organ", f"该检举控告事项反映的是{accused[0]['name']}，依照《信访工作条例》第三十条，"
                "不得将检举控告材料转送、交办给被检举控告的机关、单位，请另行确定有权处理机关")

    def _check_redirect(self, actor: dict[str, Any]) -> None:
        """The bureau redirects in triage; an organ only what it received directly (S2'), before acceptance."""
        by_bureau = Party.BUREAU in self.parties(actor)
        awaiting = self.status == Status.AWAITING_ACCEPTANCE
        if by_bureau == awaiting:
            raise IllegalTransition("redirect", self.status)
        if awaiting and self.disposition != DIRECT:
            raise RuleViolation("not_received_directly",
                                "转送、交办的信访事项不属于本机关职权范围的，应当在5个工作日内提出异议；"
                                "只有直接收到的信访事项，才由本机关告知信访人向有权机关提出")

    def receive_directly(self, *, organ: dict[str, str], rules: DeadlineRules, at: datetime,
                         actor: dict[str, Any], correlation_id: str, causation_id: str | None) -> None:
        """S2': an organ registered a petition it received itself (not through the bureau). It decides on
        acceptance within 15 days (Art. 23): accept, decline, or — not in its remit — tell the petitioner where
        to go (redirect). No objection: nobody routed it there."""
        today = self._today(at)
        self._step(self.ReceivedDirectly, "receive_directly", Status.AWAITING_ACCEPTANCE, actor=actor, at=at,
                   basis=DIRECT_BASIS,
                   details={"disposition": DIRECT, "organ": organ, "joining_organs": [],
                            "received_on": today.isoformat()},
                   opened=[rules.compute("acceptance", today)], closed=self._close_open("met", "triage"),
                   correlation_id=correlation_id, causation_id=causation_id)

    def object(self, *, reasons: str, suggested_organ: dict[str, str] | None, at: datetime,
               actor: dict[str, Any], correlation_id: str) -> None:
        """The receiving organ objects that the item is not in its remit (within 5 working days, Art. 23)."""
        self._check("object", actor)
        today = self._today(at)
        if self.disposition == DIRECT:
            raise RuleViolation("received_directly", "本机关直接收到的信访事项不适用异议；不属于本机关职权范围的，"
                                                     "请告知信访人向有权处理的机关提出")
        self._within("objection", today, "objection_window_passed", "提出异议")
        self._step(self.ObjectionRaised, "object", Status.OBJECTION_RAISED, actor=actor, at=at,
                   basis=OBJECTION_BASIS,
                   details={"organ_code": self.organ["code"] if self.organ else None, "reasons": reasons,
                            "suggested_organ": suggested_organ},
                   closed=self._close_open("met", "objection"), correlation_id=correlation_id)

    def decide_objection(self, *, upheld: bool, reasons: str, organ: dict[str, str] | None,
                         rules: DeadlineRules, at: datetime, actor: dict[str, Any], correlation_id: str) -> None:
        """The bureau verifies the objection: upheld → re-routed (to `organ`, or by the rules without the
        objecting organs); rejected → the organ must decide on acceptance as before."""
        self._check("decide_objection", actor)
        today = self._today(at)
        if not upheld:
            self._step(self.ObjectionRejected, "decide_objection", Status.AWAITING_ACCEPTANCE, actor=actor,
                       at=at, basis=OBJECTION_BASIS, details={"upheld": False, "reasons": reasons},
                       correlation_id=correlation_id)
            return
        closed = self._close_open("stopped", "acceptance", "objection", "assignment_report")
        if organ is None:
            self._step(self.ObjectionUpheld, "decide_objection", Status.REROUTING, actor=actor, at=at,
                       basis=OBJECTION_BASIS,
                       details={"upheld": True, "reasons": reasons, "excluded_organs": list(self.objecting_organs)},
                       opened=[rules.compute("triage", today)], closed=closed, correlation_id=correlation_id)
            return
        if organ["code"] in self.objecting_organs:
            raise InvalidCommand("objecting_organ", "异议成立的机关不能再作为有权处理机关")
        self.check_not_accused(organ, [])
        self._step(self.ObjectionUpheld, "decide_objection", Status.AWAITING_ACCEPTANCE, actor=actor, at=at,
                   basis=OBJECTION_BASIS,
                   details={"upheld": True, "reasons": reasons, "excluded_organs": list(self.objecting_organs),
                            "disposition": "transfer", "organ": organ, "joining_organs": [],
                            "received_on": today.isoformat()},
                   opened=[rules.compute("acceptance", today), rules.compute("objection", today)],
                   closed=closed, correlation_id=correlation_id)

    # --- acceptance (the competent organ) ---------------------------------------------------------------------
    def simplified_ineligibility(self) -> str | None:
        """Why simplified handling may not be used, or None (简易办理办法 Arts. 4-5; docs/domain.md
        §"Simplified procedure")."""
        if self.repeat_of:
            return "简易办理仅适用于初次信访事项"
        if self.disposition == "assign":
            return "上级交办的信访事项不适用简易办理"
        if self.people_count >= GROUP_SIZE or "joint_signature" in self.flags:
            return "涉及多人或者集体联名投诉的信访事项不适用简易办理"
        if self.joining_organs:
            return "涉及多个责任主体的信访事项不适用简易办理"
        return None

    def accept(self, *, procedure: str, rules: DeadlineRules, at: datetime, actor: dict[str, Any],
               correlation_id: str, notes: str = "") -> None:
        self._check("accept", actor)
        today = self._today(at)
        self._within("acceptance", today, "acceptance_window_passed", "受理")
        if procedure == "simplified":
            reason = self.simplified_ineligibility()
            if reason:
                raise RuleViolation("simplified_not_applicable", reason)
            window = rules.compute("simplified_acceptance", date.fromisoformat(self.received_on or today.isoformat()))
            if today > date.fromisoformat(window.due):
                raise RuleViolation("simplified_window_passed",
                                    f"已超过简易办理受理期限（收到后3个工作日，截止{window.due}），请按普通程序受理",
                                    due=window.due)
            handling = rules.compute("simplified_handling", today)
            status, basis = Status.SIMPLIFIED_HANDLING, f"{ACCEPT_BASIS}；{SIMPLIFIED_BASIS}"
        elif procedure == "ordinary":
            handling, status, basis = rules.compute("handling", today), Status.HANDLING, ACCEPT_BASIS
        else:
            raise InvalidCommand("invalid_procedure", "办理程序只能是普通程序（ordinary）或简易程序（simplified）")
        self._step(self.Accepted, "accept", status, actor=actor, at=at, basis=basis,
                   details={"procedure": procedure, "accepted_on": today.isoformat(), "notes": notes},
                   opened=[handling], closed=self._close_open("met", "acceptance", "objection"),
                   correlation_id=correlation_id)

    def decline(self, *, reason_code: str, explanation: str, at: datetime, actor: dict[str, Any],
                correlation_id: str, again: bool = False, earlier_petition_id: str | None = None,
                causation_id: str | None = None, repeat_check: dict[str, Any] | None = None) -> None:
        """不予受理 (or, with again=True, 不再受理) with its legal reason. `repeat_check`: the automatic decision
        on a repeat at registration (what the earlier case was), which a clerk may overturn on new facts."""
        action = "decline_again" if again else "decline"
        self._check(action, actor)
        self._today(at)
        reasons = DECLINE_AGAIN_REASONS if again else DECLINE_REASONS
        if reason_code not in reasons:
            raise InvalidCommand("invalid_reason", f"不受理理由代码无效，可选：{'、'.join(reasons)}")
        if again and not (earlier_petition_id or self.repeat_of):
            raise InvalidCommand("earlier_petition_required", "不再受理须关联此前已终结的信访事项")
        text, basis = reasons[reason_code]
        self._step(self.DeclinedAgain if again else self.Declined, action,
                   Status.NOT_ACCEPTED_AGAIN if again else Status.NOT_ACCEPTED, actor=actor, at=at, basis=basis,
                   details={"reason_code": reason_code, "reason": text, "explanation": explanation,
                            "earlier_petition_id": earlier_petition_id or self.repeat_of,
                            **({"repeat_check": repeat_check} if repeat_check else {})},
                   closed=self._close_open("met", "triage", "acceptance") | self._close_open("stopped"),
                   correlation_id=correlation_id, causation_id=causation_id)

    def decide_on_repeat(self, earlier: list[Case], *, at: datetime, correlation_id: str,
                         causation_id: str | None) -> None:
        """What a repeat (同人+同事, linked at registration) comes to, given the earlier cases (docs/domain.md
        §"Repeats and finality"): after a final case, 不再受理 (Art. 36; or Art. 35 when no review was asked for
        in time); while an earlier case is open, not accepted again — the petitioner follows the open case, or asks
        for review once an opinion is out. Earlier cases that ended without a decision on the merits (declined, withdrawn, ...)
        do not stop it: it is triaged as usual, as a repeat. Nor is anything refused automatically for a
        major/urgent item (handled urgently even on a concluded matter) or an anonymous report (matched
        on the accused party only: another reporter must not learn that an earlier report exists)."""
        if "major_urgent" in self.flags or "anonymous" in self.flags:
            return
        final = [c for c in earlier if c.status == Status.FINAL]
        open_ = [c for c in earlier if not c.is_closed]
        if final:
            case = final[0]
            levels = {o["level"] for o in case.opinions}
            reason = ("final_after_re_review" if "re_review" in levels
                      else "no_re_review_requested" if "review" in levels else "no_review_requested")
            self.decline(reason_code=reason,
                         explanation="经比对，与已终结的信访事项属同一信访人以同一事实和理由再次提出",
                         again=True, earlier_petition_id=str(case.id), at=at, actor=SYSTEM_REPEAT_CHECK,
                         correlation_id=correlation_id, causation_id=causation_id,
                         repeat_check={"earlier_petition_id": str(case.id), "earlier_status": case.status.value})
        elif open_:
            case = open_[0]
            opinion_out = case.status in AWAITING_REVIEW_REQUEST
            self.decline(reason_code="review_is_the_remedy" if opinion_out else "already_handled",
                         explanation=("已出具处理意见，如不服请在规定期限内请求复查或者复核" if opinion_out
                                      else "同一信访事项正在办理中，请通过原信访事项查询办理进展"),
                         earlier_petition_id=str(case.id), at=at, actor=SYSTEM_REPEAT_CHECK,
                         correlation_id=correlation_id, causation_id=causation_id,
                         repeat_check={"earlier_petition_id": str(case.id), "earlier_status": case.status.value})

    def reopen_as_new_matter(self, *, new_facts: str, rules: DeadlineRules, at: datetime, actor: dict[str, Any],
                             correlation_id: str) -> None:
        """A clerk finds that a petition refused automatically as a repeat raises new facts or reasons: it is
        triaged as a new matter (不再受理 covers only the same facts and reasons;
        docs/domain.md §"Repeats and finality")."""
        self._check("reopen_as_new_matter", actor)
        today = self._today(at)
        if not self.declined_as_repeat:
            raise RuleViolation("not_declined_as_repeat", "只有登记时按重复信访自动不予受理或者不再受理的事项，才能认定为新事项")
        self._step(self.ReopenedAsNewMatter, "reopen_as_new_matter", Status.REGISTERED, actor=actor, at=at,
                   basis=NEW_MATTER_BASIS, details={"new_facts": new_facts},
                   opened=[rules.compute("triage", today)], correlation_id=correlation_id)

    def divert(self, *, item: int, explanation: str, at: datetime, actor: dict[str, Any],
               correlation_id: str) -> None:
        """Into the statutory procedure the request belongs to (Art. 31(1)-(5))."""
        self._check("divert", actor)
        self._today(at)
        if item not in STATUTORY_PROCEDURES:
            raise InvalidCommand("invalid_procedure_item", "法定程序项只能是第一项至第五项（1-5）")
        self._step(self.Diverted, "divert", Status.DIVERTED, actor=actor, at=at, basis=DIVERT_BASIS,
                   details={"item": item, "procedure": STATUTORY_PROCEDURES[item], "explanation": explanation},
                   closed=self._close_open("met", "acceptance") | self._close_open("stopped"),
                   correlation_id=correlation_id)

    # --- handling ---------------------------------------------------------------------------------------------
    def record_handling(self, *, kind: str, summary: str, at: datetime, actor: dict[str, Any],
                        correlation_id: str) -> None:
        """A hearing (听证), mediation (调解), settlement (和解) or investigation step while handling."""
        self._check("record_handling", actor)
        self._today(at)
        if kind not in HANDLING_STEPS:
            raise InvalidCommand("invalid_handling_step", f"办理环节只能是：{'、'.join(HANDLING_STEPS)}")
        self._step(self.HandlingRecorded, "record_handling", self.status, actor=actor, at=at,
                   basis="《信访工作条例》第三十一条", details={"kind": kind, "summary": summary},
                   correlation_id=correlation_id)

    def convert_to_ordinary(self, *, reason: str, rules: DeadlineRules, at: datetime, actor: dict[str, Any],
                            correlation_id: str) -> None:
        """Simplified handling turned out unsuitable: the ordinary procedure, its 60 days from acceptance."""
        self._check("convert_to_ordinary", actor)
        self._today(at)
        handling = rules.compute("handling", date.fromisoformat(self.accepted_on or self.last_step_on))
        self._step(self.ConvertedToOrdinary, "convert_to_ordinary", Status.HANDLING, actor=actor, at=at,
                   basis="《信访事项简易办理办法》：不宜简易办理的，转为普通程序办理", details={"reason": reason},
                   opened=[handling], closed=self._close_open("stopped", "simplified_handling"),
                   correlation_id=correlation_id)

    def extend(self, *, days: int, reasons: str, approved_by: str, rules: DeadlineRules, at: datetime,
               actor: dict[str, Any], correlation_id: str) -> None:
        """Once, by at most 30 days, approved by the organ's head, before the 60 days run out (Art. 34)."""
        self._check("extend", actor)
        today = self._today(at)
        limit = rules.rule("extension").days
        if not 1 <= days <= limit:
            raise RuleViolation("extension_too_long", f"延长办理期限不得超过{limit}日", max_days=limit)
        if not approved_by.strip():
            raise InvalidCommand("approval_required", "延期须经本机关负责人批准，请填写批准人")
        self._within("handling", today, "handling_deadline_passed", "延期（延期须在办理期限届满前批准）")
        current = Deadline.from_dict(self.deadlines["handling"])
        extended = rules.recompute(Deadline(**{**current.as_dict(), "extra_days": days, "label": "办理期限（已延期）",
                                               "basis": f"{current.basis}；{EXTEND_BASIS}"}))
        self._step(self.Extended, "extend", Status.EXTENDED, actor=actor, at=at, basis=EXTEND_BASIS,
                   details={"days": days, "reasons": reasons, "approved_by": approved_by,
                            "previous_due": current.due},
                   opened=[extended], correlation_id=correlation_id)

    def reply(self, *, outcome: str, opinion: str, rules: DeadlineRules, at: datetime, actor: dict[str, Any],
              correlation_id: str) -> None:
        """The written opinion (信访处理意见书): support, explain or not support, with the 30-day review right."""
        self._check("reply", actor)
        today = self._today(at)
        if outcome not in OUTCOMES:
            raise InvalidCommand("invalid_outcome", "处理结果只能是：支持（support）、解释说明（explain）、不予支持（not_support）")
        if self.status == Status.SIMPLIFIED_HANDLING and outcome == "not_support":
            raise RuleViolation("simplified_not_applicable",
                                "可能不予支持的信访事项不适用简易办理，请先转为普通程序（简易办理办法第五条）")
        self._step(self.Replied, "reply", Status.REPLIED, actor=actor, at=at, basis=REPLY_BASIS,
                   details={"level": "reply", "outcome": outcome, "outcome_text": OUTCOMES[outcome],
                            "opinion": opinion, "on": today.isoformat()},
                   opened=[rules.compute("review_request", today)],
                   closed=self._close_open("met", "handling", "simplified_handling", "assignment_report"),
                   correlation_id=correlation_id)

    # --- the petitioner ----------------------------------------------------------------------------------------
    def evaluate(self, *, rating: str, comment: str, at: datetime, actor: dict[str, Any],
                 correlation_id: str, channel: str | None = None) -> None:
        """Satisfaction with the latest opinion (reply, review or re-review), once per opinion: the petitioner's
        own (online), or the petitioner's as a clerk took it on a return visit (回访) by `channel`, recorded with
        the clerk as actor. Which one it was follows from who acts, never from what the command says."""
        self._check("evaluate", actor)
        self._today(at)
        if rating not in RATINGS:
            raise InvalidCommand("invalid_rating", "评价只能是：满意、基本满意、不满意")
        by_petitioner = actor.get("role") == "petitioner"
        if by_petitioner and channel is not None:
            raise InvalidCommand("invalid_return_visit_channel", "信访人在线评价不填写回访方式")
        if not by_petitioner and channel not in RETURN_VISIT_CHANNELS:
            raise InvalidCommand("invalid_return_visit_channel",
                                 "请填写回访方式：phone（电话回访）、visit（走访）、letter（信函）")
        level = self.opinions[-1]["level"] if self.opinions else None
        if level is None or level in self.evaluated_levels:
            raise RuleViolation("already_evaluated", "您已对本次处理意见作出评价" if by_petitioner
                                else "信访人已对本次处理意见作出评价，不再记录回访评价")
        taken = {"taken_by": "petitioner", "channel": "online"} if by_petitioner else \
            {"taken_by": "return_visit", "channel": channel}
        self._step(self.Evaluated, "evaluate", self.status, actor=actor, at=at, basis=EVALUATION_BASIS,
                   details={"level": level, "rating": rating, "rating_text": RATINGS[rating], "comment": comment,
                            **taken},
                   correlation_id=correlation_id)

    def request_review(self, *, reasons: str, at: datetime, actor: dict[str, Any], correlation_id: str) -> None:
        re_review = self.status == Status.REVIEWED
        action = "request_re_review" if re_review else "request_review"
        self._check(action, actor)
        today = self._today(at)
        window = "re_review_request" if re_review else "review_request"
        self._within(window, today, f"{window}_window_passed", "申请复核" if re_review else "申请复查")
        self._step(self.ReReviewRequested if re_review else self.ReviewRequested, action,
                   Status.RE_REVIEW_REQUESTED if re_review else Status.REVIEW_REQUESTED, actor=actor, at=at,
                   basis=RE_REVIEW_BASIS if re_review else REVIEW_BASIS,
                   details={"reasons": reasons, "requested_on": today.isoformat()},
                   closed=self._close_open("met", window), correlation_id=correlation_id)

    # --- review and re-review -----------------------------------------------------------------------------
    def open_review(self, *, organ: dict[str, str], rules: DeadlineRules, at: datetime, actor: dict[str, Any],
                    correlation_id: str, re_review: bool = False) -> None:
        """The organ one level up takes the (re-)review request; its 30 days run from the request."""
        action = "open_re_review" if re_review else "open_review"
        self._check(action, actor)
        today = self._today(at)
        window, kind = ("re_review_request", "re_review") if re_review else ("review_request", "review")
        requested = Status.RE_REVIEW_REQUESTED if re_review else Status.REVIEW_REQUESTED
        if self.status == requested:
            requested_on = date.fromisoformat(self.requested_on or today.isoformat())
        else:  # a request made on paper, taken directly: it must still be within the window
            self._within(window, today, f"{window}_window_passed", "受理复核" if re_review else "受理复查")
            requested_on = today
        if self.organ and organ["code"] == self.organ["code"]:
            raise InvalidCommand("same_organ", "复查、复核应由原办理机关的上一级机关办理")
        key = "re_review_organ" if re_review else "review_organ"
        self._step(self.ReReviewOpened if re_review else self.ReviewOpened, action,
                   Status.UNDER_RE_REVIEW if re_review else Status.UNDER_REVIEW, actor=actor, at=at,
                   basis=RE_REVIEW_BASIS if re_review else REVIEW_BASIS,
                   details={key: organ, "requested_on": requested_on.isoformat()},
                   opened=[rules.compute(kind, requested_on)], closed=self._close_open("met", window),
                   correlation_id=correlation_id)

    def decide_review(self, *, outcome: str, opinion: str, rules: DeadlineRules, at: datetime,
                      actor: dict[str, Any], correlation_id: str) -> None:
        self._check("decide_review", actor)
        today = self._today(at)
        if outcome not in REVIEW_OUTCOMES:
            raise InvalidCommand("invalid_outcome", "复查结果只能是：维持（uphold）、变更（change）、撤销并责令重新办理（rehandle）")
        details = {"level": "review", "outcome": outcome, "outcome_text": REVIEW_OUTCOMES[outcome],
                   "opinion": opinion, "on": today.isoformat()}
        if outcome == "rehandle":  # the original organ handles it again, on the ordinary procedure
            self._step(self.ReviewDecided, "decide_review", Status.HANDLING, actor=actor, at=at, basis=REVIEW_BASIS,
                       details=details, opened=[rules.compute("handling", today)],
                       closed=self._close_open("met", "review"), correlation_id=correlation_id)
            return
        self._step(self.ReviewDecided, "decide_review", Status.REVIEWED, actor=actor, at=at, basis=REVIEW_BASIS,
                   details=details, opened=[rules.compute("re_review_request", today)],
                   closed=self._close_open("met", "review"), correlation_id=correlation_id)

    def start_hearing(self, *, at: datetime, actor: dict[str, Any], correlation_id: str) -> None:
        """A re-review hearing (听证): its time is not counted in the 30 days (Art. 36)."""
        self._check("start_hearing", actor)
        today = self._today(at)
        if self.hearing_started_on:
            raise RuleViolation("hearing_in_progress", f"听证已于{self.hearing_started_on}开始，尚未结束")
        self._step(self.HearingStarted, "start_hearing", self.status, actor=actor, at=at, basis=RE_REVIEW_BASIS,
                   details={"on": today.isoformat()}, correlation_id=correlation_id)

    def end_hearing(self, *, rules: DeadlineRules, at: datetime, actor: dict[str, Any], correlation_id: str) -> None:
        self._check("end_hearing", actor)
        today = self._today(at)
        if not self.hearing_started_on:
            raise RuleViolation("no_hearing", "没有正在进行的听证")
        paused = (today - date.fromisoformat(self.hearing_started_on)).days + 1
        current = Deadline.from_dict(self.deadlines["re_review"])
        resumed = rules.recompute(Deadline(**{**current.as_dict(), "paused_days": current.paused_days + paused}))
        self._step(self.HearingEnded, "end_hearing", self.status, actor=actor, at=at, basis=RE_REVIEW_BASIS,
                   details={"on": today.isoformat(), "started_on": self.hearing_started_on, "paused_days": paused},
                   opened=[resumed], correlation_id=correlation_id)

    def decide_re_review(self, *, outcome: str, opinion: str, at: datetime, actor: dict[str, Any],
                         correlation_id: str) -> None:
        """The re-review opinion is final (终结): the same facts and reasons are not accepted again (Art. 36)."""
        self._check("decide_re_review", actor)
        today = self._today(at)
        if outcome not in RE_REVIEW_OUTCOMES:
            raise InvalidCommand("invalid_outcome", "复核结果只能是：维持（uphold）、变更（change）")
        if self.hearing_started_on:
            raise RuleViolation("hearing_in_progress", "听证尚未结束，不能出具复核意见")
        self._step(self.ReReviewDecided, "decide_re_review", Status.FINAL, actor=actor, at=at, basis=RE_REVIEW_BASIS,
                   details={"level": "re_review", "outcome": outcome, "outcome_text": RE_REVIEW_OUTCOMES[outcome],
                            "opinion": opinion, "on": today.isoformat()},
                   closed=self._close_open("met", "re_review"), correlation_id=correlation_id)

    def finalize_if_window_passed(self, *, at: datetime, correlation_id: str) -> bool:
        """Final once the review (or re-review) request window passed unused; True if it did."""
        system = {"role": "system", "user": "deadline-sweep", "organ": None}
        if not self.can("finalize", system):
            return False
        window = "re_review_request" if self.status == Status.REVIEWED else "review_request"
        deadline = self._deadline(window)
        if deadline is None or local_date(at) <= date.fromisoformat(deadline["due"]):
            return False
        self._step(self.Finalized, "finalize", Status.FINAL, actor=system, at=at, basis=FINAL_BASIS,
                   details={"window": window, "window_due": deadline["due"]},
                   closed={window: "met"}, correlation_id=correlation_id)
        return True

    def withdraw(self, *, reasons: str, at: datetime, actor: dict[str, Any], correlation_id: str) -> None:
        """The petitioner applied to withdraw, giving reasons, and the bureau approved."""
        self._check("withdraw", actor)
        self._today(at)
        if not reasons.strip():
            raise InvalidCommand("reasons_required", "请填写信访人申请撤回的理由")
        self._step(self.Withdrawn, "withdraw", Status.WITHDRAWN, actor=actor, at=at, basis=WITHDRAW_BASIS,
                   details={"reasons": reasons}, closed=self._close_open("stopped"), correlation_id=correlation_id)

    def recompute_deadlines(self, *, rules: DeadlineRules, at: datetime, correlation_id: str) -> bool:
        """Count provisional deadlines again (the calendar now covers their year); True if any changed."""
        changed = []
        for deadline in self.open_deadlines():
            if not deadline.get("provisional") or "start" not in deadline:
                continue
            again = rules.recompute(Deadline.from_dict(deadline))
            if (again.due, again.provisional) != (deadline["due"], deadline["provisional"]):
                changed.append(again)
        if not changed:
            return False
        self._step(self.DeadlinesRecomputed, "recompute_deadlines", self.status,
                   actor={"role": "system", "user": "deadline-sweep", "organ": None}, at=at,
                   basis="节假日安排公布后重新计算期限",
                   details={"previous": {d.kind: self.deadlines[d.kind]["due"] for d in changed}},
                   opened=changed, correlation_id=correlation_id)
        return True

    # --- legacy and notices -------------------------------------------------------------------------------------
    @event("OrganAssigned")
    def assign_organ(
        self, *, organ: dict[str, str], basis: str, rules_version: str, at: str, correlation_id: str,
        causation_id: str,
    ) -> None:
        """Histories recorded before the lifecycle (a transfer without clocks); kept so they still load."""
        self.organ = organ
        self.disposition = "transfer"
        self.received_on = local_date(datetime.fromisoformat(at)).isoformat()
        self.status = Status.AWAITING_ACCEPTANCE

    def has_notice(self, notice_id: str) -> bool:
        return any(n["notice_id"] == notice_id for n in self.notices)

    @event("NoticeDelivered")
    def record_notice(
        self, *, notice_id: str, kind: str, title: str, channel: str, at: str, correlation_id: str, causation_id: str
    ) -> None:
        self.notices.append({"notice_id": notice_id, "kind": kind, "channel": channel})

