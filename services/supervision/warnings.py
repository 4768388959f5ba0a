"""Early warning (信访信息预警; docs/domain.md §"Early warning and hot spots"): spikes of petitions on one topic or in
one town within a window, group petitions of `WARNING_GROUP_SIZE` people or more, sensitive topics, and a matter
petitioned `WARNING_REPEAT_OCCURRENCES` times or more — each flagged once, as an `EarlyWarning` of supervision's
store, published as `case.warning_raised` (notification sends the supervisors an official notice of it) and shown
to the bureau from a read model (`warnings`, shared/language/readmodels.py WarningRecord).

**Exactly once.** A warning's id is derived (uuid5) from what it warns of: (kind, topic or town, window start) for a
spike, (kind, petition) for a group or sensitive petition, (kind, first petition of the matter) for a repeat. The
store refuses a second aggregate of the same id, so raising a warning twice — a detector run again, two instances at
once, a restart — is impossible; a refused save is "raised already".

**The detector** (`WarningWatch`) runs on a timer in every supervision instance (`WARNING_WATCH_INTERVAL`); only the
instance holding its lock acts (shared/runtime/follower.py single_active_lock, as the deadline watch), the others
stand by. Each tick reads the registrations of the last `WARNING_LOOKBACK_DAYS` (from the start of the window that
reaches back so far) from the work lists' rows (`case_rows`: registration time, topic, town, flags), counts them per
window, and raises what is due. Windows are consecutive and fixed: `WARNING_SPIKE_WINDOW_HOURS` hours each, counted
from Monday 2000-01-03 00:00 China time (24: calendar days in China; 168: weeks from Monday), so a window, and its
warning's id, is the same whoever counts it. People counts come from the case itself (the store), repeat chains from
the case views' `repeat_of` links. The read models lag the store by moments: a petition not yet in them is counted on
a later tick.

Run once from the command line for ops: `python -m services.supervision.warnings`.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event
from prometheus_client import Counter, Gauge

from shared.language.chinatime import CHINA, local_date
from shared.language.contracts.worklists import ALL, COUNTY, lane
from shared.language.readmodels import WARNING_KINDS, CaseRow, CaseView, WarningRecord, insert_new
from shared.runtime.eventstore import IntegrityError
from shared.runtime.follower import SingleActiveLock, single_active_lock

log = logging.getLogger(__name__)

RAISED = Counter("xinfang_warnings_raised_total", "Early warnings raised", ["kind"])
WARNING_WATCH_ACTIVE = Gauge("xinfang_warning_watch_active", "1 if this instance is the active warning detector")
DEFAULT_INTERVAL = 60.0  # seconds
LOCK_NAME = "warning-watch"
WARNING_NAMESPACE = uuid5(NAMESPACE_URL, "urn:xinfang:warning")
EPOCH = datetime(2000, 1, 3, tzinfo=CHINA)  # a Monday, 00:00 in China: windows are counted from it
TOPIC_SPIKE, PLACE_SPIKE, GROUP, SENSITIVE, REPEAT = "topic_spike", "place_spike", "group", "sensitive", "repeat"
if set(WARNING_KINDS) != {TOPIC_SPIKE, PLACE_SPIKE, GROUP, SENSITIVE, REPEAT}:
    raise ImportError("warnings: the kinds and the read model's labels disagree")
MAX_CHAIN = 100  # how far back a repeat chain is followed (a loop in the links stops it too)


def warning_id(kind: str, key: str, window_start: str | None) -> UUID:
    """A warning's id: what it warns of (a spike: its topic or town and its window's start; otherwise the petition,
    for a repeat the matter's first petition)."""
    return uuid5(WARNING_NAMESPACE, f"{kind}|{key}|{window_start or ''}")


class EarlyWarning(Aggregate):
    """One warning (预警), raised once: codes, counts, dates and petition ids only — no personal data, no free text."""

    @staticmethod
    def create_id(kind: str, key: str, window_start: str | None) -> UUID:  # type: ignore[override]
        return warning_id(kind, key, window_start)

    class Raised(Aggregate.Created):
        kind: str  # WARNING_KINDS
        key: str  # the topic code, the town code, the petition id (a repeat: the matter's first petition)
        window_start: str | None  # ISO instants (China) of a spike's window, end excluded; None otherwise
        window_end: str | None
        topic: str | None  # the topic code (a topic spike's, or the petition's)
        town: str | None  # the 9-digit town code (a place spike's, or where the petition's matter arose)
        count: int  # petitions in the window; people in the group; petitions of the matter; 1 (sensitive)
        threshold: int | None  # what the count reached (None: a sensitive topic has none)
        petitions: list[str]  # the petitions counted, in registration order
        at: str  # ISO: when the platform raised it
        correlation_id: str

    @event(Raised)
    def __init__(self, *, kind: str, key: str, window_start: str | None, window_end: str | None, topic: str | None,
                 town: str | None, count: int, threshold: int | None, petitions: list[str], at: str,
                 correlation_id: str) -> None:
        self.kind = kind
        self.key = key
        self.window_start = window_start
        self.window_end = window_end
        self.topic = topic
        self.town = town
        self.count = count
        self.threshold = threshold
        self.petitions = petitions
        self.at = at
        self.correlation_id = correlation_id


