"""The day documents (`assessment_days`) that the rates are read from give the figures the plain fold of the
per-case documents gives (services/gateway/assessment.py `report(plain=True)`): a few thousand randomized cases,
their documents written version after version through the projection's own write path in shuffled batches —
replays, older versions after newer ones, the same batch twice — then the rates for many periods, cut-offs,
organs, towns and settings, both ways. And the day documents are filled in from `assessment_cases` for a
deployment that had only those (services/supervision/assessment.py `prepare`)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.gateway import assessment
from services.supervision.assessment import FILLED, AssessmentProjection, entry_of, write_facts
from shared.language.readmodels import AssessmentCase, AssessmentDay

ORGANS = ["330106001-ZF", "330106002-ZF", "330106-RSJ", "330106-ZJJ", "330106-GAJ"]
TOWNS = ["330106001", "330106002", "330106003"]
START = date(2025, 1, 1)
CASES = 3_000


def _day(start: date, days: int) -> str:
    return (start + timedelta(days=days)).isoformat()


def history(rng: random.Random, number: int) -> list[dict[str, Any]]:
    """One case's documents as the projection writes them version after version: random timelines (clocks,
    decisions, stops, re-holders, extensions, opinions, ratings of every kind) growing one fact at a time."""
    registered = START + timedelta(days=rng.randrange(0, 540))
    facts: list[tuple[str, dict[str, Any]]] = [("acceptance", {"on": _day(registered, 0), "clock": "triage",
                                                               "due": _day(registered, 15)})]
    day = 0
    for _ in range(rng.randrange(0, 9)):
        day += rng.choice([0, 0, 1, 3, 9, 20, 45])
        on = _day(registered, day)
        kind = rng.choice(["holder", "clock", "decided", "stopped", "hclock", "replied", "hstopped", "rating"])
        if kind == "holder":
            facts.append(("holders", {"on": on, "organ": rng.choice([*ORGANS, None])}))
        elif kind == "clock":
            facts.append(("acceptance", {"on": on, "clock": rng.choice(["acceptance", "simplified_acceptance"]),
                                         "due": _day(registered, day + rng.randrange(-3, 20))}))
        elif kind == "decided":
            facts.append(("acceptance", {"on": on, "decided": rng.choice(
                ["accepted", "declined", "declined_again", "diverted", "redirected"])}))
        elif kind == "stopped":
            facts.append(("acceptance", {"on": on, "stopped": "withdraw"}))
        elif kind == "hclock":
            facts.append(("handling", {"on": on, "clock": rng.choice(["handling", "simplified_handling"]),
                                       "due": _day(registered, day + rng.randrange(-5, 70))}))
        elif kind == "replied":
            facts.append(("handling", {"on": on, "replied": True, "outcome": "support"}))
        elif kind == "hstopped":
            facts.append(("handling", {"on": on, "stopped": rng.choice(["withdraw", "divert"])}))
        else:
            facts.append(("ratings", {"on": on, "level": "reply",
                                      "rating": rng.choice(["satisfied", "basically_satisfied", "dissatisfied"]),
                                      "taken_by": rng.choice(["petitioner", "return_visit"]), "channel": "online"}))
    case_id = str(UUID(int=rng.getrandbits(128), version=4))
    fixed = {"_id": case_id, "registered_on": registered.isoformat(), "town": rng.choice([*TOWNS, None]),
             "channel": "online", "category": "appeal", "flags": [],
             "repeat_of": f"earlier-{number}" if rng.random() < 0.15 else None}
    versions = []
    for version in range(1, len(facts) + 1):
        timelines: dict[str, list[dict[str, Any]]] = {"holders": [], "acceptance": [], "handling": [], "ratings": []}
        for kind, fact in facts[:version]:
            timelines[kind].append(dict(fact))
        organs = list(dict.fromkeys(h["organ"] for h in timelines["holders"] if h["organ"]))
        versions.append({**fixed, "version": version, "organs": organs, **timelines})
    return versions


@pytest.fixture
def cases(read_models: str) -> dict[str, dict[str, Any]]:
    """Every case's versions written in shuffled batches, each version at least once, some twice, some older ones
    after newer ones; the latest version of each case by id."""
    rng = random.Random(20261204)
    histories = [history(rng, n) for n in range(CASES)]
    writes = [doc for versions in histories for doc in versions]
    writes += rng.sample(writes, len(writes) // 4)  # replays and stale versions, shuffled in among the rest
    rng.shuffle(writes)
    batch: dict[str, dict[str, Any]] = {}
    for doc in writes:
        if doc["_id"] in batch:  # a batch holds one document per case, as the projection's do
            write_facts(list(batch.values()))
            batch = {}
        batch[doc["_id"]] = doc
        if len(batch) == 250:
            write_facts(list(batch.values()))
            batch = {}
    write_facts(list(batch.values()))
    return {versions[-1]["_id"]: versions[-1] for versions in histories}


PERIODS = [(date(2025, 1, 1), date(2025, 12, 31)), (date(2025, 3, 1), date(2025, 3, 31)),
          (date(2025, 6, 15), date(2026, 6, 14)), (date(2026, 2, 1), date(2026, 2, 1)),
          (date(2024, 12, 1), date(2027, 1, 10))]
TODAYS = [date(2026, 1, 10), date(2025, 3, 20), date(2027, 6, 1)]  # after, within and long after the periods
CHOICES = [assessment.Choices(), assessment.Choices(not_yet_due_counts=True, basically_satisfied_counts=False,
                                                    return_visits_count=False)]
SCOPES = [(None, None), (ORGANS[0], None), (ORGANS[2], None), (None, TOWNS[1]), (ORGANS[1], TOWNS[0])]


def test_the_day_documents_hold_the_latest_facts_and_give_the_figures_of_the_plain_fold(cases):
    # Whatever order the versions came in, each document and each entry is the case's latest
    stored = {d["_id"]: d for d in AssessmentCase._get_collection().find()}
    assert {k: {f: v for f, v in d.items() if f != "updated_at"} for k, d in stored.items()} == cases
    entries = {case_id: (day["_id"], entry) for day in AssessmentDay._get_collection().find()
               for case_id, entry in day["cases"].items()}
    assert entries == {case_id: (doc["registered_on"], entry_of(doc)) for case_id, doc in cases.items()}
    # The same figures both ways, for every period, cut-off, scope and setting
    counted = 0
    for first, last in PERIODS:
        for today in TODAYS:
            for choices in CHOICES:
                for organ, town in SCOPES:
                    fast = assessment.report(first, last, today, choices, organ=organ, town=town)
                    plain = assessment.report(first, last, today, choices, organ=organ, town=town, plain=True)
                    assert fast == plain, (first, last, today, choices, organ, town)
                    counted += fast["cases"]
    assert counted > 10 * CASES


def test_a_deployment_with_only_the_case_documents_gets_its_day_documents_filled_in(read_models):
    rng = random.Random(18)
    latest = [history(rng, n)[-1] for n in range(300)]
    AssessmentCase._get_collection().insert_many([dict(d) for d in latest])  # as the first version wrote them
    days = AssessmentDay._get_collection()
    projection = AssessmentProjection(application=None)
    projection.prepare()  # no marker: filled in from assessment_cases
    assert days.find_one({"_id": FILLED}) is not None
    entries = {case_id: (day["_id"], entry) for day in days.find({"_id": {"$ne": FILLED}})
               for case_id, entry in day["cases"].items()}
    assert entries == {doc["_id"]: (doc["registered_on"], entry_of(doc)) for doc in latest}
    days.delete_many({"_id": {"$ne": FILLED}})
    projection.prepare()  # the marker is there: nothing is done again
    assert days.count_documents({}) == 1
    projection.drop()  # a rebuild writes both as it goes: marked filled from the start
    assert days.find_one({"_id": FILLED}) is not None and days.count_documents({}) == 1
