"""Oversight: the platform's own watch over a case's clocks (docs/domain.md §"Deadlines" and §"Supervision").

It counts provisional deadlines again once the holiday table covers their year, reminds the holder of a duty
(DEADLINE_HOLDERS) before its day, and records the breach after it — each a lifecycle fact the platform records
(no party, no permission), which notification turns into an official notice to the organ (TELLS_ORGANS).

Exactly once: the case remembers, per deadline and due day, the nearest reminder sent and the breach; a second
watcher that loaded the same version loses the version race and, having reloaded, finds it done. A breach is
recorded at its true time — the first moment after the due day (county time) — however late the watcher gets to
it; a reminder whose day passed while no watcher ran is sent once, the nearest only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from services.supervision.case.base import CaseBase, Transitioned
from services.supervision.deadlines import Deadline, DeadlineRules
from shared.language.chinatime import CHINA, local_date
from shared.language.contracts.actor import DEADLINE_SWEEP, DEADLINE_WATCH
from shared.language.contracts.deadlines import DEADLINE_HOLDERS

REMIND_BASIS = "《信访工作条例》第三十七条、第三十八条：对信访事项办理情况进行督促检查"
BREACH_BASIS = "《信访工作条例》第三十八条第一项、第四十四条：未按规定期限办理信访事项"


def watch_key(deadline: dict[str, Any]) -> str:
    """A deadline as the watch knows it: its kind and due day (an extension's new day is watched anew)."""
    return f"{deadline['kind']}@{deadline['due']}"


def breach_time(due: str) -> datetime:
    """When a deadline due on `due` is breached: the first moment of the next day, county time."""
    return datetime.combine(date.fromisoformat(due) + timedelta(days=1), time.min, tzinfo=CHINA)


class Oversight(CaseBase):
    class DeadlinesRecomputed(Transitioned): ...

    class DeadlineReminded(Transitioned):
        def keep(self, case: Any) -> None:
            case.watched.setdefault(watch_key(self.details), {})["reminded"] = self.details["days"]

    class DeadlineBreached(Transitioned):
        def keep(self, case: Any) -> None:
            case.watched.setdefault(watch_key(self.details), {})["breached"] = self.details["on"]
            case.deadlines[self.details["kind"]]["breached_on"] = self.details["on"]

    watched: dict[str, dict[str, Any]]
    opened_on: str  # the day the case was opened (registered), county time

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

    def watch_deadlines(self, *, rules: DeadlineRules, reminders: Sequence[int], at: datetime,
                        correlation_id: str, ownership_after_days: int | None = None) -> int:
        """Remind and record breaches as of `at`; how many facts were recorded. `reminders`: working days before
        the due day (e.g. 3 and 1), each sent once, the nearest only when several fall due at once. A case open
        `ownership_after_days` days or more is proposed for leader ownership (once)."""
        if self.is_closed:
            return 0
        today, recorded = local_date(at), 0
        if ownership_after_days is not None and (today - date.fromisoformat(self.opened_on)).days >= \
                ownership_after_days:
            recorded += self.propose_ownership(["long_open"], at=at, actor=DEADLINE_WATCH,  # type: ignore[attr-defined]
                                               correlation_id=correlation_id)
        for deadline in self.open_deadlines():
            if deadline["kind"] not in DEADLINE_HOLDERS:
                continue
            due = date.fromisoformat(deadline["due"])
            seen = self.watched.get(watch_key(deadline), {})
            if today > due:
                if "breached" not in seen:
                    self._record_breach(deadline, correlation_id)
                    recorded += 1
                continue
            left = rules.calendar.working_days_between(today, due)  # 0 on the due day itself
            due_now = [n for n in reminders if left <= n]
            if due_now and min(due_now) < seen.get("reminded", 1 << 30):
                self._remind(deadline, min(due_now), left, at, correlation_id)
                recorded += 1
        return recorded

    def _holder(self, deadline: dict[str, Any]) -> dict[str, str] | None:
        key = DEADLINE_HOLDERS[deadline["kind"]]
        holder = getattr(self, key) if key else None
        return {"code": holder["code"], "name": holder["name"]} if holder else None

    def _remind(self, deadline: dict[str, Any], days: int, left: int, at: datetime, correlation_id: str) -> None:
        self._step(self.DeadlineReminded, "remind_deadline", self.status, actor=DEADLINE_WATCH, at=at,
                   basis=REMIND_BASIS,
                   details={"kind": deadline["kind"], "due": deadline["due"], "days": days, "days_left": left,
                            **({"holder": holder} if (holder := self._holder(deadline)) else {})},
                   correlation_id=correlation_id)

    def _record_breach(self, deadline: dict[str, Any], correlation_id: str) -> None:
        breached = breach_time(deadline["due"])
        self._step(self.DeadlineBreached, "record_breach", self.status, actor=DEADLINE_WATCH, at=breached,
                   basis=BREACH_BASIS,
                   details={"kind": deadline["kind"], "due": deadline["due"], "on": breached.date().isoformat(),
                            **({"holder": holder} if (holder := self._holder(deadline)) else {})},
                   correlation_id=correlation_id)
