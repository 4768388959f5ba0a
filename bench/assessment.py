"""(e) The assessment rates at a county's scale: 200,000 cases' assessment facts in a read-model server started as
`make run` starts it (SecantusDB, on disk), then the time to compute a year's four rates for the county and for
one organ (services/gateway/assessment.py `report`, what GET /api/v1/assessment/rates runs), beside a plain scan
of the same facts as flat event rows.

The facts are synthetic but shaped as supervision's assessment projection writes them: one `assessment_cases`
document per case (eight years of a busy county, about 25,000 petitions a year, the last months' still open), and
the cases' entries in the day documents `assessment_days` written by the projection's own `write_facts` (the
version-guarded path every batch takes). No Case events are generated: folding them is not what is measured (about
3 µs a case), and generating 200,000 real histories through the domain would take the better part of an hour.

The baseline reads the same facts as an event store holds events: one row per dated fact (the opening, each holder,
clock, decision, opinion and rating; the body JSON) in an SQLite file on disk, as the embedded default keeps its
events; the year's cases' rows are scanned by registration day (an index range) and each body decoded — no fold.
It is the floor of any computation that reads the facts as events, not the time of replaying Case aggregates
(decoding the library's events costs far more). The per-case query the rates were first computed with is timed
beside them.
"""

from __future__ import annotations

import json
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import mongoengine as me

from bench.worklists import ORGAN_WEIGHTS, SERVER_OPTIONS
from services.gateway import assessment
from services.supervision.assessment import write_facts
from shared.language.chinatime import local_date
from shared.language.places import PlaceDirectory
from shared.language.readmodels import READ_MODELS_ALIAS, AssessmentCase, AssessmentDay, connect_read_models
from tests.support.servers import SecantusServer

CASES = 200_000
YEARS = 8
SAMPLES = 5
BATCH = 2_000


