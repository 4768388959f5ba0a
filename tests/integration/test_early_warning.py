"""Early warning on supervision's real store (PostgreSQL and SQLite) and a real read-model server (SecantusDB), with a
clock the tests move (services/supervision/warnings.py): a spike raises one warning however often and from however
many instances the detector runs; below the threshold none; a group of 30, a sensitive topic and a matter petitioned
three times each raise one; the warning is published without personal data and its notice is requested once; the
API lists the warnings to the bureau and refuses organ officers.

Registrations are cases opened from `petition.registered` (tests/support/samples.py), projected into the work lists'
rows and the case views by supervision's real projections, as the detector reads them."""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from kombu import Connection

from services.notification import translate as notice_translate
from services.notification.bootstrap import build_application as build_notification
from services.notification.domainmodel import notice_id
from services.notification.settings import NotificationSettings
from services.supervision import translate
from services.supervision.bootstrap import build_application
from services.supervision.projections import CaseViewProjection
from services.supervision.settings import SupervisionSettings
from services.supervision.warnings import (
    EarlyWarning,
    WarningProjection,
    WarningRules,
    WarningWatch,
    raise_warning,
    registrations,
    repeat_chain,
)
from services.supervision.worklists import CaseRowProjection
from shared.language.integration.envelope import IntegrationEvent
from shared.language.readmodels import CaseView, WarningRecord
from shared.runtime.eventstore import DUPLICATE, PROCESSED
from shared.runtime.messaging import topology
from shared.runtime.outbox import OutboxRelay
from shared.runtime.projector import Projector
from tests.support import samples
from tests.support.clock import MovableClock
from tests.support.gateway_app import headers

AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
RULES = WarningRules(spike_threshold=5)
TOWNS = ("330106001", "330106002", "330106003")
RAISED_TOPIC = "services.supervision.warnings:EarlyWarning.Raised"


class AlwaysHeld:
    """A lock every detector holds: two detectors acting at once, as if the single-active lock had failed."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass


class County:
    def __init__(self, settings: SupervisionSettings, closing: Any) -> None:
        self.settings, self.clock = settings, MovableClock()
        self.supervision = closing(build_application(settings, clock=self.clock))
        self.projectors = [closing(Projector(settings, "supervision", self.supervision, projection)) for projection in
                           (CaseRowProjection(self.supervision), CaseViewProjection(self.supervision),
                            WarningProjection(self.supervision))]
        self._sequence = itertools.count(1)

    def register(self, minutes: int = 0, **data: Any) -> str:
        """A petition registered at 09:00 (China) on the clock's day plus `minutes`."""
        at = self.clock.now.replace(hour=9, minute=0) + timedelta(minutes=minutes)
        event = samples.registered_event(next(self._sequence), registered_at=at.isoformat(), **data)
        self.supervision.open_case(event, samples.particulars(event))
        return event.subject

    def project(self) -> None:
        for projector in self.projectors:
            while projector.follower.run_once():
                pass

    def warnings(self, application: Any = None) -> list[EarlyWarning.Raised]:
        """Every warning raised in the store, in order."""
        app = application or self.supervision
        found = app.recorder.select_notifications(start=1, limit=100_000, topics=[RAISED_TOPIC])
        return [app.mapper.to_domain_event(n) for n in found]


@pytest.fixture
def county(settings_for, store, closing, read_models) -> County:
    built = County(settings_for(SupervisionSettings, store=store), closing)
    built.clock.set("2026-11-02")
    return built


def spike(county: County, n: int, topic: str = "education") -> list[str]:
    """`n` petitions on `topic` on the clock's day, spread over the three towns (no town reaches 5 with n < 13)."""
    ids = [county.register(minutes=i, topic=topic, place_code=TOWNS[i % 3]) for i in range(n)]
    county.project()
    return ids


