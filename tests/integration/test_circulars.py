"""Circulars (通报) on supervision's and notification's real stores (PostgreSQL and SQLite) and a real read-model
server (SecantusDB), through the real gateway application in-process, whose RPC port calls supervision's real RPC
method with a signed caller assertion (services/supervision/circulars.py; docs/api.md §"Supervision lists"): a
supervisor issues one to organs; a retried request issues it once; what is published is valid against its closed
schema and carries no free text; notification, asking supervision for the text over its private RPC, requests one
notice per organ, once, with no petitioner's data; unknown organs and cases are refused naming them in Chinese; the
read model lists the circulars to the bureau and each organ officer those addressed to their organ."""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic
from kombu import Connection

from services.notification.bootstrap import build_application as build_notification
from services.notification.domainmodel import circular_notice_id
from services.notification.service import NotificationService
from services.notification.settings import NotificationSettings
from services.supervision import translate
from services.supervision.bootstrap import build_application
from services.supervision.circulars import Circular, CircularProjection
from services.supervision.service import SupervisionService
from services.supervision.settings import SupervisionSettings
from shared.language.integration.envelope import IntegrationEvent
from shared.language.readmodels import CircularRecord
from shared.runtime.callers import GATEWAY, CallerAssertions
from shared.runtime.eventstore import DUPLICATE, PROCESSED
from shared.runtime.messaging import topology
from shared.runtime.nameko_support import ServiceCallers
from shared.runtime.outbox import OutboxRelay
from shared.runtime.projector import Projector
from tests.support import samples
from tests.support.clock import MovableClock
from tests.support.gateway_app import LABOUR, ORGAN_NAMES, TOWN, headers

ISSUED_TOPIC = get_topic(Circular.Issued)
SEQUENCE = itertools.count(1)
SUPERVISOR = {"role": "supervisor", "user": "supervisor", "organ": "330106-XFJ"}
PRIVATE = ("王秀兰", "13800138000", "wangxl@example.cn", "ABCD-EFGH-JKMN-PQRS", "小区污水外溢")
CIRCULAR = {"title": "关于11月份重复信访问题的通报", "kind": "typical_problem",
            "problems": "一是答复意见未载明复查权利。\n二是办结报告超期报送。", "demands": "对照检查，逐件整改。",
            "report_due": "2026-12-31", "organ_codes": [TOWN, LABOUR]}


class GatewayRpc:
    """The gateway's RPC port, answered by supervision's nameko service methods (their dependencies in place, as its
    container injects them), each call carrying the gateway's signed assertion of the officer."""

    def __init__(self, supervision: SupervisionService, secret: str) -> None:
        self.supervision = supervision
        self.assertions = CallerAssertions(secret, GATEWAY)

    def call(self, service: str, method: str, *args: Any, actor: dict[str, Any], **kwargs: Any) -> Any:
        assert (service, method) == ("supervision", "issue_circular"), (service, method)
        return self.supervision.issue_circular(
            *args, caller=self.assertions.assertion("supervision", method, actor), **kwargs)

    def close(self) -> None:
        pass


class County:
    def __init__(self, settings_for: Any, store: str, closing: Any) -> None:
        self.clock = MovableClock()
        self.clock.set("2026-12-04")
        self.settings = settings_for(SupervisionSettings, store=store)
        self.supervision = closing(build_application(self.settings, clock=self.clock))
        self.projector = closing(Projector(self.settings, "supervision", self.supervision,
                                           CircularProjection(self.supervision)))
        self.service = SupervisionService()
        self.service.supervision = self.supervision
        self.service.callers = ServiceCallers(CallerAssertions(self.settings.rpc_secret, "supervision"), "supervision")
        self.rpc = GatewayRpc(self.service, self.settings.rpc_secret)

    def case(self) -> str:
        registered = samples.registered_event(next(SEQUENCE))
        self.supervision.open_case(registered, samples.particulars(registered))
        return registered.subject

    def project(self) -> None:
        while self.projector.follower.run_once():
            pass

    def issued(self) -> list[Any]:
        found = self.supervision.recorder.select_notifications(start=1, limit=100_000, topics=[ISSUED_TOPIC])
        return [(n.id, self.supervision.mapper.to_domain_event(n)) for n in found]


@pytest.fixture
def county(settings_for, store, closing, read_models) -> County:
    return County(settings_for, store, closing)


def notification_service(notification: Any, settings: NotificationSettings, supervision: SupervisionService) -> Any:
    """notification's nameko service with its dependencies in place; its `supervision` proxy answered by
    supervision's service method (the caller assertion checked as over the broker)."""

    class SupervisionProxy:
        def circular_particulars(self, circular_id: str, caller: str) -> Any:
            return supervision.circular_particulars(circular_id, caller=caller)

    service = NotificationService()
    service.notification = notification
    service.callers = ServiceCallers(CallerAssertions(settings.rpc_secret, "notification"), "notification")
    service.supervision = SupervisionProxy()
    return service


