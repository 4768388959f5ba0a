"""Supervising (督查督办, 《信访工作条例》第三十八条至第四十条; docs/domain.md §"Supervision"): what the bureau's
supervisors do with a case, each a step of the case's history.

- A supervision order (督办), one to one: the ladder's level (催办 → 督办函 → 约谈 / 通报 → 挂牌督办), what set it
  off (overdue, shirking, delay, an opinion not carried out, a dissatisfied rating confirmed on a return visit ...),
  the demand, the organ it is addressed to and the day by which that organ must answer in writing — a deadline the
  organ holds like any duty (reminded, breached, met or late). One order is open at a time; a new one while one is
  open must climb the ladder, and replaces it. The organ answers; the supervisor accepts the answer, which closes
  the order, or rejects it with a new day to answer by.
- A recommendation of accountability (责任倒查, Arts. 44-46), citing the failing and whom it concerns, addressed to
  the organ with management authority.
- Leader ownership (领导包案, Art. 18 and local practice): a leader, a team, a plan and a day to resolve the matter
  by; while a leader owns the case, an extension needs that leader's approval (Case.extend). Progress is recorded,
  and the matter marked resolved (化解) once it is. The deadline watch proposes ownership where the triggers say so
  (Oversight.watch_deadlines), for a supervisor to confirm.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from services.supervision.case.base import CaseBase, Transitioned, takes
from services.supervision.deadlines import Deadline, DeadlineRules
from services.supervision.lifecycle import InvalidCommand, RuleViolation
from shared.language.contracts.actor import Actor
from shared.language.contracts.lifecycle import ACCOUNTABILITY_FAILINGS, SUPERVISION_LEVELS, SUPERVISION_TRIGGERS

SUPERVISE_BASIS = "《信访工作条例》第三十八条、第四十条：信访部门对有关机关、单位的信访工作进行督查督办"
ACCOUNTABILITY_BASIS = "《信访工作条例》第四十条、第四十四条至第四十六条：提出追究责任的建议"
LEADER_BASIS = "《信访工作条例》第十八条：领导干部包案化解信访突出问题"
LADDER = tuple(SUPERVISION_LEVELS)  # lowest first


def _due_by(rules: DeadlineRules, kind: str, today: date, by: date | None, what: str) -> Deadline:
    """The rule's deadline from today, or one ending on the day the supervisor set."""
    deadline = rules.compute(kind, today)
    if by is None:
        return deadline
    if by <= today:
        raise InvalidCommand("invalid_due", f"{what}应晚于今天")
    return replace(deadline, days=(by - today).days, unit="calendar", due=by.isoformat(), provisional=False)