def test_a_spike_raises_one_warning_however_often_the_detector_runs(county, closing):
    petitions = spike(county, 6)
    watch = closing(WarningWatch(county.supervision, RULES))

    county.clock.set("2026-11-02")  # 10:00, after the registrations
    assert watch.tick() == 1
    for _ in range(3):
        assert watch.tick() == 0
    county.clock.advance(1)  # the next day the window is over: still one
    assert watch.tick() == 0
    fresh = closing(WarningWatch(county.supervision, RULES, lock=AlwaysHeld()))  # a restarted detector, nothing known
    assert fresh.tick() == 0

    [raised] = county.warnings()
    assert (raised.kind, raised.key, raised.topic, raised.count, raised.threshold) == ("topic_spike", "education",
                                                                                        "education", 6, 5)
    assert raised.petitions == petitions
    assert raised.window_start == "2026-11-02T00:00:00+08:00" and raised.window_end == "2026-11-03T00:00:00+08:00"


def test_below_the_threshold_no_warning(county, closing):
    spike(county, 4)
    watch = closing(WarningWatch(county.supervision, RULES))
    assert watch.tick() == 0
    assert county.warnings() == []


def test_two_instances_one_acts_and_racing_detectors_raise_each_warning_once(county, closing, store):
    spike(county, 7)
    other = closing(build_application(county.settings, clock=county.clock))
    first = closing(WarningWatch(county.supervision, RULES))
    second = closing(WarningWatch(other, RULES))
    assert first.tick() == 1
    assert second.tick() is None  # standing by: the first holds the lock
    first.close()  # the active instance goes
    assert second.tick() == 0  # took over; raised already

    # Should two ever act at once, the store takes each warning once.
    county.clock.advance(1)
    spike(county, 8, topic="health")
    racers = [WarningWatch(app, RULES, lock=AlwaysHeld()) for app in (county.supervision, other)]
    candidates = [c for c in racers[0].candidates(county.clock.now) if c.key == "health"]
    assert len(candidates) == 1
    start = threading.Barrier(2)
    results: list[bool] = []

    def run(app: Any) -> None:
        start.wait()
        results.append(raise_warning(app, candidates[0], county.clock.now))

    threads = [threading.Thread(target=run, args=(app,)) for app in (county.supervision, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    assert [w.key for w in county.warnings(other)] == ["education", "health"]


def test_a_group_of_thirty_a_sensitive_topic_and_a_third_repeat_each_raise_one(county, closing):
    thirty = county.register(people_count=30, flags=["group", "major_urgent"])
    county.register(minutes=1, people_count=29, flags=["group"])
    land = county.register(minutes=2, topic="land_requisition")
    first = county.register(minutes=3, topic="transport")
    second = county.register(minutes=4, topic="transport", repeat_of=first,
                             similar_petitions=[{"petition_id": first}])
    third = county.register(minutes=5, topic="transport", repeat_of=second,
                            similar_petitions=[{"petition_id": second}, {"petition_id": first}])
    county.project()
    watch = closing(WarningWatch(county.supervision, WarningRules()))

    assert watch.tick() == 3
    assert watch.tick() == 0
    shown = {w.kind: w for w in county.warnings()}
    assert set(shown) == {"group", "sensitive", "repeat"}
    assert (shown["group"].key, shown["group"].count, shown["group"].threshold) == (thirty, 30, 30)
    assert (shown["sensitive"].key, shown["sensitive"].topic, shown["sensitive"].petitions) == (
        land, "land_requisition", [land])
    assert (shown["repeat"].key, shown["repeat"].count, shown["repeat"].petitions) == (first, 3, [first, second, third])


def test_the_warning_is_published_without_personal_data_and_its_notice_is_requested_once(county, closing,
                                                                                          settings_for):
    spike(county, 5)
    closing(WarningWatch(county.supervision, RULES)).tick()
    [notification] = county.supervision.recorder.select_notifications(start=1, limit=100_000, topics=[RAISED_TOPIC])
    raised = county.supervision.mapper.to_domain_event(notification)
    source = county.settings.event_source("supervision")
    published = translate.to_integration_event(raised, notification.id, source)

    published.validate()  # the closed schema: codes, counts, dates, ids
    assert published.type == "cn.xinfang.case.warning_raised.v1" and published.subject == str(raised.originator_id)
    assert set(published.data) == {"warning_id", "kind", "key", "topic", "town", "window", "count", "threshold",
                                   "petitions", "raised_at"}
    text = json.dumps(published.data, ensure_ascii=False)
    for private in ("王秀兰", "13800138000", "wangxl@example.cn", "ABCD-EFGH-JKMN-PQRS", "小区污水外溢"):
        assert private not in text

    notification_app = closing(build_notification(settings_for(
        NotificationSettings, store="sqlite", NOTICE_SUPERVISORS_EMAIL="ducha@example.gov.cn")))
    warning = notice_translate.RaisedWarning.of(published)
    assert notification_app.request_warning_notice(published, warning) == PROCESSED
    assert notification_app.request_warning_notice(published, warning) == DUPLICATE
    again = dataclasses.replace(published, sequence=notification.id + 1000)  # the same event under another position
    assert notification_app.request_warning_notice(again, warning) == PROCESSED

    notice = notification_app.repository.get(notice_id(raised.originator_id, "warning_notice"))
    assert notice.version == 1 and notice.channels == ["email"]
    assert notice.recipient == {"name": "示例县信访局督查督办科", "email": "ducha@example.gov.cn", "phone": None}
    assert notice.title == "信访信息预警通知" and notice.query_code == ""
    assert "同类事项集中信访" in notice.body and "事项类别：教育" in notice.body and "信访事项数：5（预警阈值：5）" in notice.body
    assert "统计时段：2026年11月2日0时至2026年11月3日0时" in notice.body
    for petition in raised.petitions:
        assert petition in notice.body
    for private in ("王秀兰", "13800138000", "wangxl@example.cn", "ABCD-EFGH-JKMN-PQRS", "小区污水外溢"):
        assert private not in notice.body


def test_without_a_supervisors_mailbox_the_notice_is_recorded_not_sent(county, closing, settings_for):
    spike(county, 5)
    closing(WarningWatch(county.supervision, RULES)).tick()
    [notification] = county.supervision.recorder.select_notifications(start=1, limit=100_000, topics=[RAISED_TOPIC])
    raised = county.supervision.mapper.to_domain_event(notification)
    published = translate.to_integration_event(raised, notification.id, county.settings.event_source("supervision"))
    app = closing(build_notification(settings_for(NotificationSettings, store="sqlite")))

    assert app.request_warning_notice(published, notice_translate.RaisedWarning.of(published)) == PROCESSED
    notice = app.repository.get(notice_id(raised.originator_id, "warning_notice"))
    assert notice.channels == [] and notice.recipient["email"] is None


def test_the_detector_reads_the_registrations_of_the_window_from_the_work_lists(county):
    ids = spike(county, 3)
    county.clock.advance(1)
    later = county.register(topic="health")
    county.project()
    day = county.clock.now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert [r["_id"] for r in sorted(registrations(day - timedelta(days=1), day), key=lambda r: r["registered_at"])
            ] == ids
    assert [r["_id"] for r in registrations(day, day + timedelta(days=1))] == [later]


# --- the API ----------------------------------------------------------------------------------------------------
@pytest.fixture
def warned(county, closing) -> County:
    spike(county, 5)
    county.register(minutes=30, topic="land_requisition", place_code="330106002001")
    county.project()
    closing(WarningWatch(county.supervision, RULES)).tick()
    county.project()
    return county


@pytest.mark.parametrize("store", ["sqlite"])
def test_the_api_lists_the_warnings_to_the_bureau_and_refuses_organ_officers(warned, gateway_for):
    client = gateway_for(object())
    params = {"from": "2026-11-01", "to": "2026-11-30"}
    answer = client.get("/api/v1/warnings", params=params, headers=headers(client, "supervisor"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["count"] == 2 and not body["truncated"]
    by_kind = {w["kind"]: w for w in body["warnings"]}
    assert set(by_kind) == {"topic_spike", "sensitive"}
    assert by_kind["topic_spike"]["kind_text"] == "同类事项集中信访"
    assert by_kind["topic_spike"]["topic"] == {"code": "education", "name": "教育"}
    assert by_kind["topic_spike"]["window"] == {"start": "2026-11-02T00:00:00+08:00", "end": "2026-11-03T00:00:00+08:00"}
    assert by_kind["topic_spike"]["count"] == 5 and by_kind["topic_spike"]["threshold"] == 5
    assert by_kind["sensitive"]["town"] == {"code": "330106002", "name": "东溪镇"}
    assert WarningRecord.objects.count() == 2

    for who in ("clerk", "admin"):
        assert client.get("/api/v1/warnings", params=params, headers=headers(client, who)).json()["count"] == 2
    only = client.get("/api/v1/warnings", params={**params, "kind": "sensitive"}, headers=headers(client, "clerk"))
    assert [w["kind"] for w in only.json()["warnings"]] == ["sensitive"]
    assert client.get("/api/v1/warnings", params={"from": "2026-12-01", "to": "2026-12-31"},
                      headers=headers(client, "supervisor")).json()["count"] == 0
    for who in ("town", "labour", "auditor"):
        refused = client.get("/api/v1/warnings", params=params, headers=headers(client, who))
        assert refused.status_code == 403, who
    assert client.get("/api/v1/warnings", params=params).status_code == 401


@pytest.mark.parametrize("store", ["sqlite"])
@pytest.mark.parametrize(("params", "field", "code"), [
    ({"kind": "rumour"}, "query.kind", "invalid_choice"),
    ({"from": "2026-11-31"}, "query.from", "invalid_date"),
    ({"from": "2026-12-01", "to": "2026-11-01"}, "query.to", "invalid_range"),
    ({"from": "2024-01-01", "to": "2026-11-01"}, "query.to", "period_too_long"),
])
def test_bad_parameters_are_a_422_naming_them(warned, gateway_for, params, field, code):
    client = gateway_for(object())
    answer = client.get("/api/v1/warnings", params=params, headers=headers(client, "supervisor"))
    assert answer.status_code == 422, answer.text
    assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [(field, code)]
    assert all(e["label"] and e["message"] for e in answer.json()["errors"])


def drain(namespace: str, service: str, handler: str) -> list[IntegrationEvent]:
    name = topology.queue_name(namespace, service, handler)
    events = []
    with Connection(AMQP_URI) as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(queue=name, no_ack=False)) is not None:
            events.append(IntegrationEvent.from_json(message.body))
            channel.basic_ack(message.delivery_tag)
    return events


@pytest.mark.parametrize("store", ["postgres"])
def test_supervisions_relay_publishes_the_warning_to_notifications_queue(county, closing, settings_for, namespace):
    spike(county, 5)
    closing(WarningWatch(county.supervision, RULES)).tick()
    relay = closing(OutboxRelay(county.settings, "supervision", county.supervision, translate.to_integration_event,
                                translated=translate.TRANSLATED))
    while relay.follower.run_once():
        pass

    [published] = drain(namespace, "notification", "handle_warning_raised")
    published.validate()
    assert published.type == "cn.xinfang.case.warning_raised.v1"
    assert published.data["kind"] == "topic_spike" and published.data["count"] == 5
    assert drain(namespace, "notification", "handle_case_step") == []  # the cases' openings send no step notice
    app = closing(build_notification(settings_for(NotificationSettings, store="postgres",
                                                  NOTICE_SUPERVISORS_EMAIL="ducha@example.gov.cn")))
    assert app.request_warning_notice(published, notice_translate.RaisedWarning.of(published)) == PROCESSED
    assert app._exists(notice_id(UUID(published.data["warning_id"]), "warning_notice"))


def test_a_repeat_chain_is_followed_to_the_matters_first_petition_or_not_at_all(read_models):
    CaseView._get_collection().insert_many([
        {"_id": "a", "repeat_of": None}, {"_id": "b", "repeat_of": "a"}, {"_id": "c", "repeat_of": "b"},
        {"_id": "d", "repeat_of": "missing"}, {"_id": "e", "repeat_of": "f"}, {"_id": "f", "repeat_of": "e"}])

    assert repeat_chain("c") == ["a", "b", "c"] and repeat_chain("a") == ["a"]
    assert repeat_chain("d") == []  # its first petition is not known yet: no key, no warning
    assert repeat_chain("nowhere") == []
    assert repeat_chain("e") == ["f", "e"]  # a loop in the links stops it
