"""Each lifecycle step is declared once (shared/language/contracts/lifecycle.py STEPS) and every part of the
platform that knows steps derives from it. These fail when a step lacks a part — its event on the Case, the Case
method that takes its command, its timeline text, its case.<type> in the catalogue, its officer's endpoint — or
when an event or a published type has no declared step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from services.gateway.routes.lifecycle import ACTING_ROLES, router
from services.supervision import translate
from services.supervision.case.base import TAKEN_BY, Transitioned
from services.supervision.domainmodel import Case
from services.supervision.lifecycle import ACTIONS
from shared.language.contracts.lifecycle import COMMANDS, PARTY_ROLES, STEPS, Party, StepFacts, published_steps
from shared.language.integration.catalog import CASE_STEP_TYPES

RECORDED = json.loads((Path(__file__).parents[2] / "fixtures" / "supervision_stored_events_v1.json").read_text("utf-8"))


def test_every_published_type_of_a_step_is_an_event_of_the_case_and_every_event_is_a_steps() -> None:
    declared = set(published_steps())

    events = {name for name, cls in vars(Case).items() if isinstance(cls, type) and issubclass(cls, Transitioned)}

    assert {"".join(part.title() for part in name.split("_")) for name in declared} == events, \
        "a step publishes a type no Case event has, or an event no step declares"
    for name in declared:
        event_class = getattr(Case, "".join(part.title() for part in name.split("_")))
        assert issubclass(event_class, Case.Transitioned) and translate.STEP_CLASSES[name] is event_class


def test_the_catalogue_lists_exactly_the_published_types_of_the_steps() -> None:
    assert set(CASE_STEP_TYPES) == set(published_steps())
    for event_type in CASE_STEP_TYPES.values():
        assert event_type.schema["$id"] == event_type.schema_id


def test_every_command_is_taken_by_a_method_of_the_case_and_every_taker_by_a_step() -> None:
    with_commands = {name for name, step in STEPS.items() if step.command is not None}

    assert set(TAKEN_BY) == with_commands == set(COMMANDS)
    for step, (method, arguments) in TAKEN_BY.items():
        assert callable(getattr(Case, method, None)), f"{step}: Case.{method} is missing"
        assert callable(arguments)


def test_every_officer_endpoint_is_served_by_the_gateway_with_the_steps_summary() -> None:
    routes = {route.path: route for route in router.routes if isinstance(route, APIRoute)}

    for name, step in STEPS.items():
        if step.endpoint is None:
            # Without an endpoint: the petitioner's own (by query code), or the platform's.
            assert step.command is None or Party.PETITIONER in step.parties, name
            continue
        assert step.command is not None, f"{name}: an endpoint needs a command"
        route = routes[f"/api/v1/petitions/{{petition_id}}/{step.endpoint.path}"]
        assert route.name == f"petition_{name}" and route.summary == step.endpoint.summary
        assert route.methods == {"POST"}
    paths = [step.endpoint.path for step in STEPS.values() if step.endpoint]
    assert len(paths) == len(set(paths)), "two steps share an endpoint"


def test_every_party_is_some_role_and_the_gateway_admits_an_officer_for_every_officers_step() -> None:
    assert set(PARTY_ROLES) == set(Party)
    for step in STEPS.values():
        if step.endpoint is not None:  # an officer's endpoint: some party of the step signs in and is let through
            admitted = {role for party in step.parties for role in PARTY_ROLES[party]} & set(ACTING_ROLES)
            assert admitted, f"no officer the gateway admits may take {step.name}"


def test_a_step_taken_by_no_party_is_a_fact_the_platform_records_not_a_command() -> None:
    for name, step in STEPS.items():
        assert step.allowed_from, name
        if not step.parties:
            assert step.command is None and step.endpoint is None and name not in ACTIONS


@pytest.mark.parametrize("name", list(STEPS))
def test_every_step_has_its_chinese_text_and_a_timeline(name: str) -> None:
    step = STEPS[name]

    assert step.text and callable(step.timeline)


def test_every_recorded_step_is_still_declared_and_says_something_on_the_petitioners_timeline() -> None:
    """Each lifecycle event of the recorded histories (every step declared when they were recorded), through its
    step's timeline, as the projection does: a step may be added, never dropped while histories hold it."""
    for case in RECORDED["cases"]:
        for stored in case["stored"]:
            state = json.loads(stored["state"])
            if "action" not in state:  # the case opened, a notice delivered, a legacy transfer
                continue
            facts = StepFacts(details=state["details"], basis=state["basis"], organ_name="某机关",
                              due=state["opened"][0]["due"] if state["opened"] else None)
            assert state["action"] in STEPS, f"{state['action']} is recorded but no longer declared"
            text = STEPS[state["action"]].timeline(facts)
            assert text and "None" not in text, (state["action"], text)


def test_every_due_date_on_the_petitioners_timeline_reads_as_people_write_dates() -> None:
    """A recorded due date is ISO ("2027-02-03"); the timeline says 应于2027年2月3日前办结, as the status page says it."""
    said = []
    for case in RECORDED["cases"]:
        for stored in case["stored"]:
            state = json.loads(stored["state"])
            if "action" not in state or not state["opened"]:
                continue
            facts = StepFacts(details=state["details"], basis=state["basis"], organ_name="某机关",
                              due=state["opened"][0]["due"])
            text = STEPS[state["action"]].timeline(facts) or ""
            assert state["opened"][0]["due"] not in text, (state["action"], text)
            if facts.due_day in text:
                said.append(text)
    assert any("应于" in text and "日前" in text for text in said)
    accepted = StepFacts(details={"procedure": "ordinary"}, basis="", due="2027-02-03", organ_name="示例县人力资源和社会保障局")
    assert STEPS["accept"].timeline(accepted) == "示例县人力资源和社会保障局已受理（普通程序），应于2027年2月3日前办结"
    assert STEPS["end_hearing"].timeline(accepted) == "复核听证结束，复核期限顺延至2027年2月3日"
