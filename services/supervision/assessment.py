"""The assessment projection: supervision's store → `assessment_cases`, one document of dated facts per case, from
which the gateway computes the four assessment rates (及时受理率, 按期答复率, 参评率, 满意率; docs/assessment.md).

A document is a pure function of its case's history. It holds no personal data and no free text: the registration
day (China), town, channel, category, whether it repeats an earlier petition, and three small timelines, each
entry dated with the local day its step was taken, in the order of the history:

- `holders`: which organ held the case from which day (None while the bureau triages it), the organ evaluated;
- `acceptance`: the clocks the decision on acceptance ran against (`clock`: triage, acceptance or
  simplified_acceptance, with its `due` day), the decision (`decided`: accepted, declined, declined_again, diverted,
  redirected) and a clock stopped without one (`stopped`: withdrawn);
- `handling`: up to the first opinion (处理意见书), the handling clocks (handling, simplified_handling, with an
  approved extension's new due day when it was approved), the reply (`replied`), or a clock stopped (`stopped`:
  withdrawn, diverted while handling);
- `ratings`: the petitioner's rating of that opinion (day, level, online or on a return visit).

Because every fact keeps its day, the gateway counts a period as of the end of its last day by leaving out what
happened later: a later event never changes a closed period's figures. Timeliness is decided there by comparing a
step's day with the clock's due day, never from the outcome a step records on the deadline it closed.

Mechanics as the work lists' rows (services/supervision/worklists.py): a worker of its own in the supervision
projector process with its own position; the state of the cases it followed lately is kept in memory, a batch that
opens a case is folded from the batch, any other case from the store; a document is written only when it changed,
guarded by its version (`{_id, version < v}` with an upsert: a replayed or older document never overwrites a newer
one, the duplicate key such an upsert meets is a replay). Dropped and rebuilt with the other read models
(`python -m services.supervision.projector --rebuild`).

The same facts are kept a second time, packed by registration day: `assessment_days` (AssessmentDay) holds one
document per day (China) whose `cases` map each case registered that day to its entry — its version, town and
organs, and the fields the rates read as one compact JSON text. A report reads a period as one document per day
instead of one per case (a read-model server pays per document and per value: docs/assessment.md
§"Performance"). Each entry is written beside its document, in the same batch, guarded by its own version (an
update pipeline: an entry is replaced only by a newer one), so a replay, a batch retried after a failure half-way
or a second projector process never puts an older entry back.
`prepare` fills the day documents from `assessment_cases` once when a deployment that wrote only those starts this
version (the marker document `filled` says it is done; a drop sets it, since the projection then writes both).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pymongo import ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError

from services.supervision.domainmodel import Case
from services.supervision.projections import PROJECTION_FAILURES, followed
from shared.language.chinatime import local_date
from shared.language.contracts.lifecycle import TRIAGE, Status
from shared.language.readmodels import DUPLICATE_KEY, AssessmentCase, AssessmentDay
from shared.runtime.recentaggregates import RecentItems

log = logging.getLogger(__name__)
TOWN_DIGITS = 9
# The clocks a decision on acceptance runs against: the bureau's while it triages (信访部门), the organ's once the
# case was routed to it or it received the case directly; the simplified one if a rules file ever opens it.
ACCEPTANCE_CLOCKS = ("triage", "acceptance", "simplified_acceptance")
HANDLING_CLOCKS = ("handling", "simplified_handling")
# A decision on acceptance, by the step that takes it (a redirection is told by its status: `route` redirects too).
DECISIONS = {"accept": "accepted", "decline": "declined", "decline_again": "declined_again", "divert": "diverted"}
# A case's entry in its registration day's document: the version it reflects, what a report filters by (`town`,
# `organs`) and, as one compact JSON text (`facts`), what the rates read (services/gateway/assessment.py). One text
# rather than nested documents: the read-model server decodes and encodes one string per case, not some twenty
# values (docs/assessment.md §"Performance"). `registered_on` is the day document's id.
FACT_FIELDS = ("repeat_of", "holders", "acceptance", "handling", "ratings")
ENTRY_FIELDS = ("version", "town", "organs", *FACT_FIELDS)
FILLED = "filled"  # the marker in `assessment_days`: every document of `assessment_cases` has its entry
FILL_BATCH = 1_000


@dataclass
class Facts:
    """One case's facts as the projection folds them."""

    version: int
    document: dict[str, Any]  # the `assessment_cases` document without its version
    replied: bool = False  # the first opinion is out: the handling timeline is complete
    written: dict[str, Any] | None = field(default=None)  # the document as last written, without its version


def _day(at: str) -> str:
    return local_date(datetime.fromisoformat(at)).isoformat()


