"""A matter a province sent the county (上级转送 / 交办): the county answers the province as the case goes.

The case keeps the province's matter as intake registered it (`provincial`: its source, event id, reference number,
mode, and for an assignment the day to report by, which opens the `province_report` deadline). Every step that
decides or concludes the matter records, in the same command, the answer owed to the province (`ProvinceAnswered`,
published as `province.matter_decided` / `province.progress_reported` / `province.matter_completed` on the exchange
only provinces read: services/supervision/translate.py): the acceptance or decline (Art. 22: the province must know
where its matter went), the progress report an assignment demands by its day (Art. 22(3)) and the completion report
(办结报告) when the opinion is issued. The answer is a fact of the case, so the auditors' history shows what the
province was told and when. (The receipt is intake's: services/intake/translate.py.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from services.supervision.case.base import CaseBase, Transitioned, takes
from services.supervision.lifecycle import RuleViolation
from shared.language.chinatime import local_date
from shared.language.contracts.actor import Actor

PROGRESS_BASIS = "《信访工作条例》第二十二条第三款：交办的信访事项，按照交办机关确定的期限报送办理情况和办结报告"
# The steps a province is told of, and as what (province.matter_decided's `decision`)
DECISIONS = {"accept": "accepted", "decline": "declined", "decline_again": "declined_again", "divert": "diverted"}


class Provincial(CaseBase):
    provincial: dict[str, Any] | None
    province_answers: list[dict[str, Any]]

    class ProgressReported(Transitioned): ...

    class ProvinceAnswered(Aggregate.Event):
        """What the county told the province of its matter (`answer`: matter_decided, progress_reported,
        matter_completed; `data`: the published answer's data)."""

        answer: str
        data: dict[str, Any]
        recipient: str  # the province's CloudEvents source
        correlation_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.province_answers.append({"answer": self.answer, "at": self.timestamp.isoformat()})

    def open_to(self, action: str) -> bool:
        if action == "report_progress":  # only a province's assignment asks for progress reports
            return bool(self.provincial) and (self.provincial or {}).get("mode") == "assign"
        return super().open_to(action)

    @takes("report_progress", lambda c, s: {"summary": c.summary})
    def report_progress(self, *, summary: str, at: datetime, actor: Actor, correlation_id: str) -> None:
        self._check("report_progress", actor)
        if not self.open_to("report_progress"):
            raise RuleViolation("not_assigned_from_above", "本事项不是上级交办事项，无需报告办理进展")
        today = self._today(at)
        self._step(self.ProgressReported, "report_progress", self.status, actor=actor, at=at, basis=PROGRESS_BASIS,
                   details={"summary": summary, "on": today.isoformat()},
                   closed=self._close_open("met", "province_report"), correlation_id=correlation_id)

    def _step(self, event_class: type[Transitioned], action: str, *args: Any, **kwargs: Any) -> None:
        super()._step(event_class, action, *args, **kwargs)
        if self.provincial:
            self._answer_province(self.pending_events[-1])  # type: ignore[attr-defined]  # the Aggregate's

    def _answer_province(self, step: Transitioned) -> None:
        matter = self.provincial or {}
        on = local_date(datetime.fromisoformat(step.at)).isoformat()
        late = step.details.get("late_days") or {}
        base = {"reference": matter["reference"], "petition_id": str(step.originator_id), "mode": matter["mode"]}
        organ = (self.organ or {}).get("code")
        if step.action in DECISIONS:
            answer, data = "matter_decided", {"decision": DECISIONS[step.action], "decided_on": on, "organ": organ,
                                              "basis": step.published_basis or step.basis}
        elif step.action == "report_progress":
            answer, data = "progress_reported", {
                "reported_on": on, "report_by": matter.get("report_by"), "status": step.status,
                "organ": organ, "summary": step.details["summary"], "late_days": late.get("province_report", 0)}
        elif step.action == "reply":
            answer, data = "matter_completed", {"replied_on": on, "outcome": step.details["outcome"], "organ": organ,
                                                "late_days": max(late.values(), default=0)}
        else:
            return
        self.trigger_event(self.ProvinceAnswered, answer=answer, data={**base, **data},  # type: ignore[attr-defined]
                           recipient=matter["source"], correlation_id=step.correlation_id)
