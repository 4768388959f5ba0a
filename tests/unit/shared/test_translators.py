"""Contract tests of the four translators: real domain events in, valid events of the published language out.

Each scenario builds an aggregate through its own methods, as the service's application does, and translates the
events it recorded. A domain event outside the published language must translate to None.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.intake import translate as intake_translate
from services.intake.domainmodel import Petition
from services.notification import translate as notification_translate
from services.notification.domainmodel import DELIVERED, REFUSED, Delivery, Notice
from services.routing import translate as routing_translate
from services.routing.domainmodel import Assignment
from services.supervision import translate as supervision_translate
from services.supervision.deadlines import load_deadline_rules
from services.supervision.domainmodel import Case
from shared.language.chinatime import local_date
from shared.language.contracts.actor import PETITIONER, ROUTING_RULES, Actor
from shared.language.contracts.registration import RegisterPetition
from shared.language.integration.catalog import (
    CASE_OPENED,
    NOTICE_DELIVERED,
    PETITION_REGISTERED,
    PETITION_ROUTED,
    EventType,
)
from shared.language.integration.envelope import IntegrationEvent, InvalidIntegrationEvent, event_id

QUERY_CODE = "7K3M-9QX2-HT4W-0BZ8"
ID_NUMBER = "11010519491231002X"
AGENT_ID_NUMBER = "110105198001010032"
SOURCES = {
    "intake": "urn:xinfang:330106:intake",
    "routing": "urn:xinfang:330106:routing",
    "supervision": "urn:xinfang:330106:supervision",
    "notification": "urn:xinfang:330106:notification",
}
Translate = Callable[[Any, int, str], IntegrationEvent | None]


def registration_command() -> RegisterPetition:
    document = RegisterPetition.model_json_schema()["examples"][0]
    document["petitioner"]["agent"] = {"name": "李四", "phone": "13900139000", "id_number": AGENT_ID_NUMBER,
                                       "relation": "儿子"}
    return RegisterPetition.model_validate(document)


def registered_petition() -> Petition:
    """A Petition built from a validated command, as intake's application builds it."""
    return Petition.register(registration_command(), query_code=QUERY_CODE,
                             actor=PETITIONER, correlation_id="corr-intake")


def routed_assignment(petition_id: UUID) -> Assignment:
    return Assignment(
        petition_id=petition_id,
        facts={"category": "appeal", "topic": None, "place_code": "330106001", "flags": []},
        organ={"code": "330106001-ZF", "name": "示例县城关镇人民政府"},
        joining_organs=[],
        where_to_go=None,
        disposition="transfer",
        basis="属地管理：问题发生在城关镇，由城关镇人民政府办理",
        rule_id="chengguan-local",
        rules_version="2026.11-demo.1",
        actor={"role": "system", "user": "routing-rules", "organ": None},
        correlation_id="corr-intake",
        causation_id="registered-event-id",
    )


RULES = load_deadline_rules()


def opened_case(petition_id: UUID) -> Case:
    registered_at = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    case = Case(
        petition_id=petition_id,
        query_code=QUERY_CODE,
        title="小区污水外溢长期无人处理",
        category="appeal",
        channel="online",
        place_code="330106001",
        at=registered_at.isoformat(),
        deadlines=[RULES.compute("triage", local_date(registered_at)).as_dict()],
        correlation_id="corr-intake",
        causation_id="registered-event-id",
        people_count=1,
        repeat_of=None,
        flags=[],
        accused_organs=[],
        topic=None,
        received_at=None,
        provincial=None,
    )
    case.assign_organ(organ={"code": "330106001-ZF", "name": "示例县城关镇人民政府"}, basis="属地管理",
                      rules_version="2026.11-demo.1", at="2026-12-01T02:00:00+00:00", correlation_id="corr-intake",
                      causation_id="routed-event-id")
    case.record_notice(notice_id=str(uuid4()), kind="registration_receipt", title="信访事项登记回执", channel="inbox",
                       at="2026-12-01T02:00:01+00:00", correlation_id="corr-intake", causation_id="delivered-id")
    return case