def _opened(facts: Facts, event: Any) -> None:
    """The case's opening: what is known at registration, and the triage clock."""
    place = event.place_code or ""
    on = _day(event.at)
    facts.document = {
        "_id": str(event.originator_id), "registered_on": on, "registered_at": datetime.fromisoformat(event.at),
        "town": place[:TOWN_DIGITS] if len(place) >= TOWN_DIGITS else None, "channel": event.channel,
        "category": event.category, "repeat_of": event.repeat_of, "flags": list(event.flags), "organs": [],
        "holders": [], "acceptance": [
            {"on": on, "clock": d["kind"], "due": d["due"]} for d in event.deadlines if d["kind"] in ACCEPTANCE_CLOCKS],
        "handling": [], "ratings": [],
    }


def _hold(facts: Facts, on: str, organ: str | None) -> None:
    holders = facts.document["holders"]
    if (holders[-1]["organ"] if holders else None) != organ:
        holders.append({"on": on, "organ": organ})
    if organ and organ not in facts.document["organs"]:
        facts.document["organs"].append(organ)


def _step(facts: Facts, event: Any) -> None:
    """One lifecycle step: who holds the case, and what it did to the acceptance and handling clocks."""
    on = _day(event.at)
    status = Status(event.status)
    details = event.details
    document = facts.document
    organ = details["organ"]["code"] if isinstance(details.get("organ"), dict) else None
    if status in TRIAGE:
        _hold(facts, on, None)
    elif organ:
        _hold(facts, on, organ)
    opened = {d["kind"]: d["due"] for d in event.opened}
    stopped = {kind for kind, outcome in event.closed.items() if outcome == "stopped"}

    outcome = DECISIONS.get(event.action) or ("redirected" if status is Status.REDIRECTED else None)
    if outcome:
        decided: dict[str, Any] = {"on": on, "decided": outcome}
        if event.action == "accept":
            decided["procedure"] = details.get("procedure")
        document["acceptance"].append(decided)
    elif clocks := [k for k in ACCEPTANCE_CLOCKS if k in opened]:
        document["acceptance"].extend({"on": on, "clock": k, "due": opened[k]} for k in clocks)
    elif stopped & set(ACCEPTANCE_CLOCKS):
        document["acceptance"].append({"on": on, "stopped": event.action})

    if facts.replied:
        pass  # only the first opinion is counted (a re-handling after a review is the reviewing organ's matter)
    elif event.action == "reply":
        document["handling"].append({"on": on, "replied": True, "outcome": details.get("outcome")})
        facts.replied = True
    elif clocks := [k for k in HANDLING_CLOCKS if k in opened]:
        document["handling"].extend({"on": on, "clock": k, "due": opened[k]} for k in clocks)
    elif stopped & set(HANDLING_CLOCKS):
        document["handling"].append({"on": on, "stopped": event.action})

    if event.action == "evaluate" and details.get("level") == "reply":
        # Ratings recorded before return visits existed lack `taken_by`: they were the petitioner's, online.
        document["ratings"].append({"on": on, "level": "reply", "rating": details["rating"],
                                    "taken_by": details.get("taken_by", "petitioner"),
                                    "channel": details.get("channel", "online")})


def advance(facts: Facts | None, event: Any) -> Facts:
    """The facts after one more event of the case (`facts` is None before Case.Opened)."""
    if isinstance(event, Case.Opened):
        facts = Facts(version=0, document={})
        _opened(facts, event)
    elif facts is None:
        raise ValueError(f"case {event.originator_id} history does not start with Case.Opened")
    elif isinstance(event, Case.Transitioned):
        _step(facts, event)
    elif isinstance(event, Case.OrganAssigned):  # histories recorded before the lifecycle: no clocks
        _hold(facts, _day(event.at), event.organ["code"])
    facts.version = event.originator_version
    return facts


def facts_of(events: Iterable[Any]) -> Facts:
    facts: Facts | None = None
    for event in events:
        facts = advance(facts, event)
    if facts is None:
        raise ValueError("no events")
    return facts


