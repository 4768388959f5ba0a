"""Oversight: the platform's own watch over a case's clocks (docs/domain.md §"Deadlines"). Today it counts
provisional deadlines again once the holiday table covers their year; supervision's reminders and escalation
belong here next."""

from __future__ import annotations

from datetime import datetime

from services.supervision.case.base import CaseBase, Transitioned
from services.supervision.deadlines import Deadline, DeadlineRules
from shared.language.contracts.actor import DEADLINE_SWEEP


class Oversight(CaseBase):
    class DeadlinesRecomputed(Transitioned): ...

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
        self._step(self.DeadlinesRecomputed, "recompute_deadlines", self.status, actor=DEADLINE_SWEEP, at=at,
                   basis="节假日安排公布后重新计算期限",
                   details={"previous": {d.kind: self.deadlines[d.kind]["due"] for d in changed}},
                   opened=changed, correlation_id=correlation_id)
        return True