def delivered_notice(petition_id: UUID) -> list:
    """A notice's events: requested, delivered to the inbox, refused by the mail server."""
    notice = Notice(
        petition_id=petition_id,
        kind="registration_receipt",
        query_code=QUERY_CODE,
        recipient={"name": "王秀兰", "email": "wangxl@example.cn", "phone": "13800138000"},
        title="信访事项登记回执",
        body="王秀兰：\n\n您好！……\n",
        channels=["inbox", "email"],
        correlation_id="corr-intake",
        causation_id="registered-event-id",
        template="registration_receipt@v1+sha256:000000000000",
        step=None,
    )
    common = {"petition_id": str(petition_id), "kind": notice.kind, "title": notice.title,
              "correlation_id": notice.correlation_id}
    inbox = Delivery(notice_id=notice.id, channel="inbox", outcome=DELIVERED, at="2026-12-01T02:00:01+00:00",
                     detail="站内信", **common)
    email = Delivery(notice_id=notice.id, channel="email", outcome=REFUSED, at="2026-12-01T02:00:02+00:00",
                     detail="mail server refused the message: 550", **common)
    return [*notice.collect_events(), *inbox.collect_events(), *email.collect_events()]


@dataclass(frozen=True)
class Scenario:
    """The events one aggregate recorded, the translator of its service, and what should come out."""

    service: str
    events: list[Any]
    translate: Translate
    published_type: EventType
    published_index: int  # which recorded event is published
    petition_id: UUID


def intake_scenario() -> Scenario:
    petition = registered_petition()
    return Scenario("intake", petition.collect_events(),
                    intake_translate.to_integration_event, PETITION_REGISTERED, 0, petition.id)


def routing_scenario() -> Scenario:
    petition_id = uuid4()
    return Scenario("routing", routed_assignment(petition_id).collect_events(),
                    routing_translate.to_integration_event, PETITION_ROUTED, 0, petition_id)


def supervision_scenario() -> Scenario:
    petition_id = uuid4()
    return Scenario("supervision", opened_case(petition_id).collect_events(),
                    supervision_translate.to_integration_event, CASE_OPENED, 0, petition_id)


def notification_scenario() -> Scenario:
    petition_id = uuid4()
    return Scenario("notification", delivered_notice(petition_id),
                    notification_translate.to_integration_event, NOTICE_DELIVERED, 1, petition_id)


SCENARIOS = [
    pytest.param(intake_scenario, id="intake"),
    pytest.param(routing_scenario, id="routing"),
    pytest.param(supervision_scenario, id="supervision"),
    pytest.param(notification_scenario, id="notification"),
]


def published(scenario: Scenario, sequence: int = 7) -> IntegrationEvent:
    event = scenario.translate(scenario.events[scenario.published_index], sequence, SOURCES[scenario.service])
    assert event is not None
    return event


@pytest.mark.parametrize("build", SCENARIOS)
def test_the_published_event_is_valid_in_the_published_language(build: Callable[[], Scenario]) -> None:
    scenario = build()

    event = published(scenario)

    event.validate()
    assert event.event_type is scenario.published_type
    assert IntegrationEvent.from_json(event.to_json()) == event


@pytest.mark.parametrize("build", SCENARIOS)
def test_the_published_event_is_about_the_petition(build: Callable[[], Scenario]) -> None:
    scenario = build()

    event = published(scenario)

    assert event.subject == str(scenario.petition_id)
    assert event.data["petition_id"] == str(scenario.petition_id)


@pytest.mark.parametrize("build", SCENARIOS)
def test_the_published_event_is_identified_by_source_and_sequence_and_keeps_the_correlation(
    build: Callable[[], Scenario],
) -> None:
    scenario = build()
    domain_event = scenario.events[scenario.published_index]

    event = published(scenario, sequence=123)

    assert event.source == SOURCES[scenario.service]
    assert event.sequence == 123
    assert event.tracking.notification_id == 123
    assert event.correlation_id == "corr-intake"
    assert event.id == event_id(event.source, domain_event.originator_id, domain_event.originator_version)


@pytest.mark.parametrize("build", SCENARIOS)
def test_translating_the_same_domain_event_twice_gives_the_same_event(build: Callable[[], Scenario]) -> None:
    scenario = build()

    assert published(scenario).to_json() == published(scenario).to_json()


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(supervision_scenario, id="supervision: Case.OrganAssigned and Case.NoticeDelivered"),
        pytest.param(notification_scenario, id="notification: Notice.Requested and a refused Delivery"),
    ],
)
def test_domain_events_outside_the_published_language_translate_to_nothing(build: Callable[[], Scenario]) -> None:
    scenario = build()
    others = [e for i, e in enumerate(scenario.events) if i != scenario.published_index]

    assert len(others) >= 1
    assert [scenario.translate(e, 1, SOURCES[scenario.service]) for e in others] == [None] * len(others)