# --- what is due ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WarningRules:
    """The county's thresholds (WARNING_*, docs/configuration.md)."""

    window: timedelta = timedelta(hours=24)
    spike_threshold: int = 10
    group_size: int = 30
    sensitive_topics: frozenset[str] = frozenset({"land_requisition", "labour_wages", "social_security", "environment"})
    repeat_occurrences: int = 3
    lookback: timedelta = timedelta(days=7)

    @classmethod
    def of(cls, settings: Any) -> WarningRules:
        return cls(window=timedelta(hours=settings.warning_spike_window_hours),
                   spike_threshold=settings.warning_spike_threshold, group_size=settings.warning_group_size,
                   sensitive_topics=settings.sensitive_topics, repeat_occurrences=settings.warning_repeat_occurrences,
                   lookback=timedelta(days=settings.warning_lookback_days))


def window_of(moment: datetime, window: timedelta) -> tuple[datetime, datetime]:
    """The fixed window (start, end excluded) an instant falls in, in China time."""
    start = EPOCH + ((moment - EPOCH) // window) * window
    return start, start + window


@dataclass(frozen=True)
class Candidate:
    """A warning that is due (raised unless it was before)."""

    kind: str
    key: str
    window_start: str | None
    window_end: str | None
    topic: str | None
    town: str | None
    count: int
    threshold: int | None
    petitions: tuple[str, ...]

    @property
    def id(self) -> UUID:
        return warning_id(self.kind, self.key, self.window_start)


def _ordered(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: (row["registered_at"], row["_id"]))


def spikes(rows: Sequence[dict[str, Any]], rules: WarningRules) -> list[Candidate]:
    """The windows in which one topic, or one town, counts `spike_threshold` registrations or more."""
    counted: dict[tuple[str, str, datetime], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        start, _end = window_of(row["registered_at"], rules.window)
        if row.get("topic"):
            counted[(TOPIC_SPIKE, row["topic"], start)].append(row)
        if row.get("town"):
            counted[(PLACE_SPIKE, row["town"], start)].append(row)
    found = []
    for (kind, key, start), within in sorted(counted.items()):
        if len(within) < rules.spike_threshold:
            continue
        found.append(Candidate(kind=kind, key=key, window_start=start.isoformat(),
                               window_end=(start + rules.window).isoformat(),
                               topic=key if kind == TOPIC_SPIKE else None, town=key if kind == PLACE_SPIKE else None,
                               count=len(within), threshold=rules.spike_threshold,
                               petitions=tuple(row["_id"] for row in _ordered(within))))
    return found


def petition_warnings(rows: Sequence[dict[str, Any]], rules: WarningRules, people_of: Callable[[str], int],
                      chain_of: Callable[[str], list[str]]) -> list[Candidate]:
    """Each petition's own warnings: a group of `group_size` people or more (a group petition, flagged `group`
    from 5 people, counted from the case), a sensitive topic, and a matter petitioned `repeat_occurrences` times or
    more (`chain_of`: the petitions of the matter, the first first, by their repeat links)."""
    found = []
    for row in _ordered(rows):
        petition, topic, town, flags = row["_id"], row.get("topic"), row.get("town"), row.get("flags") or ()
        if "group" in flags and (people := people_of(petition)) >= rules.group_size:
            found.append(Candidate(GROUP, petition, None, None, topic, town, people, rules.group_size, (petition,)))
        if topic in rules.sensitive_topics:
            found.append(Candidate(SENSITIVE, petition, None, None, topic, town, 1, None, (petition,)))
        if "repeat" in flags and len(chain := chain_of(petition)) >= rules.repeat_occurrences:
            found.append(Candidate(REPEAT, chain[0], None, None, topic, town, len(chain), rules.repeat_occurrences,
                                   tuple(chain)))
    return found


# --- reading the read models ----------------------------------------------------------------------------------------
def _sortable(moment: datetime) -> str:
    """An instant as `by_registered` spells it (services/supervision/worklists.py)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def registrations(since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The cases registered from `since` to `until` (excluded), from the county's lane of the work lists: one range
    of the index (lanes, by_registered)."""
    found = CaseRow._get_collection().find(
        {"lanes": lane(COUNTY, ALL), "by_registered": {"$gt": _sortable(since), "$lt": _sortable(until)}},
        {"registered_at": 1, "topic": 1, "town": 1, "flags": 1})
    return [row for row in found if row.get("registered_at") is not None]


def repeat_chain(petition_id: str) -> list[str]:
    """The petitions of the matter `petition_id` repeats, the first first, ending with it (the case views'
    `repeat_of` links). Empty while a view on the way is not in the read model (yet): the matter's first petition,
    the warning's key, is not known until it is, and a warning keyed by another would be a second one."""
    chain, seen, current = [petition_id], {petition_id}, petition_id
    views = CaseView._get_collection()
    for _step in range(MAX_CHAIN):
        view = views.find_one({"_id": current}, {"repeat_of": 1})
        if view is None:
            return []
        earlier = view.get("repeat_of")
        if not earlier or earlier in seen:
            break
        chain.append(earlier)
        seen.add(earlier)
        current = earlier
    return chain[::-1]


# --- raising ----------------------------------------------------------------------------------------------------
def raise_warning(application: Any, candidate: Candidate, at: datetime) -> bool:
    """Raise `candidate` in `application`'s store: True if raised now, False if it was raised before (by this or
    another instance: its id is taken, and the store refuses the second)."""
    if application.recorder.select_events(candidate.id, limit=1):
        return False
    warning = EarlyWarning(kind=candidate.kind, key=candidate.key, window_start=candidate.window_start,
                           window_end=candidate.window_end, topic=candidate.topic, town=candidate.town,
                           count=candidate.count, threshold=candidate.threshold, petitions=list(candidate.petitions),
                           at=at.isoformat(), correlation_id=str(uuid.uuid4()))
    try:
        application.save(warning)
    except IntegrityError:  # another instance raised it meanwhile
        return False
    RAISED.labels(candidate.kind).inc()
    return True


class WarningWatch:
    """One instance's detector: acts while it holds the lock, stands by otherwise."""

    def __init__(self, application: Any, rules: WarningRules, lock: SingleActiveLock | None = None,
                 rows: Callable[[datetime, datetime], list[dict[str, Any]]] = registrations,
                 chain_of: Callable[[str], list[str]] = repeat_chain) -> None:
        self.application = application  # supervision's: its store, its clock
        self.rules = rules
        self.lock = lock or single_active_lock(application.settings, "supervision", LOCK_NAME)
        self.rows = rows
        self.chain_of = chain_of
        self.active = False
        self._known: set[UUID] = set()  # the warnings this instance found raised (by anyone)
        self._people: dict[str, int] = {}  # a petition's people count never changes

    def candidates(self, now: datetime) -> list[Candidate]:
        since, _end = window_of(now - self.rules.lookback, self.rules.window)
        found = self.rows(since, now)
        return spikes(found, self.rules) + petition_warnings(found, self.rules, self._people_of, self.chain_of)

    def _people_of(self, petition_id: str) -> int:
        if petition_id not in self._people:
            try:
                case = self.application.repository.get(UUID(petition_id))
            except AggregateNotFoundError:  # a read model ahead of a restored store: not counted (not remembered)
                log.warning("warning watch: case %s not found", petition_id)
                return 0
            self._people[petition_id] = int(case.people_count)
        return self._people[petition_id]

    def tick(self) -> int | None:
        """Raise what is due now: how many warnings were raised, or None while standing by."""
        self.active = self.lock.still_held() if self.active else self.lock.try_acquire()
        WARNING_WATCH_ACTIVE.set(int(self.active))
        if not self.active:
            return None
        now = self.application.clock()
        raised = 0
        for candidate in self.candidates(now):
            if candidate.id in self._known:
                continue
            if raise_warning(self.application, candidate, now):
                raised += 1
                log.info("early warning %s raised: %s %s, %d", candidate.id, candidate.kind, candidate.key,
                         candidate.count)
            self._known.add(candidate.id)
        return raised

    def close(self) -> None:
        self.lock.release()
        self.active = False
        WARNING_WATCH_ACTIVE.set(0)


# --- the read model ---------------------------------------------------------------------------------------------
def record_of(raised: Any) -> dict[str, Any]:
    """The `warnings` document of a Raised event."""
    at = datetime.fromisoformat(raised.at)
    return {"_id": str(raised.originator_id), "kind": raised.kind, "key": raised.key, "topic": raised.topic,
            "town": raised.town, "window_start": raised.window_start, "window_end": raised.window_end,
            "count": raised.count, "threshold": raised.threshold, "petitions": list(raised.petitions),
            "raised_at": at, "raised_on": local_date(at).isoformat()}


class WarningProjection:
    """supervision's store → `warnings`: one document per warning, written once (a replay finds it there)."""

    name = "warnings"
    gather_seconds = 2.0  # the list of warnings raised; each warning's notice goes out from the service

    def __init__(self, application: Any = None) -> None:
        self._application = application

    def drop(self) -> None:
        WarningRecord.drop_collection()
        WarningRecord.ensure_indexes()

    def prepare(self) -> None:
        WarningRecord.ensure_indexes()

    def apply_batch(self, items: Sequence[tuple[int, Any]]) -> None:
        insert_new(WarningRecord._get_collection(),
                   [record_of(e) for _position, e in items if isinstance(e, EarlyWarning.Raised)])


if __name__ == "__main__":
    from services.supervision.bootstrap import build_application
    from services.supervision.settings import SupervisionSettings
    from shared.language.readmodels import connect_read_models
    from shared.runtime.observability import configure_logging

    configure_logging("supervision-warnings")
    settings = SupervisionSettings()
    connect_read_models(settings.mongodb_uri)
    application = build_application(settings)
    watch = WarningWatch(application, WarningRules.of(settings))
    try:
        print(json.dumps({"raised": watch.tick()}))
    finally:
        watch.close()
        application.close()