class AssessmentProjection:
    name = "assessment_cases"
    gather_seconds = 2.0  # the rates are read per day and period: seconds behind cost nothing, and each batch
    # rewrites its registration day's whole document

    def __init__(self, application: Any, recent_cases: int = 5_000) -> None:
        self._application = application  # supervision's: histories are read from its store
        self._recent: RecentItems[str, Facts] = RecentItems(recent_cases)

    def drop(self) -> None:
        self._recent.clear()
        AssessmentCase.drop_collection()
        AssessmentCase.ensure_indexes()
        AssessmentDay.drop_collection()
        _mark_filled()  # from now on every document is written with its entry

    def prepare(self) -> None:
        """A new deployment's position starts at zero, so the facts are filled in from the whole store as the
        projector catches up. A deployment whose `assessment_cases` were written before the day documents existed
        gets them filled in from those documents, once (each entry guarded by its version, so a projector following
        meanwhile loses nothing)."""
        if AssessmentDay._get_collection().find_one({"_id": FILLED}, {"_id": 1}) is None:
            fill_days()

    def _facts(self, case_id: UUID, events: list[Any]) -> Facts | None:
        """The case's facts after the batch's `events`; None when the documents already show them (a replay)."""
        return followed(self._recent, case_id, events, version=lambda facts: facts.version, advance=advance,
                        fold=facts_of, history=lambda case, last: self._application.events.get(case, lte=last))

    def apply_batch(self, items: Sequence[tuple[int, Any]]) -> None:
        batch: dict[UUID, list[Any]] = {}
        for _sequence, event in items:
            if isinstance(event, Case.Event):
                batch.setdefault(event.originator_id, []).append(event)
        now = datetime.now(UTC)
        changed: list[tuple[Facts, dict[str, Any]]] = []
        followed = []
        for case_id, events in batch.items():
            try:
                facts = self._facts(case_id, events)
                if facts is None:
                    continue
            except Exception:
                # One case that cannot be counted must not hold back the others: its document stays as it was, and
                # is made afresh from the store with its next event.
                PROJECTION_FAILURES.labels(self.name).inc()
                log.exception("case %s: cannot count events %s", case_id, [e.originator_version for e in events])
                continue
            if facts.document != facts.written:
                changed.append((facts, {**facts.document, "version": facts.version, "updated_at": now}))
            followed.append(facts)
        if changed:
            write_facts([doc for _, doc in changed])
            for facts, _ in changed:
                facts.written = _copy(facts.document)
        for facts in followed:  # only once written: a failed batch is folded again from the store
            self._recent.put(facts.document["_id"], facts)


def write_facts(documents: Sequence[dict[str, Any]]) -> None:
    """Write cases' documents (each with its `version`) and their entries in the day documents, each guarded by the
    version: what is there at the same or a later version stays. The entries are written even where the document
    was refused as a replay: a batch that failed between the two writes leaves an entry behind its document, and
    its retry (refused for the document, newer for the entry) brings the entry up to it."""
    if not documents:
        return
    try:
        AssessmentCase._get_collection().bulk_write(
            [ReplaceOne({"_id": d["_id"], "version": {"$lt": d["version"]}}, d, upsert=True) for d in documents],
            ordered=False)
    except BulkWriteError as error:
        # A duplicate key: the document is there at this version or a later one (a replay), left alone.
        if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
            raise
    AssessmentDay._get_collection().bulk_write(day_writes(documents), ordered=False)


def entry_of(document: dict[str, Any]) -> dict[str, Any]:
    """A case's entry in its registration day's document."""
    facts = json.dumps({name: document.get(name) for name in FACT_FIELDS}, ensure_ascii=False, separators=(",", ":"))
    return {"version": document["version"], "town": document.get("town"), "organs": document.get("organs") or [],
            "facts": facts}


def _newer(case_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The expression of an update pipeline that sets a case's entry unless one as new or newer is there."""
    path = f"$cases.{case_id}"
    return {"$cond": [{"$lt": [{"$ifNull": [f"{path}.version", -1]}, entry["version"]]}, {"$literal": entry}, path]}


def day_writes(documents: Iterable[dict[str, Any]]) -> list[UpdateOne]:
    """One update per registration day of `documents`, each entry guarded by its version."""
    by_day: dict[str, dict[str, dict[str, Any]]] = {}
    for document in documents:
        by_day.setdefault(document["registered_on"], {})[str(document["_id"])] = entry_of(document)
    return [UpdateOne({"_id": day}, [{"$set": {f"cases.{case_id}": _newer(case_id, entry)
                                               for case_id, entry in entries.items()}}], upsert=True)
            for day, entries in sorted(by_day.items())]


def fill_days() -> int:
    """Every document of `assessment_cases` into its day's document (guarded as always), then the marker; how
    many. Interrupted, it is done again from the start at the next start of the projector."""
    days = AssessmentDay._get_collection()
    filled = 0
    batch: list[dict[str, Any]] = []
    for document in AssessmentCase._get_collection().find({}, {"registered_on": 1, **dict.fromkeys(ENTRY_FIELDS, 1)}):
        batch.append(document)
        if len(batch) == FILL_BATCH:
            days.bulk_write(day_writes(batch), ordered=False)
            filled, batch = filled + len(batch), []
    if batch:
        days.bulk_write(day_writes(batch), ordered=False)
        filled += len(batch)
    _mark_filled()
    log.info("assessment_days filled in from %d documents of assessment_cases", filled)
    return filled


def _mark_filled() -> None:
    AssessmentDay._get_collection().update_one({"_id": FILLED}, {"$set": {"cases": {}}}, upsert=True)


def _copy(document: dict[str, Any]) -> dict[str, Any]:
    """A copy deep enough that later steps (which append to the lists) do not change what was written."""
    return {k: ([dict(x) if isinstance(x, dict) else x for x in v] if isinstance(v, list) else v)
            for k, v in document.items()}