def _choose(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _iso(day: date) -> str:
    return day.isoformat()


def document(rng: random.Random, registered: date, today: date, towns: list[str]) -> dict[str, Any]:
    """One case's facts as the projection writes them, as of `today` (later facts have not happened yet): the
    bureau's own decisions, withdrawals, decisions in time and late or not at all, re-routing after an objection,
    simplified and ordinary handling, extensions, opinions in time, late or outstanding, ratings online and on
    return visits, repeats."""

    def on(days: int, start: date = registered) -> str:
        return _iso(start + timedelta(days=days))

    organ = _choose(rng, ORGAN_WEIGHTS)
    holders: list[dict[str, Any]] = []
    acceptance: list[dict[str, Any]] = [{"on": on(0), "clock": "triage", "due": on(15)}]
    handling: list[dict[str, Any]] = []
    ratings: list[dict[str, Any]] = []
    routed = registered + timedelta(days=_choose(rng, {0: 30, 1: 25, 2: 15, 3: 10, 6: 10, 12: 6, 18: 4}))
    fate = rng.random()
    if fate < 0.08:  # the bureau decides it while triaging: out of remit, or declined by the repeat check
        acceptance.append({"on": on(0, routed), "decided": rng.choice(["redirected", "declined_again"])})
    elif fate < 0.10:  # withdrawn before anyone decided
        acceptance.append({"on": on(0, routed), "stopped": "withdraw"})
    else:
        holders.append({"on": on(0, routed), "organ": organ})
        acceptance.append({"on": on(0, routed), "clock": "acceptance", "due": on(15, routed)})
        if rng.random() < 0.03:  # an objection upheld: back with the bureau, then routed to another organ
            organ = _choose(rng, {o: w for o, w in ORGAN_WEIGHTS.items() if o != organ})
            holders += [{"on": on(4, routed), "organ": None}, {"on": on(7, routed), "organ": organ}]
            routed += timedelta(days=7)
            acceptance.append({"on": on(0, routed), "clock": "acceptance", "due": on(15, routed)})
        late = _choose(rng, {"in_time": 86, "late": 8, "never": 6})
        decided = routed + timedelta(days=rng.randrange(0, 16) if late == "in_time" else rng.randrange(16, 40))
        outcome = _choose(rng, {"accepted": 82, "declined": 10, "diverted": 6, "redirected": 2})
        if late != "never":
            acceptance.append({"on": _iso(decided), "decided": outcome,
                               **({"procedure": "ordinary"} if outcome == "accepted" else {})})
        if late != "never" and outcome == "accepted":
            simplified = rng.random() < 0.15
            due = decided + timedelta(days=14 if simplified else 60)
            handling.append({"on": _iso(decided), "clock": "simplified_handling" if simplified else "handling",
                             "due": _iso(due)})
            if not simplified and rng.random() < 0.08:  # an approved extension
                handling.append({"on": on(50, decided), "clock": "handling", "due": on(30, due)})
                due += timedelta(days=30)
            reply = _choose(rng, {"in_time": 85, "late": 9, "never": 4, "withdrawn": 2})
            if reply == "withdrawn":
                handling.append({"on": on(rng.randrange(1, 20), decided), "stopped": "withdraw"})
            elif reply != "never":
                replied = (decided + timedelta(days=rng.randrange(3, (due - decided).days + 1)) if reply == "in_time"
                           else due + timedelta(days=rng.randrange(1, 20)))
                handling.append({"on": _iso(replied), "replied": True, "outcome": "support"})
                if rng.random() < 0.75:
                    visit = rng.random() < 0.3
                    ratings.append({"on": on(rng.randrange(0, 25), replied), "level": "reply",
                                    "rating": _choose(rng, {"satisfied": 70, "basically_satisfied": 20,
                                                            "dissatisfied": 10}),
                                    "taken_by": "return_visit" if visit else "petitioner",
                                    "channel": "phone" if visit else "online"})
    last = _iso(today)
    timelines = {name: [e for e in entries if e["on"] <= last]  # what has not happened yet is not there
                 for name, entries in (("holders", holders), ("acceptance", acceptance), ("handling", handling),
                                       ("ratings", ratings))}
    town = rng.choice(towns)
    return {
        "_id": str(UUID(int=rng.getrandbits(128), version=4)), "version": 1 + sum(map(len, timelines.values())),
        "registered_on": _iso(registered),
        "registered_at": datetime.combine(registered, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2),
        "town": town, "channel": "online", "category": "appeal",
        "repeat_of": str(UUID(int=rng.getrandbits(128), version=4)) if rng.random() < 0.08 else None, "flags": [],
        "organs": list(dict.fromkeys(h["organ"] for h in timelines["holders"] if h["organ"])), **timelines,
    }


def documents(count: int, today: date, seed: int = 18) -> Iterator[list[dict[str, Any]]]:
    """`count` cases' documents, one list per registration day from the oldest (a few more of them lately)."""
    rng = random.Random(seed)
    towns = [town.code for town in PlaceDirectory.load().towns]
    ages = sorted((int((rng.random() ** 1.15) * YEARS * 365) for _ in range(count)), reverse=True)
    day: list[dict[str, Any]] = []
    for age in ages:
        registered = today - timedelta(days=age)
        if day and day[0]["registered_on"] != _iso(registered):
            yield day
            day = []
        day.append(document(rng, registered, today, towns))
    if day:
        yield day


def events(facts: dict[str, Any]) -> list[tuple[str, int, str, str, str, str]]:
    """The case's facts as flat event rows: (case, seq, registered_on, day, kind, body JSON), in the order of days."""
    dated = [("opened", {"on": facts["registered_on"], "town": facts["town"], "repeat_of": facts["repeat_of"]}),
             *((kind, e) for kind in ("holders", "acceptance", "handling", "ratings") for e in facts[kind])]
    dated.sort(key=lambda item: item[1]["on"])
    return [(facts["_id"], n, facts["registered_on"], e["on"], kind, json.dumps(e, separators=(",", ":")))
            for n, (kind, e) in enumerate(dated, 1)]


def seed(count: int, today: date, flat: sqlite3.Connection) -> float:
    started = time.perf_counter()
    AssessmentCase.ensure_indexes()
    flat.execute("CREATE TABLE facts (case_id TEXT, seq INTEGER, registered_on TEXT, day TEXT, kind TEXT, body TEXT,"
                 " PRIMARY KEY (case_id, seq))")
    flat.execute("CREATE INDEX facts_registered_on ON facts (registered_on)")
    batch: list[dict[str, Any]] = []
    done = 0
    for day in documents(count, today):
        # Written as the projection writes a batch: the documents, then each day's entries (both version-guarded).
        now = datetime.now(UTC)
        batch += [{**d, "updated_at": now} for d in day]
        flat.executemany("INSERT INTO facts VALUES (?, ?, ?, ?, ?, ?)", [r for d in day for r in events(d)])
        if len(batch) >= BATCH:
            write_facts(batch)
            done += len(batch)
            batch = []
            if done // (count // 10) != (done - BATCH) // (count // 10):
                print(f"      {done:,} cases seeded ({time.perf_counter() - started:.0f} s)", flush=True)
    if batch:
        write_facts(batch)
    flat.commit()
    return time.perf_counter() - started


def timed(action: Callable[[], Any], samples: int = SAMPLES) -> dict[str, float]:
    action()  # warm the server's cache and the connection
    spent = []
    for _ in range(samples):
        started = time.perf_counter()
        action()
        spent.append(time.perf_counter() - started)
    return {"median_s": statistics.median(spent), "min_s": min(spent), "max_s": max(spent), "samples": samples}


def scan(flat: sqlite3.Connection, first: date, last: date) -> int:
    """The plain scan: every fact row of the period's cases, each body decoded; how many rows."""
    rows = 0
    for _case, _kind, body in flat.execute("SELECT case_id, kind, body FROM facts WHERE registered_on BETWEEN ? AND ?",
                                           (first.isoformat(), last.isoformat())):
        json.loads(body)
        rows += 1
    return rows


def measure(today: date, flat: sqlite3.Connection) -> dict[str, Any]:
    year = today.year - 1  # the last closed calendar year
    first, last = date(year, 1, 1), date(year, 12, 31)
    choices = assessment.Choices()
    organ = max(ORGAN_WEIGHTS, key=ORGAN_WEIGHTS.__getitem__)
    county = assessment.report(first, last, today, choices)
    held = assessment.report(first, last, today, choices, organ=organ)
    plain = assessment.report(first, last, today, choices, plain=True)
    if plain != county:
        raise AssertionError("the fast path and the plain fold disagree")
    return {
        "year": year, "organ": organ, "cases_in_year": county["cases"], "organ_cases": held["cases"],
        "rates": {name: rate["rate"] for name, rate in county["rates"].items()},
        "county": timed(lambda: assessment.report(first, last, today, choices)),
        "one_organ": timed(lambda: assessment.report(first, last, today, choices, organ=organ)),
        "per_case_query": timed(lambda: assessment.report(first, last, today, choices, plain=True), samples=2),
        "scan_rows": scan(flat, first, last),
        "scan": timed(lambda: scan(flat, first, last)),
    }


def run(data_dir: Path, count: int = CASES) -> dict[str, Any]:
    server = SecantusServer(str(data_dir / "readmodels"), *SERVER_OPTIONS)
    flat = sqlite3.connect(data_dir / "facts.sqlite3")
    try:
        connect_read_models(server.uri("bench_assessment"))
        today = local_date(datetime.now(UTC))
        seconds = seed(count, today, flat)
        print(f"      seeded in {seconds:.0f} s; measuring ...", flush=True)
        figures = measure(today, flat)
        return {"cases": count, "seed_s": seconds, "days": AssessmentDay._get_collection().count_documents({}),
                **figures}
    finally:
        flat.close()
        me.disconnect(READ_MODELS_ALIAS)
        server.stop()
