"""The deadline watch: remind the holder of a duty before its day, record the breach after it
(services/supervision/case/oversight.py; docs/domain.md §"Supervision").

Every supervision instance runs it on a nameko timer (DEADLINE_WATCH_INTERVAL), but only one at a time acts: the
one holding the watch's lock (a PostgreSQL advisory lock on its own connection, released by the database when the
holder dies; a file lock with SQLite stores). The others stand by and take over on their next tick. The case
itself makes each reminder and breach exactly once, even if two watchers ever ran at once (a lost version race),
and a breach is recorded at its true time however long no watcher ran: catching up after downtime needs nothing
more than the next tick.

Candidates come from supervision's read model (open duties due by the farthest reminder day, not yet recorded
overdue; once a day, the cases open LEADER_OWNERSHIP_AFTER_DAYS or longer, proposed for leader ownership); the
decision is the case's own, on its history, so a stale read model only delays a fact.
Run once from the command line for ops: `python -m services.supervision.watch`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from prometheus_client import Counter, Gauge

from services.supervision.application import SupervisionApplication
from shared.language.chinatime import CHINA, local_date
from shared.language.contracts.deadlines import DEADLINE_HOLDERS
from shared.language.contracts.lifecycle import TERMINAL
from shared.language.contracts.worklists import DUE_COUNT
from shared.runtime.follower import SingleActiveLock, single_active_lock

log = logging.getLogger(__name__)

WATCHED = Counter("xinfang_deadline_watch_total", "Reminders and breaches the deadline watch recorded", ["fact"])
WATCH_ACTIVE = Gauge("xinfang_deadline_watch_active", "1 if this instance is the active deadline watch")
# Read by the active watch on each tick; a watch that lost its lock keeps its last values, so the alert rules and the
# dashboard read them only where xinfang_deadline_watch_active is 1 (deploy/prometheus/alerts.yml).
CASES_OVERDUE = Gauge("xinfang_cases_overdue", "Open cases whose duty deadline has passed (the active watch's count)")
CASES_DUE_SOON = Gauge("xinfang_cases_due_soon",
                       "Open cases whose duty deadline is today or within DUE_SOON_DAYS days (the active watch's count)")
DUE_SOON_DAYS = 7  # calendar days, the supervisors' overview's default (GET /api/v1/cases/counts)
DEFAULT_INTERVAL = 60.0  # seconds: a breach is recorded at its true time whenever it is noticed
LOCK_NAME = "deadline-watch"


def watch_candidates(horizon: date, limit: int = 10_000) -> list[str]:
    """Open cases with a duty (DEADLINE_HOLDERS) still open and due by `horizon`, not yet recorded overdue."""
    from shared.language.readmodels import CaseView  # noqa: PLC0415 - the read side where it is used (no Mongo at import)

    due = {"$elemMatch": {"status": "open", "kind": {"$in": list(DEADLINE_HOLDERS)}, "due": {"$lte": horizon.isoformat()},
                          "breached_on": None}}
    found = CaseView.objects(__raw__={"status": {"$nin": [s.value for s in TERMINAL]}, "deadlines": due})
    return [view.petition_id for view in found.only("petition_id").order_by("registered_at").limit(limit)]


def due_counts(today: date) -> tuple[int, int]:
    """(overdue, due soon) among the open cases, from the work-list projection's per-day counters (a few hundred
    small documents however many cases there are; shared/language/contracts/worklists.py count_keys)."""
    from shared.language.readmodels import CaseCount  # noqa: PLC0415 - the read side where it is used (no Mongo at import)

    first, last = today.isoformat(), (today + timedelta(days=DUE_SOON_DAYS)).isoformat()
    overdue = soon = 0
    for counter in CaseCount._get_collection().find({"count": {"$gt": 0}}):
        kind, _, day = counter["_id"].partition("|")
        if kind != DUE_COUNT:
            continue
        overdue += counter["count"] if day < first else 0
        soon += counter["count"] if first <= day <= last else 0
    return overdue, soon


def long_open_candidates(opened_before: date, limit: int = 10_000) -> list[str]:
    """Open cases registered before `opened_before` (China time): leader ownership is proposed for them once."""
    from shared.language.readmodels import CaseView  # noqa: PLC0415 - the read side where it is used (no Mongo at import)

    cutoff = datetime.combine(opened_before, time.min, tzinfo=CHINA)
    found = CaseView.objects(status__nin=[s.value for s in TERMINAL], registered_at__lt=cutoff)
    return [view.petition_id for view in found.only("petition_id").order_by("registered_at").limit(limit)]


class DeadlineWatch:
    """One instance's watch: acts while it holds the lock, stands by otherwise."""

    def __init__(self, application: SupervisionApplication, reminders: tuple[int, ...],
                 lock: SingleActiveLock | None = None,
                 candidates: Callable[[date], list[str]] = watch_candidates,
                 ownership_after_days: int | None = None,
                 long_open: Callable[[date], list[str]] = long_open_candidates,
                 counts: Callable[[date], tuple[int, int]] | None = None) -> None:
        self.application = application
        self.reminders = reminders
        self.lock = lock or single_active_lock(application.settings, "supervision", LOCK_NAME)
        self.candidates = candidates  # the cases to look at, given the farthest day a reminder may be due
        self.ownership_after_days = ownership_after_days  # LEADER_OWNERSHIP_AFTER_DAYS
        self.long_open = long_open  # the open cases registered before a day
        self.counts = counts  # (overdue, due soon) for the gauges, e.g. due_counts; None: no gauges
        self.ownership_checked_on: date | None = None  # once a day is enough: the trigger counts days
        self.active = False

    def tick(self) -> int | None:
        """Remind and record what is due now; how many facts were recorded, or None while standing by."""
        self.active = self.lock.still_held() if self.active else self.lock.try_acquire()
        WATCH_ACTIVE.set(int(self.active))
        if not self.active:
            return None
        today = local_date(self.application.clock())
        horizon = self.application.rules.calendar.add_working_days(today, max(self.reminders, default=0)).day
        recorded = self.application.watch(self.candidates(horizon), self.reminders)
        if self.ownership_after_days is not None and self.ownership_checked_on != today:
            opened_before = today - timedelta(days=self.ownership_after_days - 1)
            recorded += self.application.watch(self.long_open(opened_before), self.reminders,
                                               ownership_after_days=self.ownership_after_days)
            self.ownership_checked_on = today
        if recorded:
            WATCHED.labels("recorded").inc(recorded)
            log.info("deadline watch: %d reminders and breaches recorded", recorded)
        if self.counts is not None:
            overdue, soon = self.counts(today)
            CASES_OVERDUE.set(overdue)
            CASES_DUE_SOON.set(soon)
        return recorded

    def close(self) -> None:
        self.lock.release()
        self.active = False
        WATCH_ACTIVE.set(0)


if __name__ == "__main__":
    from services.supervision.bootstrap import build_application
    from services.supervision.settings import SupervisionSettings
    from shared.language.readmodels import connect_read_models
    from shared.runtime.observability import configure_logging

    configure_logging("supervision-watch")
    settings = SupervisionSettings()
    connect_read_models(settings.mongodb_uri)
    application = build_application(settings)
    watch = DeadlineWatch(application, settings.deadline_reminders,
                          ownership_after_days=settings.leader_ownership_after_days, counts=due_counts)
    try:
        print(json.dumps({"recorded": watch.tick()}))
    finally:
        watch.close()
        application.close()
