"""Acceptance (S2', S3-x, S4, S4s; docs/domain.md §"Routing", §"Repeats and finality", §"Simplified procedure"):
what the organ received directly, acceptance (ordinary or simplified), 不予受理 and 不再受理 (also by the repeat
check at registration), a repeat found to raise new facts, and diversion into a statutory procedure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from services.supervision.case.base import DIRECT, Arguments, CaseBase, Transitioned, keep_routing, takes
from services.supervision.deadlines import DeadlineRules
from services.supervision.lifecycle import InvalidCommand, RuleViolation
from shared.language.contracts.actor import REPEAT_CHECK, Actor
from shared.language.contracts.lifecycle import AWAITING_REVIEW_REQUEST, Status
from shared.language.contracts.reference import DECLINE_AGAIN_REASONS, DECLINE_REASONS, STATUTORY_PROCEDURES

# Group petitions (docs/domain.md §"Group petitions and representatives"): five or more people elect
# representatives; multi-party items are excluded from simplified handling (简易办理办法 Art. 5(4)).
GROUP_SIZE = 5
# The legal reasons for 不予受理 and 不再受理 and the statutory procedures of Art. 31(1)-(5) are declared in the
# platform's language (the gateway serves them as reference data and may not import a service).
ACCEPT_BASIS = "《信访工作条例》第二十三条：属于本机关职权范围的，告知信访人接收情况以及处理途径和程序"
SIMPLIFIED_BASIS = "《信访事项简易办理办法》第四条"
DIVERT_BASIS = "《信访工作条例》第三十一条第一项至第五项：导入相应法定程序"
DIRECT_BASIS = ("《信访工作条例》第二十三条：有关机关、单位直接收到信访人提出的信访事项，属于本机关职权范围的，"
                "应当告知信访人接收情况以及处理途径和程序")
NEW_MATTER_BASIS = "《信访工作条例》第三十六条：不再受理限于同一事实和理由；提出新的事实和理由的，作为新的信访事项登记办理"


def _declined(again: bool) -> Arguments:
    return lambda c, s: {"reason_code": c.reason_code, "explanation": c.explanation, "again": again,
                         "earlier_petition_id": str(c.earlier_petition_id) if c.earlier_petition_id else None}


class _Declined(Transitioned):
    def keep(self, case: Any) -> None:
        case.declined_as_repeat = bool(self.details.get("repeat_check"))


class Acceptance(CaseBase):
    repeat_of: str | None
    people_count: int
    flags: list[str]
    procedure: str | None  # ordinary | simplified
    accepted_on: str | None
    opinions: list[dict[str, Any]]
    declined_as_repeat: bool

    class ReceivedDirectly(Transitioned):
        def keep(self, case: Any) -> None:
            keep_routing(case, self.details)

    class Accepted(Transitioned):
        def keep(self, case: Any) -> None:
            case.procedure, case.accepted_on = self.details["procedure"], self.details["accepted_on"]

    class Declined(_Declined): ...

    class DeclinedAgain(_Declined): ...

    class ReopenedAsNewMatter(Transitioned):
        def keep(self, case: Any) -> None:
            case.declined_as_repeat = False

    class Diverted(Transitioned): ...

    def receive_directly(self, *, organ: dict[str, str], rules: DeadlineRules, at: datetime,
                         actor: Actor, correlation_id: str, causation_id: str | None) -> None:
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

    @takes("accept", lambda c, s: {"procedure": c.procedure, "notes": c.notes, "rules": s.rules})
    def accept(self, *, procedure: str, rules: DeadlineRules, at: datetime, actor: Actor,
               correlation_id: str, notes: str = "") -> None:
        """After the 15 days too: the organ must still decide, and the acceptance is recorded late (Case._step)."""
        self._check("accept", actor)
        today = self._today(at)
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

    @takes("decline", _declined(again=False))
    @takes("decline_again", _declined(again=True))
    def decline(self, *, reason_code: str, explanation: str, at: datetime, actor: Actor,
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

    def decide_on_repeat(self, earlier: Sequence[Any], *, at: datetime, correlation_id: str,
                         causation_id: str | None) -> None:
        """What a repeat (同人+同事, linked at registration) comes to, given the earlier cases (docs/domain.md
        §"Repeats and finality"): after a final case, 不再受理 (Art. 36; or Art. 35 when no review was asked for
        in time); while an earlier case is open, not accepted again — the petitioner follows the open case, or asks
        for review once an opinion is out. Earlier cases that ended without a decision on the merits (declined,
        withdrawn, ...) do not stop it: it is triaged as usual, as a repeat. Nor is anything refused automatically
        for a major/urgent item (handled urgently even on a concluded matter) or an anonymous report (matched
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
                         again=True, earlier_petition_id=str(case.id), at=at, actor=REPEAT_CHECK,
                         correlation_id=correlation_id, causation_id=causation_id,
                         repeat_check={"earlier_petition_id": str(case.id), "earlier_status": case.status.value})
        elif open_:
            case = open_[0]
            opinion_out = case.status in AWAITING_REVIEW_REQUEST
            self.decline(reason_code="review_is_the_remedy" if opinion_out else "already_handled",
                         explanation=("已出具处理意见，如不服请在规定期限内请求复查或者复核" if opinion_out
                                      else "同一信访事项正在办理中，请通过原信访事项查询办理进展"),
                         earlier_petition_id=str(case.id), at=at, actor=REPEAT_CHECK,
                         correlation_id=correlation_id, causation_id=causation_id,
                         repeat_check={"earlier_petition_id": str(case.id), "earlier_status": case.status.value})

    @takes("reopen_as_new_matter", lambda c, s: {"new_facts": c.new_facts, "rules": s.rules})
    def reopen_as_new_matter(self, *, new_facts: str, rules: DeadlineRules, at: datetime, actor: Actor,
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

    @takes("divert", lambda c, s: {"item": c.item, "explanation": c.explanation})
    def divert(self, *, item: int, explanation: str, at: datetime, actor: Actor, correlation_id: str) -> None:
        """Into the statutory procedure the request belongs to (Art. 31(1)-(5))."""
        self._check("divert", actor)
        self._today(at)
        if item not in STATUTORY_PROCEDURES:
            raise InvalidCommand("invalid_procedure_item", "法定程序项只能是第一项至第五项（1-5）")
        self._step(self.Diverted, "divert", Status.DIVERTED, actor=actor, at=at, basis=DIVERT_BASIS,
                   details={"item": item, "procedure": STATUTORY_PROCEDURES[item], "explanation": explanation},
                   closed=self._close_open("met", "acceptance") | self._close_open("stopped"),
                   correlation_id=correlation_id)