@pytest.mark.parametrize(
    ("translate", "foreign"),
    [
        pytest.param(intake_translate.to_integration_event, routing_scenario, id="intake ignores routing"),
        pytest.param(routing_translate.to_integration_event, supervision_scenario, id="routing ignores supervision"),
        pytest.param(supervision_translate.to_integration_event, notification_scenario,
                     id="supervision ignores notification"),
        pytest.param(notification_translate.to_integration_event, intake_scenario, id="notification ignores intake"),
    ],
)
def test_a_translator_ignores_other_services_events(translate: Translate, foreign: Callable[[], Scenario]) -> None:
    scenario = foreign()

    assert translate(scenario.events[scenario.published_index], 1, "urn:xinfang:330106:other") is None


def test_the_untranslated_events_named_in_the_contract_are_the_expected_types() -> None:
    notification = notification_scenario()

    assert isinstance(notification.events[0], Notice.Requested)
    assert notification_translate.to_integration_event(notification.events[0], 2, SOURCES["notification"]) is None


# ---------------------------------------------------------------------------------------------------------------
# Service-specific content
# ---------------------------------------------------------------------------------------------------------------


def test_petition_registered_never_carries_an_id_card_number() -> None:
    event = published(intake_scenario())

    body = event.to_json().decode("utf-8")
    text = json.dumps(json.loads(body), ensure_ascii=False)

    for secret in (ID_NUMBER, AGENT_ID_NUMBER):
        assert secret not in body
        assert secret not in text
        assert secret.lower() not in text.lower()
    assert "id_number" not in text


def test_petition_registered_carries_no_personal_data_no_free_text_and_no_query_code() -> None:
    event = published(intake_scenario())

    event.validate()  # petition.registered.v2: every property allow-listed, nothing else admitted
    text = json.dumps(event.data, ensure_ascii=False)
    for private in ("王秀兰", "13800138000", "示例县城关镇人民路1号", "wangxl@example.cn", QUERY_CODE, "现场照片"):
        assert private not in text
    assert not {"petitioner", "query_code", "title", "request", "facts_and_reasons", "attachments"} & set(event.data)
    assert event.data["has_agent"] is True
    assert event.causation_id is None


def test_the_published_schemas_refuse_a_field_not_on_the_allow_list() -> None:
    event = published(intake_scenario())
    leaked = IntegrationEvent(**{**event.__dict__, "data": {**event.data, "title": "泄露的标题"}})

    with pytest.raises(InvalidIntegrationEvent, match="title"):
        leaked.validate()


def test_case_opened_publishes_the_triage_deadline_without_its_label() -> None:
    event = published(supervision_scenario())

    assert event.data["deadlines"] == [{
        "kind": "triage",
        "due": "2026-12-16",
        "basis": RULES.rule("triage").basis,
        "provisional": False,
    }]


def test_notice_delivered_is_caused_by_the_notice_request() -> None:
    scenario = notification_scenario()
    requested = scenario.events[0]

    event = published(scenario)

    assert event.causation_id == event_id(SOURCES["notification"], requested.originator_id, 1)
    assert event.data["notice_id"] == str(requested.originator_id)
    assert event.data["channel"] == "inbox"
    assert event.data["delivered_at"] == "2026-12-01T02:00:01+00:00"


def test_petition_routed_carries_the_organ_and_the_rules_version() -> None:
    event = published(routing_scenario())

    assert event.data["organ"] == {"code": "330106001-ZF", "name": "示例县城关镇人民政府"}
    assert (event.data["rule_id"], event.data["rules_version"]) == ("chengguan-local", "2026.11-demo.1")
    assert event.causation_id == "registered-event-id"


def test_a_petitions_id_is_derived_from_its_query_code_and_does_not_reveal_it() -> None:
    petition = registered_petition()

    assert petition.id == Petition.create_id(QUERY_CODE)
    assert QUERY_CODE.replace("-", "").lower() not in petition.id.hex