def post(client: Any, who: str, body: dict[str, Any], key: str | None = None) -> Any:
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/supervision/circulars", json=body, headers={**headers(client, who), **extra})


def test_a_circular_is_issued_once_published_without_free_text_and_each_organ_told_once(county, gateway_for,
                                                                                        settings_for, store, closing):
    cited = [county.case(), county.case()]
    client = gateway_for(county.rpc)

    first = post(client, "supervisor", {**CIRCULAR, "petition_ids": cited}, key="circular-2026-11")
    assert first.status_code == 201, first.text
    again = post(client, "supervisor", {**CIRCULAR, "petition_ids": cited}, key="circular-2026-11")
    assert again.status_code == 201 and again.json() == first.json()  # a retried request: the same circular
    issued = first.json()
    assert issued["number"] == f"督通〔2026〕{UUID(issued['id']).hex[:6]}号" and issued["kind_text"] == "典型问题通报"
    assert [o["code"] for o in issued["organs"]] == [TOWN, LABOUR] and issued["petitions"] == cited
    assert issued["issued_by"] == SUPERVISOR

    [(position, event)] = county.issued()  # once
    published = translate.to_integration_event(event, position, county.settings.event_source("supervision"))
    published.validate()  # the closed schema: codes, dates, organ codes, case ids
    assert published.type == "cn.xinfang.case.circular_issued.v1" and published.subject == issued["id"]
    assert (published.data["organs"], published.data["petitions"]) == ([TOWN, LABOUR], cited)
    text = json.dumps(published.data, ensure_ascii=False)
    for words in (*PRIVATE, "重复信访问题", "复查权利", "逐件整改"):
        assert words not in text

    settings = settings_for(NotificationSettings, store=store, NOTICE_CONSOLE_URL="https://xinfang.example.gov.cn")
    notification = closing(build_notification(settings))
    service = notification_service(notification, settings, county.service)
    assert service.handle_circular_issued(published) == PROCESSED
    assert service.handle_circular_issued(published) == DUPLICATE
    elsewhere = dataclasses.replace(published, sequence=position + 1000)  # the same event under another position
    assert service.handle_circular_issued(elsewhere) == PROCESSED

    for code in (TOWN, LABOUR):
        notice = notification.repository.get(circular_notice_id(UUID(issued["id"]), code))
        assert notice.version == 1 and notice.kind == "circular_notice" and notice.title == "信访工作通报"
        assert notice.recipient == {"name": ORGAN_NAMES[code], "email": notification.organs.get(code).email,
                                    "phone": None, "organ": code}
        assert notice.channels == ["email"] and notice.query_code == "" and notice.petition_id == UUID(issued["id"])
        assert notice.body.startswith(f"{ORGAN_NAMES[code]}：\n")
        assert f"《关于11月份重复信访问题的通报》（{issued['number']}）" in notice.body
        assert "二是办结报告超期报送。" in notice.body and "2026年12月31日前将整改情况书面报告" in notice.body
        assert "本通报涉及信访事项2件" in notice.body and "https://xinfang.example.gov.cn" in notice.body
        for words in (*PRIVATE, *cited):
            assert words not in notice.body
    stored = notification.recorder.select_notifications(start=1, limit=100)
    assert len(stored) == 2  # one notice per organ, however often the event came


@pytest.mark.parametrize("store", ["sqlite"])
def test_refusals_name_the_fields_in_chinese(county, gateway_for):
    known = county.case()
    client = gateway_for(county.rpc)
    unknown_case = "5d1e0c3a-9b8f-4e4d-a3c2-b1f0e9d8c7b6"

    answer = post(client, "supervisor", {**CIRCULAR, "organ_codes": [TOWN, "330106-NOPE"],
                                         "petition_ids": [known, unknown_case]})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "validation_failed" and body["message"] == "提交的信息有误，请按提示修改后重新提交。"
    assert [(e["field"], e["label"], e["code"]) for e in body["errors"]] == [
        ("organ_codes.1", "第2个通报对象机关", "unknown_organ"), ("petition_ids.1", "第2个所涉信访事项", "unknown_petition")]
    assert "330106-NOPE" in body["errors"][0]["message"] and unknown_case in body["errors"][1]["message"]

    bad = post(client, "admin", {**CIRCULAR, "title": "通" * 101, "report_due": "2026-12-04", "organ_codes": []})
    assert bad.status_code == 422
    assert {e["field"]: e["message"] for e in bad.json()["errors"]} == {
        "title": "通报标题不能超过100个字", "organ_codes": "通报对象机关不能为空"}
    today = post(client, "admin", {**CIRCULAR, "report_due": "2026-12-04"})
    assert today.status_code == 422 and today.json()["errors"][0]["label"] == "整改情况报告期限"

    for who in ("clerk", "town", "auditor"):
        assert post(client, who, CIRCULAR).status_code == 403, who
    assert client.post("/api/v1/supervision/circulars", json=CIRCULAR).status_code == 401
    assert post(client, "supervisor", CIRCULAR, key="bad key!").status_code == 422

    assert post(client, "supervisor", CIRCULAR, key="k-1").status_code == 201
    reused = post(client, "supervisor", {**CIRCULAR, "title": "另一份通报"}, key="k-1")
    assert reused.status_code == 409 and reused.json()["error"] == "idempotency_key_reused"
    assert len(county.issued()) == 1


