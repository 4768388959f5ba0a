"""The assessment facts of every kind of stored history (tests/fixtures/supervision_stored_events_v1.json: every
kind of event supervision records, older shapes included): each history folds into its facts, and the facts read
as of a late cut-off say what the history did — the decision on acceptance, the first opinion, the organ holding
the case, the rating of that opinion (services/supervision/assessment.py, services/gateway/assessment.py)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from services.gateway.assessment import CutOff, clocked, holder
from services.supervision.assessment import facts_of
from services.supervision.bootstrap import build_application
from services.supervision.settings import SupervisionSettings

FIXTURE = Path(__file__).parents[2] / "fixtures" / "supervision_stored_events_v1.json"
RECORDED = json.loads(FIXTURE.read_text(encoding="utf-8"))
LATE = CutOff.of(date(2099, 12, 31), today=date(2100, 1, 1))
TOWN, TOWN2 = "330106001-ZF", "330106002-ZF"

# name -> (decision on acceptance, the first opinion, organs that held it in order, ratings of the first opinion)
EXPECTED: dict[str, tuple[tuple[Any, Any], tuple[Any, Any], list[str | None], list[str]]] = {
    "ordinary-to-final": (("on_time", "accepted"), ("on_time", True), [TOWN], ["basically_satisfied/petitioner"]),
    # the re-handled opinion after the review is not counted again
    "simplified-rehandled-finalized": (("on_time", "accepted"), ("on_time", True), [TOWN], []),
    "assigned-objections-diverted": (("on_time", "diverted"), (None, None), [TOWN, TOWN2], []),
    "rerouted-by-rules-declined": (("on_time", "declined"), (None, None), [TOWN, None, TOWN2], []),
    "major-reported-up-withdrawn": ((None, None), (None, None), [TOWN], []),  # withdrawn undecided: nothing due
    "reported-up-redirected": (("on_time", "redirected"), (None, None), [], []),  # the bureau's own decision
    "redirected-by-rules": (("on_time", "redirected"), (None, None), [], []),
    "received-directly": (("on_time", "redirected"), (None, None), [TOWN], []),
    "repeat-of-final": (("on_time", "declined_again"), (None, None), [], []),
    "replied-window-passed": (("on_time", "accepted"), ("on_time", True), [TOWN], []),
    "repeat-of-replied": (("on_time", "declined_again"), (None, None), [], []),  # reopened, then declined again
    "repeat-of-unswept": (("on_time", "declined_again"), (None, None), [], []),
    "recomputed": (("on_time", "accepted"), ("overdue", None), [TOWN], []),
    "repeat-of-handling": (("on_time", "declined"), (None, None), [], []),
    "older-rating": (("on_time", "accepted"), ("on_time", True), [TOWN], ["satisfied/petitioner"]),  # before taken_by
    "legacy-organ-assigned": (("overdue", None), (None, None), [TOWN], []),  # no acceptance clock: the triage one
}


@pytest.fixture(scope="module")
def supervision(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = SupervisionSettings(XINFANG_ENV="test", EVENT_STORE="sqlite",
                                   DATA_DIR=str(tmp_path_factory.mktemp("assessment-facts")))
    app = build_application(settings)
    app.recorder.insert_events([
        StoredEvent(originator_id=UUID(case["id"]), originator_version=s["version"], topic=s["topic"],
                    state=s["state"].encode("utf-8"))
        for case in RECORDED["cases"] for s in case["stored"]])
    yield app
    app.close()


def test_every_stored_history_is_expected() -> None:
    assert set(EXPECTED) == {case["name"] for case in RECORDED["cases"]}


@pytest.mark.parametrize("case", RECORDED["cases"], ids=[c["name"] for c in RECORDED["cases"]])
def test_a_stored_history_folds_into_its_dated_facts(supervision: Any, case: dict[str, Any]) -> None:
    facts = facts_of(supervision.events.get(UUID(case["id"])))
    document = facts.document
    decision, opinion, holders, ratings = EXPECTED[case["name"]]
    assert clocked(document["acceptance"], "decided", LATE) == decision
    assert clocked(document["handling"], "replied", LATE) == opinion
    assert [h["organ"] for h in document["holders"]] == holders
    assert holder(document, LATE) == (holders[-1] if holders else None)
    assert document["organs"] == [h for h in dict.fromkeys(holders) if h]
    assert [f"{r['rating']}/{r['taken_by']}" for r in document["ratings"]] == ratings
    assert facts.version == len(case["stored"])
    for timeline in ("holders", "acceptance", "handling", "ratings"):  # dated, in the order they happened
        days = [entry["on"] for entry in document[timeline]]
        assert days == sorted(days) and all(day >= document["registered_on"] for day in days), timeline