def test_every_lifecycle_step_is_published_as_its_own_case_type_in_the_published_language() -> None:
    from datetime import datetime as _dt

    from shared.language.integration.catalog import CASE_STEP_TYPES
    from tests.unit.supervision.test_lifecycle import new_case, officer  # the lifecycle's own test fixtures

    town = {"code": "330106001-ZF", "name": "示例县城关镇人民政府"}
    ORGAN = officer(town)
    case = new_case()
    case.route(disposition="transfer", organ=town,
               joining_organs=[], basis="属地管理", rules=RULES, at=_dt.fromisoformat("2026-09-29T09:00:00+08:00"),
               actor=ROUTING_RULES, correlation_id="c")
    case.accept(procedure="ordinary", rules=RULES, at=_dt.fromisoformat("2026-09-30T09:00:00+08:00"),
                actor=Actor.model_validate(ORGAN), correlation_id="c")
    published = [supervision_translate.to_integration_event(e, i, SOURCES["supervision"])
                 for i, e in enumerate(case.collect_events(), start=1)]

    assert [p.event_type.type for p in published] == [
        "cn.xinfang.case.opened.v1", "cn.xinfang.case.transferred.v2", "cn.xinfang.case.accepted.v2"]
    for event in published:
        event.validate()
    accepted = published[-1].data
    assert (accepted["step"], accepted["status"], accepted["status_text"]) == ("accepted", "handling", "已受理，办理中")
    # Who acted, by role and organ: the officer's user name stays in supervision (personal data of an official).
    assert accepted["actor"] == {"role": "organ_officer", "organ": ORGAN["organ"]} and "user" not in accepted["actor"]
    assert "第二十三条" in accepted["basis"]
    assert [d["kind"] for d in accepted["deadlines_opened"]] == ["handling"]
    assert set(CASE_STEP_TYPES) == set(supervision_translate.STEP_CLASSES)

    case.reply(outcome="not_support", opinion="王秀兰反映的情况经核实不属实", rules=RULES,
               at=_dt.fromisoformat("2026-10-20T09:00:00+08:00"), actor=Actor.model_validate(ORGAN), correlation_id="c")
    [replied] = [supervision_translate.to_integration_event(e, 9, SOURCES["supervision"])
                 for e in case.collect_events()]
    assert replied.data["details"]["outcome"] == "not_support"
    assert "opinion" not in replied.data["details"]  # free text stays in supervision
    assert "王秀兰" not in replied.to_json().decode()


def test_a_re_routing_is_published_as_petition_routed_with_its_reason_and_the_organs_passed_over() -> None:
    assignment = routed_assignment(uuid4())
    assignment.reroute(organ={"code": "330106-ZHZFJ", "name": "示例县综合行政执法局"}, joining_organs=[],
                       where_to_go=None, disposition="transfer", basis="谁主管、谁负责", rule_id="urban-management",
                       rules_version="2026.12-demo.2", excluded_organs=["330106001-ZF"],
                       actor=ROUTING_RULES, correlation_id="c", causation_id="objection-upheld-id")
    published = routing_translate.to_integration_event(assignment.collect_events()[-1], 2, SOURCES["routing"])

    published.validate()
    assert published.data["reason"] == "objection_upheld"
    assert published.data["excluded_organs"] == ["330106001-ZF"]
    assert published.data["organ"]["code"] == "330106-ZHZFJ"


def test_a_step_publishes_only_allow_listed_details_and_the_statutory_basis_not_an_officers_words() -> None:
    from datetime import datetime as _dt

    from services.supervision.case.triage import REPORT_UP_BASIS, TRANSFER_BASIS
    from tests.unit.supervision.test_lifecycle import CLERK, new_case

    town = {"code": "330106001-ZF", "name": "示例县城关镇人民政府"}
    transferred, reported, redirected = new_case(), new_case(), new_case()
    at, clerk = _dt.fromisoformat("2026-09-29T09:00:00+08:00"), Actor.model_validate(CLERK)
    transferred.route(disposition="transfer", organ=town, joining_organs=[], basis="张三托人说情，转城关镇",
                      rules=RULES, at=at, actor=clerk, correlation_id="c", action="transfer")
    reported.route(disposition="report_up", organ=None, joining_organs=[],
                   basis=f"{REPORT_UP_BASIS}。李四带头上访", rules=RULES, at=at, actor=clerk, correlation_id="c",
                   action="report_up")
    redirected.route(disposition="out_of_remit", organ=None, joining_organs=[], basis="告知", rules=RULES, at=at,
                     actor=clerk, correlation_id="c", where_to_go="请向王五所在单位反映", action="redirect")

    for case, basis in ((transferred, TRANSFER_BASIS), (reported, REPORT_UP_BASIS), (redirected, "告知")):
        step = supervision_translate.to_integration_event(case.collect_events()[-1], 2, SOURCES["supervision"])
        step.validate()  # case.step.v2: closed objects, details allow-listed
        text = step.to_json().decode("utf-8") + json.dumps(step.data, ensure_ascii=False)
        assert step.data["basis"] == basis
        for words in ("张三", "李四", "王五"):
            assert words not in text