@pytest.mark.parametrize("store", ["sqlite"])
def test_the_read_model_lists_the_circulars_newest_first_and_organs_see_their_own(county, gateway_for):
    client = gateway_for(county.rpc)
    to_both = post(client, "supervisor", {**CIRCULAR, "petition_ids": [county.case()]}).json()
    county.clock.advance(1)
    to_labour = post(client, "supervisor", {**CIRCULAR, "kind": "criticism", "title": "关于示例县人社局推诿问题的通报",
                                            "organ_codes": [LABOUR], "report_due": None}).json()
    county.project()
    county.project()  # a replay writes nothing twice
    assert CircularRecord.objects.count() == 2

    for who in ("supervisor", "admin", "clerk", "auditor"):
        listed = client.get("/api/v1/supervision/circulars", headers=headers(client, who))
        assert listed.status_code == 200, (who, listed.text)
        assert [c["id"] for c in listed.json()["circulars"]] == [to_labour["id"], to_both["id"]]
    row = client.get("/api/v1/supervision/circulars", headers=headers(client, "clerk")).json()["circulars"][1]
    assert row == {"id": to_both["id"], "number": to_both["number"], "kind": "typical_problem",
                   "kind_text": "典型问题通报", "title": CIRCULAR["title"], "report_due": "2026-12-31",
                   "organs": to_both["organs"], "cases": 1, "issued_on": "2026-12-04",
                   "issued_at": to_both["issued_at"]}
    town = client.get("/api/v1/supervision/circulars", headers=headers(client, "town")).json()
    assert [c["id"] for c in town["circulars"]] == [to_both["id"]] and town["count"] == 1
    labour = client.get("/api/v1/supervision/circulars", headers=headers(client, "labour")).json()
    assert [c["id"] for c in labour["circulars"]] == [to_labour["id"], to_both["id"]]
    assert client.get("/api/v1/supervision/circulars").status_code == 401

    document = client.get(f"/api/v1/supervision/circulars/{to_both['id']}", headers=headers(client, "town"))
    assert document.status_code == 200
    shown = document.json()
    assert shown == to_both  # the read model shows what supervision answered when it was issued
    assert shown["problems"] == CIRCULAR["problems"] and shown["demands"] == CIRCULAR["demands"]
    criticism = client.get(f"/api/v1/supervision/circulars/{to_labour['id']}", headers=headers(client, "auditor"))
    assert criticism.json()["kind_text"] == "通报批评" and criticism.json()["report_due"] is None
    refused = client.get(f"/api/v1/supervision/circulars/{to_labour['id']}", headers=headers(client, "town"))
    assert refused.status_code == 403 and refused.json()["error"] == "not_your_organ"
    missing = client.get("/api/v1/supervision/circulars/nope", headers=headers(client, "supervisor"))
    assert missing.status_code == 404


@pytest.mark.parametrize("store", ["postgres"])
def test_supervisions_relay_publishes_the_circular_to_notifications_queue(county, namespace, closing):
    county.case()
    answer = county.rpc.call("supervision", "issue_circular", {**CIRCULAR, "organ_codes": [TOWN]},
                             actor=SUPERVISOR, correlation_id="c-1", idempotency_key=None)
    assert answer["ok"] and answer["created"]
    relay = closing(OutboxRelay(county.settings, "supervision", county.supervision, translate.to_integration_event,
                                translated=translate.TRANSLATED))
    while relay.follower.run_once():
        pass

    name = topology.queue_name(namespace, "notification", "handle_circular_issued")
    published = []
    with Connection("amqp://guest:guest@127.0.0.1:5672/") as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(queue=name, no_ack=False)) is not None:
            published.append(IntegrationEvent.from_json(message.body))
            channel.basic_ack(message.delivery_tag)
    [event] = published
    event.validate()
    assert event.type == "cn.xinfang.case.circular_issued.v1" and event.subject == answer["circular"]["id"]
    assert event.data["organs"] == [TOWN] and event.correlation_id == "c-1"
