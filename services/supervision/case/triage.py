"""Triage (S2, S3; docs/domain.md §"Routing"): the routing rules' or the bureau's decision — transfer (转送),
assignment (交办), report up, redirection (告知) — and the receiving organ's objection (异议) with its decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any, ClassVar

from services.supervision.case.base import (
    DIRECT,
    Arguments,
    CaseBase,
    StepContext,
    Transitioned,
    keep_routing,
    takes,
)
from services.supervision.deadlines import DeadlineRules
from services.supervision.lifecycle import IllegalTransition, InvalidCommand, RuleViolation
from shared.language.contracts.actor import Actor
from shared.language.contracts.lifecycle import Party, Status

TRANSFER_BASIS = "《信访工作条例》第二十二条：按照属地管理、分级负责，谁主管、谁负责的原则转送有权处理机关"
ASSIGN_BASIS = "《信访工作条例》第二十二条第三款：重要信访事项交办有权处理机关，要求反馈结果并报送办结报告"
REPORT_UP_BASIS = "《信访工作条例》第二十二条第一款：重大、紧急信访事项报请本级党委和政府决定"
REDIRECT_BASIS = "《信访工作条例》第二十三条：不属于本机关、本系统职权范围的，告知信访人向有权处理的机关提出"
OBJECTION_BASIS = "《信访工作条例》第二十三条第三款"


def _by_the_bureau(disposition: str) -> Arguments:
    """What a clerk's transfer or assignment command routes with."""
    default_basis = ASSIGN_BASIS if disposition == "assign" else TRANSFER_BASIS

    def arguments(c: Any, s: StepContext) -> dict[str, Any]:
        return {"disposition": disposition, "action": disposition, "organ": s.organ(c.organ_code),
                "joining_organs": [s.organ(code) for code in c.joining_organ_codes if code != c.organ_code],
                "basis": c.basis or default_basis, "report_due": getattr(c, "report_due", None), "rules": s.rules}

    return arguments


class Triage(CaseBase):
    objecting_organs: list[str]
    accused_organs: list[str]

    class Transferred(Transitioned):
        published_basis: ClassVar[str | None] = TRANSFER_BASIS

        def keep(self, case: Any) -> None:
            keep_routing(case, self.details)

    class Assigned(Transitioned):
        published_basis: ClassVar[str | None] = ASSIGN_BASIS

        def keep(self, case: Any) -> None:
            keep_routing(case, self.details)

    class ReportedUp(Transitioned):
        published_basis: ClassVar[str | None] = REPORT_UP_BASIS

    class Redirected(Transitioned): ...

    class ObjectionRaised(Transitioned):
        def keep(self, case: Any) -> None:
            case.objecting_organs.append(self.details["organ_code"])

    class ObjectionUpheld(Transitioned):
        def keep(self, case: Any) -> None:
            if "organ" in self.details:  # the bureau named the new organ
                keep_routing(case, self.details)

    class ObjectionRejected(Transitioned): ...

    @takes("transfer", _by_the_bureau("transfer"))
    @takes("assign", _by_the_bureau("assign"))
    @takes("report_up", lambda c, s: {"disposition": "report_up", "action": "report_up", "organ": None,
                                      "joining_organs": [], "basis": f"{REPORT_UP_BASIS}。{c.reasons}", "rules": s.rules})
    @takes("redirect", lambda c, s: {"disposition": "out_of_remit", "action": "redirect", "organ": None,
                                     "joining_organs": [], "basis": REDIRECT_BASIS, "where_to_go": c.where_to_go,
                                     "rules": s.rules})
    def route(self, *, disposition: str, organ: dict[str, str] | None, joining_organs: list[dict[str, str]],
              basis: str, rules: DeadlineRules, at: datetime, actor: Actor, correlation_id: str,
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

    def can(self, action: str, actor: Actor) -> bool:
        """As for every step; a redirection also by who redirects when (`_check_redirect`), so that the actions
        listed to an officer are the ones they may take."""
        if not super().can(action, actor):
            return False
        if action != "redirect":
            return True
        awaiting = self.status == Status.AWAITING_ACCEPTANCE
        return (Party.BUREAU in self.parties(actor)) != awaiting and (not awaiting or self.disposition == DIRECT)

    def _check_redirect(self, actor: Actor) -> None:
        """The bureau redirects in triage; an organ only what it received directly (S2'), before acceptance."""
        by_bureau = Party.BUREAU in self.parties(actor)
        awaiting = self.status == Status.AWAITING_ACCEPTANCE
        if by_bureau == awaiting:
            raise IllegalTransition("redirect", self.status, self.actions_for(actor))
        if awaiting and self.disposition != DIRECT:
            raise RuleViolation("not_received_directly",
                                "转送、交办的信访事项不属于本机关职权范围的，应当在5个工作日内提出异议；"
                                "只有直接收到的信访事项，才由本机关告知信访人向有权机关提出")

    @takes("object", lambda c, s: {"reasons": c.reasons,
                                   "suggested_organ": s.organ(c.suggested_organ_code) if c.suggested_organ_code else None})
    def object(self, *, reasons: str, suggested_organ: dict[str, str] | None, at: datetime,
               actor: Actor, correlation_id: str) -> None:
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

    @takes("decide_objection", lambda c, s: {"upheld": c.upheld, "reasons": c.reasons,
                                             "organ": s.organ(c.organ_code) if c.organ_code else None, "rules": s.rules})
    def decide_objection(self, *, upheld: bool, reasons: str, organ: dict[str, str] | None,
                         rules: DeadlineRules, at: datetime, actor: Actor, correlation_id: str) -> None:
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
