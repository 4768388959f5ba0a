"""Replaying a case from the event stores of all four services (not the read models): the merged history in
recorded order with its causation links, and the case as it stood at any moment (time travel)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.audit.replay import StoreReader
from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from services.routing.bootstrap import build_application as build_routing
from services.routing.settings import RoutingSettings
from services.supervision.bootstrap import build_application as build_supervision
from services.supervision.settings import SupervisionSettings
from shared.runtime.settings import PlatformSettings
from tests.support.flow import register_and_route

TOWN_OFFICER = {"role": "organ_officer", "user": "officer1", "organ": "330106001-ZF"}


@pytest.fixture
def driven(settings_for, closing, store):
    """A petition registered by intake, routed by routing, opened, routed and accepted in supervision — each
    service consuming the integration event the previous one published, as over the broker."""
    intake = closing(IntakeApplication(settings_for(IntakeSettings, store=store)))
    routing = closing(build_routing(settings_for(RoutingSettings, store=store)))
    supervision = closing(build_supervision(settings_for(SupervisionSettings, store=store)))
    petition_id, registered, routed = register_and_route(intake, routing, supervision)
    supervision.perform(str(petition_id), "accept", {"procedure": "ordinary"}, TOWN_OFFICER)
    reader = StoreReader(settings_for(PlatformSettings, store=store))
    yield petition_id, reader, registered, routed
    reader.close()


def test_the_history_merges_every_service_in_order_with_who_and_what_caused_what(driven):
    petition_id, reader, registered, routed = driven

    history = reader.history(petition_id)

    assert [(s.service, s.event) for s in history] == [
        ("intake", "Petition.Registered"),
        ("routing", "Assignment.Routed"),
        ("supervision", "Case.Opened"),
        ("supervision", "Case.Transferred"),
        ("supervision", "Case.Accepted"),
    ]
    by_event = {s.event: s for s in history}
    assert by_event["Petition.Registered"].event_id == registered.id
    assert by_event["Case.Opened"].caused_by == registered.id  # opened because intake registered it
    assert by_event["Assignment.Routed"].caused_by == registered.id
    assert by_event["Case.Transferred"].caused_by == routed.id  # transferred because routing decided
    assert by_event["Case.Accepted"].fields["actor"] == TOWN_OFFICER
    assert "第二十三条" in by_event["Case.Accepted"].fields["basis"]
    # What the registration set off shares its correlation id; the officer's step is a request of its own.
    assert len({s.correlation_id for s in history if s.event != "Case.Accepted"}) == 1


def test_the_case_as_it_stood_at_any_moment(driven):
    petition_id, reader, _registered, _routed = driven
    history = [s for s in reader.history(petition_id) if s.service == "supervision"]
    opened, transferred, accepted = history

    assert reader.state_as_of(petition_id, opened.recorded_at - timedelta(microseconds=1)) is None
    assert reader.state_as_of(petition_id, opened.recorded_at)["status"] == "registered"
    assert reader.state_as_of(petition_id, transferred.recorded_at)["status"] == "awaiting_acceptance"
    now = reader.state_as_of(petition_id, accepted.recorded_at)
    assert (now["status"], now["procedure"], [d["kind"] for d in now["deadlines"]]) == (
        "handling", "ordinary", ["handling"])
