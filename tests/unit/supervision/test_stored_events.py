"""Stored events stay loadable: the events an earlier version of supervision stored (every kind of event it
records, tests/fixtures/supervision_stored_events_v1.json, made by tests/fixtures/record_supervision_events.py)
load through today's mapper into the same case, the same view (timeline included) and the same published
events, and today's Case records its events under the same topics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from services.supervision.bootstrap import build_application
from services.supervision.domainmodel import Case
from services.supervision.settings import SupervisionSettings
from tests.fixtures.record_supervision_events import expected

FIXTURE = Path(__file__).parents[2] / "fixtures" / "supervision_stored_events_v1.json"
# Officers' steps added after the fixture was recorded: open on an old case too.
ADDED_SINCE = {"supervise", "recommend_accountability", "assign_leader"}
RECORDED = json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def supervision(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = SupervisionSettings(XINFANG_ENV="test", EVENT_STORE="sqlite",
                                   DATA_DIR=str(tmp_path_factory.mktemp("stored-events")))
    app = build_application(settings)
    app.recorder.insert_events([
        StoredEvent(originator_id=UUID(case["id"]), originator_version=s["version"], topic=s["topic"],
                    state=s["state"].encode("utf-8"))
        for case in RECORDED["cases"] for s in case["stored"]])
    yield app
    app.close()


@pytest.mark.parametrize("case", RECORDED["cases"], ids=[c["name"] for c in RECORDED["cases"]])
def test_a_stored_history_loads_into_the_same_case_view_and_published_events(supervision: Any,
                                                                              case: dict[str, Any]) -> None:
    loaded = expected(supervision, UUID(case["id"]))

    # What the earlier version had stays as it was; what a later release added to the case or its view (the case
    # file, the opinions, the topic, ...) an old history gets from its events or their upcast defaults.
    assert as_recorded(loaded["state"], case["expected"]["state"]) == case["expected"]["state"]
    recorded, actions = dict(case["expected"]["summary"]), set(loaded["summary"]["allowed_actions"])
    had = set(recorded.pop("allowed_actions"))
    assert {k: v for k, v in loaded["summary"].items() if k != "allowed_actions"} == recorded
    # The actions open on an old case are those it had, and the supervisor's added since (issue 18).
    assert had <= actions and actions - had <= ADDED_SINCE
    # status, deadlines and the petitioner's timeline
    assert as_recorded(loaded["view"], case["expected"]["view"]) == case["expected"]["view"]
    assert loaded["published"] == case["expected"]["published"]


def as_recorded(loaded: dict[str, Any], recorded: dict[str, Any]) -> dict[str, Any]:
    return {key: loaded.get(key, "(missing)") for key in recorded}


def test_todays_case_records_every_kind_of_event_under_its_stored_topic() -> None:
    today = {get_topic(getattr(Case, topic.rpartition(".")[2])) for topic in RECORDED["topics"]}

    assert today == set(RECORDED["topics"])
