"""Replaying a case from the event stores of all four services (not the read models): the merged history in
recorded order with its causation links and what each step said, read generically by the audit service; and the
case as it stood at any moment (time travel), which supervision answers for its own aggregate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.audit.replay import case_aggregates, history
from services.audit.stores import EventStores
from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from services.notification import translate as notice_translate
from services.notification.application import case_aggregates as notification_aggregates
from services.notification.bootstrap import build_application as build_notification
from services.notification.settings import NotificationSettings
from services.routing.bootstrap import build_application as build_routing
from services.routing.settings import RoutingSettings
from services.supervision.bootstrap import build_application as build_supervision
from services.supervision.history import case_as_of
from services.supervision.settings import SupervisionSettings
from shared.runtime.settings import PlatformSettings
from tests.support.flow import register_and_route

TOWN_OFFICER = {"role": "organ_officer", "user": "officer1", "organ": "330106001-ZF"}


class Reader:
    """The audit service's replay, with notification's answer (which aggregates are the petition's) in hand."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings, self.stores = settings, EventStores(settings)

    def history(self, petition_id):  # noqa: ANN001, ANN201
        aggregates = case_aggregates(petition_id, notification_aggregates(petition_id))
        return history(self.stores, self.settings, aggregates)

    def close(self) -> None:
        self.stores.close()


@pytest.fixture
def driven(settings_for, closing, store):
    """A petition registered by intake, routed by routing, opened, routed and accepted in supervision — each
    service consuming the integration event the previous one published, as over the broker."""
    intake = closing(IntakeApplication(settings_for(IntakeSettings, store=store)))
    routing = closing(build_routing(settings_for(RoutingSettings, store=store)))
    supervision = closing(build_supervision(settings_for(SupervisionSettings, store=store)))
    petition_id, registered, routed = register_and_route(intake, routing, supervision)
    supervision.perform(str(petition_id), "accept", {"procedure": "ordinary"}, TOWN_OFFICER)
    reader = closing(Reader(settings_for(PlatformSettings, store=store)))
    return petition_id, reader, registered, routed, supervision


def test_the_history_merges_every_service_in_order_with_who_and_what_caused_what(driven):
    petition_id, reader, registered, routed, _supervision = driven

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


def test_the_history_shows_what_each_step_said(driven):
    petition_id, reader, _registered, _routed, supervision = driven
    pid = str(petition_id)
    supervision.perform(pid, "extend", {"days": 30, "reasons": "需调取三年来的维修档案", "approved_by": "李局长"},
                        TOWN_OFFICER)
    supervision.perform(pid, "reply", {"outcome": "support", "opinion": "已责成物业于十日内疏通污水管道"},
                        TOWN_OFFICER)

    steps = {s.event: s.fields for s in reader.history(petition_id)}

    extended, replied = steps["Case.Extended"], steps["Case.Replied"]
    assert (extended["days"], extended["reasons"], extended["approved_by"]) == (30, "需调取三年来的维修档案", "李局长")
    assert (replied["outcome"], replied["opinion"]) == ("support", "已责成物业于十日内疏通污水管道")
    assert replied["actor"] == TOWN_OFFICER and replied["opened"][0]["kind"] == "review_request"
    assert steps["Case.Accepted"]["procedure"] == "ordinary"
    assert steps["Petition.Registered"]["title"] and "petitioner" not in steps["Petition.Registered"]


def test_notices_are_replayed_from_the_aggregates_notification_names(driven, settings_for, closing, store):
    petition_id, reader, registered, _routed, _supervision = driven
    intake = closing(IntakeApplication(settings_for(IntakeSettings, store=store)))
    notification = closing(build_notification(settings_for(NotificationSettings, store=store)))
    notification.request_registration_receipt(registered,
        notice_translate.RegisteredPetition.of(registered, intake.particulars(petition_id, "notice")))

    [notice] = [s for s in reader.history(petition_id) if s.service == "notification"]

    assert (notice.event, notice.fields["kind"], notice.caused_by) == (
        "Notice.Requested", "registration_receipt", registered.id)
    assert "recipient" not in notice.fields and "body" not in notice.fields  # the person, not the process


def test_the_case_as_it_stood_at_any_moment(driven):
    petition_id, reader, _registered, _routed, supervision = driven
    history = [s for s in reader.history(petition_id) if s.service == "supervision"]
    opened, transferred, accepted = history
    pid = str(petition_id)

    assert case_as_of(supervision, pid, opened.recorded_at - timedelta(microseconds=1)) is None
    assert case_as_of(supervision, pid, opened.recorded_at)["status"] == "registered"
    assert case_as_of(supervision, pid, transferred.recorded_at)["status"] == "awaiting_acceptance"
    now = case_as_of(supervision, pid, accepted.recorded_at)
    assert (now["status"], now["procedure"], [d["kind"] for d in now["deadlines"]]) == (
        "handling", "ordinary", ["handling"])
    assert "allowed_actions" not in now and now["as_of"] == accepted.recorded_at.isoformat()
    assert case_as_of(supervision, "not-a-petition", accepted.recorded_at) is None
