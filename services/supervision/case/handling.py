"""Handling (S5-S8, S13; docs/domain.md §"Lifecycle", §"Satisfaction evaluation"): what the organ records while
handling (hearing, mediation, settlement, investigation), conversion from the simplified procedure, extension
(Art. 34), the written opinion (信访处理意见书), the petitioner's rating of each opinion, and withdrawal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from services.supervision.case.base import CaseBase, Transitioned, keep_opinion, takes
from services.supervision.case.receipt import provisional_window
from services.supervision.deadlines import Deadline, DeadlineRules
from services.supervision.lifecycle import InvalidCommand, RuleViolation
from shared.language.contracts.actor import Actor, Role
from shared.language.contracts.lifecycle import HANDLING_STEPS, RATINGS, RETURN_VISIT_CHANNELS, Status
from shared.language.contracts.lifecycle import REPLY_OUTCOMES as OUTCOMES

# Who gave a rating to the platform (Evaluated details `taken_by`): the petitioner online, with the query code and
# the ID number's last six characters, or a clerk who asked the petitioner on a return visit (回访), by `channel`.
# Evaluated events recorded before this distinction lack both keys: they were the petitioner's, online.
RATING_TAKEN_BY = ("petitioner", "return_visit")
EXTEND_BASIS = "《信访工作条例》第三十四条：经本机关负责人批准，可以适当延长办理期限，延长期限不得超过30日"
REPLY_BASIS = "《信访工作条例》第三十二条、第三十四条：出具信访处理意见书，并告知信访人可在30日内请求复查"
EVALUATION_BASIS = "《信访事项办理群众满意度评价工作办法》"
WITHDRAW_BASIS = "信访人申请撤回，经信访部门同意"


class Handling(CaseBase):
    accepted_on: str | None
    procedure: str | None
    opinions: list[dict[str, Any]]  # reply, review, re-review opinions in order
    evaluated_levels: list[str]

    class HandlingRecorded(Transitioned): ...

    class ConvertedToOrdinary(Transitioned):
        def keep(self, case: Any) -> None:
            case.procedure = "ordinary"

    class Extended(Transitioned): ...

    class Replied(Transitioned):
        def keep(self, case: Any) -> None:
            keep_opinion(case, self.details)

    class Evaluated(Transitioned):
        published_defaults: ClassVar[dict[str, Any]] = {"taken_by": "petitioner", "channel": "online"}

        def keep(self, case: Any) -> None:
            case.evaluated_levels.append(self.details["level"])

    class Withdrawn(Transitioned): ...

    @takes("record_handling", lambda c, s: {"kind": c.kind, "summary": c.summary})
    def record_handling(self, *, kind: str, summary: str, at: datetime, actor: Actor, correlation_id: str) -> None:
        """A hearing (听证), mediation (调解), settlement (和解) or investigation step while handling."""
        self._check("record_handling", actor)
        self._today(at)
        if kind not in HANDLING_STEPS:
            raise InvalidCommand("invalid_handling_step", f"办理环节只能是：{'、'.join(HANDLING_STEPS)}")
        self._step(self.HandlingRecorded, "record_handling", self.status, actor=actor, at=at,
                   basis="《信访工作条例》第三十一条", details={"kind": kind, "summary": summary},
                   correlation_id=correlation_id)

    @takes("convert_to_ordinary", lambda c, s: {"reason": c.reason, "rules": s.rules})
    def convert_to_ordinary(self, *, reason: str, rules: DeadlineRules, at: datetime, actor: Actor,
                            correlation_id: str) -> None:
        """Simplified handling turned out unsuitable: the ordinary procedure, its 60 days from acceptance."""
        self._check("convert_to_ordinary", actor)
        self._today(at)
        handling = rules.compute("handling", date.fromisoformat(self.accepted_on or self.last_step_on))
        self._step(self.ConvertedToOrdinary, "convert_to_ordinary", Status.HANDLING, actor=actor, at=at,
                   basis="《信访事项简易办理办法》：不宜简易办理的，转为普通程序办理", details={"reason": reason},
                   opened=[handling], closed=self._close_open("stopped", "simplified_handling"),
                   correlation_id=correlation_id)

    @takes("extend", lambda c, s: {"days": c.days, "reasons": c.reasons, "approved_by": c.approved_by, "rules": s.rules})
    def extend(self, *, days: int, reasons: str, approved_by: str, rules: DeadlineRules, at: datetime,
               actor: Actor, correlation_id: str) -> None:
        """Once, by at most 30 days, approved by the organ's head, before the 60 days run out (Art. 34)."""
        self._check("extend", actor)
        today = self._today(at)
        limit = rules.rule("extension").days
        if not 1 <= days <= limit:
            raise RuleViolation("extension_too_long", f"延长办理期限不得超过{limit}日", max_days=limit)
        if not approved_by.strip():
            raise InvalidCommand("approval_required", "延期须经本机关负责人批准，请填写批准人")
        self._leader_approval(approved_by)  # type: ignore[attr-defined]  # Supervising's: a leader owns the case
        self._within("handling", today, "handling_deadline_passed", "延期（延期须在办理期限届满前批准）")
        current = Deadline.from_dict(self.deadlines["handling"])
        extended = rules.recompute(Deadline(**{**current.as_dict(), "extra_days": days, "label": "办理期限（已延期）",
                                               "basis": f"{current.basis}；{EXTEND_BASIS}"}))
        self._step(self.Extended, "extend", Status.EXTENDED, actor=actor, at=at, basis=EXTEND_BASIS,
                   details={"days": days, "reasons": reasons, "approved_by": approved_by,
                            "previous_due": current.due},
                   opened=[extended], correlation_id=correlation_id)

    @takes("reply", lambda c, s: {"outcome": c.outcome, "opinion": c.opinion, "rules": s.rules,
                                  "opinion_basis": c.opinion_basis})
    def reply(self, *, outcome: str, opinion: str, rules: DeadlineRules, at: datetime, actor: Actor,
              correlation_id: str, opinion_basis: str | None = None) -> None:
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
                            "opinion": opinion, "on": today.isoformat(),
                            **({"opinion_basis": opinion_basis} if opinion_basis else {})},
                   opened=[provisional_window(rules, "review_request", today)],  # until the opinion's receipt
                   closed=self._close_open("met", "handling", "simplified_handling", "assignment_report"),
                   correlation_id=correlation_id)

    @takes("evaluate", lambda c, s: {"rating": c.rating, "comment": c.comment, "channel": c.return_visit_channel})
    def evaluate(self, *, rating: str, comment: str, at: datetime, actor: Actor,
                 correlation_id: str, channel: str | None = None) -> None:
        """Satisfaction with the latest opinion (reply, review or re-review), once per opinion: the petitioner's
        own (online), or the petitioner's as a clerk took it on a return visit (回访) by `channel`, recorded with
        the clerk as actor. Which one it was follows from who acts, never from what the command says."""
        self._check("evaluate", actor)
        self._today(at)
        if rating not in RATINGS:
            raise InvalidCommand("invalid_rating", "评价只能是：满意、基本满意、不满意")
        by_petitioner = actor.role == Role.PETITIONER
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

    @takes("withdraw", lambda c, s: {"reasons": c.reasons})
    def withdraw(self, *, reasons: str, at: datetime, actor: Actor, correlation_id: str) -> None:
        """The petitioner applied to withdraw, giving reasons, and the bureau approved (from any open state)."""
        self._check("withdraw", actor)
        self._today(at)
        if not reasons.strip():
            raise InvalidCommand("reasons_required", "请填写信访人申请撤回的理由")
        self._step(self.Withdrawn, "withdraw", Status.WITHDRAWN, actor=actor, at=at, basis=WITHDRAW_BASIS,
                   details={"reasons": reasons}, closed=self._close_open("stopped"), correlation_id=correlation_id)
