"""Replaying a case from the event stores of all four services (not the read models): the merged history in
recorded order with its causation links, and the case as it stood at any moment (time travel)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from services.intake import translate as intake_translate
from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from services.routing import translate as routing_translate
from services.routing.bootstrap import build_application as build_routing
from services.routing.settings import RoutingSettings
from services.supervision.bootstrap import build_application as build_supervision
from services.supervision.settings import SupervisionSettings
from shared.audit.replay import StoreReader
from shared.contracts.registration import RegisterPetition
from shared.settings import PlatformSettings
from tests.support import samples

TOWN_OFFICER = {"role": "organ_officer", "user": "officer1", "organ": "330106001-ZF"}


@pytest.fixture
def driven(settings_for, closing, store):
    """A petition registered by intake, routed by routing, opened, routed and accepted in supervision — each
    service consuming the integration event the previous one published, as over the broker."""
    intake = closing(IntakeApplication(settings_for(IntakeSettings, store=store)))
    routing = closing(build_routing(settings_for(RoutingSettings, store=store)))
    supervision = closing(build_supervision(settings_for(SupervisionSettings, store=store)))
    receipt = intake.register_petition(RegisterPetition.model_validate(
        samples.petition(place_code="330106001", topic="urban_management")))
    petition_id = UUID(receipt["id"])
    [registered_event] = intake.events.get(petition_id)
    registered = intake_translate.to_integration_event(registered_event, 1, intake.settings.event_source("intake"))
    routing.route_registered_petition(registered)
    supervision.open_case(registered)
    [routed_event] = routing.events.get(petition_id)
    routed = routing_translate.to_integration_event(routed_event, 1, routing.settings.event_source("routing"))
    supervision.record_routing(routed)
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