class Supervising(CaseBase):
    supervision_order: dict[str, Any] | None
    supervised_organ: dict[str, str] | None
    leader: dict[str, Any] | None
    ownership_proposed: list[str]

    class Supervised(Transitioned):
        def keep(self, case: Any) -> None:
            case.supervised_organ = self.details["holder"]
            case.supervision_order = {k: self.details[k] for k in ("order_level", "trigger", "scope", "method", "on")}
            case.supervision_order["state"] = "open"

    class OrderAnswered(Transitioned):
        def keep(self, case: Any) -> None:
            case.supervision_order = {**(case.supervision_order or {}), "state": "answered"}

    class OrderAnswerReviewed(Transitioned):
        def keep(self, case: Any) -> None:
            accepted = self.details["accepted"]
            case.supervision_order = {**(case.supervision_order or {}), "state": "closed" if accepted else "open"}

    class AccountabilityRecommended(Transitioned): ...

    class LeaderAssigned(Transitioned):
        def keep(self, case: Any) -> None:
            case.leader = {k: self.details[k] for k in ("leader", "leader_title", "on")}

    class OwnershipProgressRecorded(Transitioned):
        def keep(self, case: Any) -> None:
            if self.details.get("resolved"):
                case.leader = {**(case.leader or {}), "resolved_on": self.details["on"]}

    class LeaderOwnershipProposed(Transitioned):
        def keep(self, case: Any) -> None:
            case.ownership_proposed = sorted({*case.ownership_proposed, *self.details["triggers"]})

    def open_to(self, action: str) -> bool:
        order = (self.supervision_order or {}).get("state")
        owned = bool(self.leader) and not (self.leader or {}).get("resolved_on")
        return {"answer_order": order == "open", "review_order_answer": order == "answered",
                "record_ownership_progress": owned, "assign_leader": not owned}.get(action, super().open_to(action))

    # --- supervision orders ----------------------------------------------------------------------------------
    @takes("supervise", lambda c, s: {"order_level": c.order_level, "trigger": c.trigger, "demand": c.demand,
                                      "respond_by": c.respond_by, "scope": c.scope, "method": c.method,
                                      "organ": s.organ(c.organ_code) if c.organ_code else None, "rules": s.rules})
    def supervise(self, *, order_level: str, trigger: str, demand: str, respond_by: date | None, scope: str, method: str,
                  organ: dict[str, str] | None, rules: DeadlineRules, at: datetime, actor: Actor,
                  correlation_id: str) -> None:
        self._check("supervise", actor)
        today = self._today(at)
        target = organ or self.organ
        if target is None:
            raise InvalidCommand("organ_required", "该信访事项尚未转送、交办，请指定督办对象（机关代码）")
        if order_level not in SUPERVISION_LEVELS or trigger not in SUPERVISION_TRIGGERS:
            raise InvalidCommand("invalid_choice", "督办方式或督办事由无效")
        current = self.supervision_order if (self.supervision_order or {}).get("state") in ("open", "answered") \
            else None
        if current and LADDER.index(order_level) <= LADDER.index(current["order_level"]):
            level_text = SUPERVISION_LEVELS[current["order_level"]]
            higher = "、".join(SUPERVISION_LEVELS[x] for x in LADDER[LADDER.index(current["order_level"]) + 1:])
            raise RuleViolation("order_open", f"已有未办结的{level_text}，再次督办须升级为{higher}" if higher else
                                f"已有未办结的{level_text}，请先审核督办对象的报告后再督办")
        response = _due_by(rules, "supervision_response", today, respond_by, "书面答复期限")
        self._step(self.Supervised, "supervise", self.status, actor=actor, at=at, basis=SUPERVISE_BASIS,
                   details={"order_level": order_level, "trigger": trigger, "demand": demand, "scope": scope, "method": method,
                            "holder": {"code": target["code"], "name": target["name"]}, "on": today.isoformat(),
                            "due": response.due, **({"previous_order_level": current["order_level"]} if current else {})},
                   opened=[response], closed=self._close_open("stopped", "supervision_response") if current else {},
                   correlation_id=correlation_id)

    @takes("answer_order", lambda c, s: {"answer": c.answer})
    def answer_order(self, *, answer: str, at: datetime, actor: Actor, correlation_id: str) -> None:
        """The supervised organ's written answer (书面报告办理情况): closes its response deadline, met or late."""
        self._check("answer_order", actor)
        today = self._today(at)
        if (self.supervision_order or {}).get("state") != "open":
            raise RuleViolation("no_open_order", "没有待答复的督办")
        self._step(self.OrderAnswered, "answer_order", self.status, actor=actor, at=at, basis=SUPERVISE_BASIS,
                   details={"answer": answer, "on": today.isoformat(), "holder": self.supervised_organ},
                   closed=self._close_open("met", "supervision_response"), correlation_id=correlation_id)

    @takes("review_order_answer", lambda c, s: {"accepted": c.accepted, "reasons": c.reasons,
                                                "respond_by": c.respond_by, "rules": s.rules})
    def review_order_answer(self, *, accepted: bool, reasons: str, respond_by: date | None, rules: DeadlineRules,
                            at: datetime, actor: Actor, correlation_id: str) -> None:
        """The supervisor accepts the answer (the order is closed) or rejects it, with a new day to answer by."""
        self._check("review_order_answer", actor)
        today = self._today(at)
        if (self.supervision_order or {}).get("state") != "answered":
            raise RuleViolation("no_answer", "督办对象尚未报告办理情况")
        opened = [] if accepted else [_due_by(rules, "supervision_response", today, respond_by, "重新答复期限")]
        self._step(self.OrderAnswerReviewed, "review_order_answer", self.status, actor=actor, at=at,
                   basis=SUPERVISE_BASIS,
                   details={"accepted": accepted, "reasons": reasons, "on": today.isoformat(),
                            "holder": self.supervised_organ, **({"due": opened[0].due} if opened else {})},
                   opened=opened, correlation_id=correlation_id)

    # --- accountability -----------------------------------------------------------------------------------------
    @takes("recommend_accountability", lambda c, s: {"failing": c.failing, "responsible": c.responsible,
                                                     "grounds": c.grounds, "organ": s.organ(c.organ_code)})
    def recommend_accountability(self, *, failing: str, responsible: str, grounds: str, organ: dict[str, str],
                                 at: datetime, actor: Actor, correlation_id: str) -> None:
        self._check("recommend_accountability", actor)
        today = self._today(at)
        if failing not in ACCOUNTABILITY_FAILINGS:
            raise InvalidCommand("invalid_failing", "追责事由无效")
        self._step(self.AccountabilityRecommended, "recommend_accountability", self.status, actor=actor, at=at,
                   basis=f"{ACCOUNTABILITY_BASIS}（{ACCOUNTABILITY_FAILINGS[failing]}）",
                   details={"failing": failing, "responsible": responsible, "grounds": grounds, "on": today.isoformat(),
                            "holder": {"code": organ["code"], "name": organ["name"]}},
                   correlation_id=correlation_id)

    # --- leader ownership ---------------------------------------------------------------------------------------
    @takes("assign_leader", lambda c, s: {"leader": c.leader, "leader_title": c.leader_title, "team": c.team,
                                          "plan": c.plan, "due": c.due, "rules": s.rules})
    def assign_leader(self, *, leader: str, leader_title: str, team: list[str], plan: str, due: date | None,
                      rules: DeadlineRules, at: datetime, actor: Actor, correlation_id: str) -> None:
        self._check("assign_leader", actor)
        today = self._today(at)
        if self.leader and not self.leader.get("resolved_on"):
            raise RuleViolation("leader_assigned", f"本事项已由{self.leader['leader']}包案")
        deadline = _due_by(rules, "leader_ownership", today, due, "化解期限")
        self._step(self.LeaderAssigned, "assign_leader", self.status, actor=actor, at=at, basis=LEADER_BASIS,
                   details={"leader": leader, "leader_title": leader_title, "team": list(team), "plan": plan,
                            "on": today.isoformat()},
                   opened=[deadline], correlation_id=correlation_id)

    @takes("record_ownership_progress", lambda c, s: {"progress": c.progress, "resolved": c.resolved})
    def record_ownership_progress(self, *, progress: str, resolved: bool, at: datetime, actor: Actor,
                                  correlation_id: str) -> None:
        self._check("record_ownership_progress", actor)
        today = self._today(at)
        if not self.leader or self.leader.get("resolved_on"):
            raise RuleViolation("no_leader", "本事项没有正在进行的领导包案")
        self._step(self.OwnershipProgressRecorded, "record_ownership_progress", self.status, actor=actor, at=at,
                   basis=LEADER_BASIS, details={"progress": progress, "resolved": resolved, "on": today.isoformat()},
                   closed=self._close_open("met", "leader_ownership") if resolved else {},
                   correlation_id=correlation_id)

    def _leader_approval(self, approved_by: str) -> None:
        """While a leader owns the case, an extension needs that leader's approval (local practice, §6.3)."""
        if self.leader and not self.leader.get("resolved_on") and approved_by.strip() != self.leader["leader"]:
            raise RuleViolation("leader_approval_required",
                                f"本事项由{self.leader['leader']}包案，延长办理期限须经包案领导批准")

    def propose_ownership(self, triggers: list[str], *, at: datetime, actor: Actor, correlation_id: str) -> bool:
        """The triggers of leader ownership this case meets and that were not proposed before: one step proposing
        them, for a supervisor to confirm (assign_leader); False if none is new or a leader owns it already."""
        new = [t for t in triggers if t not in self.ownership_proposed]
        if not new or self.leader or self.is_closed:
            return False
        self._step(self.LeaderOwnershipProposed, "propose_leader_ownership", self.status, actor=actor, at=at,
                   basis=LEADER_BASIS, details={"triggers": new}, correlation_id=correlation_id)
        return True

