"""Each lifecycle step's notice, requested by notification from the case.<step> events supervision publishes, on
the real stores (intake, routing, supervision and notification in process, as tests/support/flow.py drives them):
each step sends what its declaration says, exactly once however often its event is processed; the 处理意见书 holds
the opinion, the 30-day review right and the query code; a step declared silent requests nothing; and the values
the exchange never carries (the opinion, the reasons, the petitioner's words) come from the private RPCs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from services.notification import translate as notice_translate
from services.notification.bootstrap import build_application as build_notification
from services.notification.domainmodel import Notice, notice_id, organ_notice_id
from services.notification.settings import NotificationSettings
from services.notification.templates import template_identity
from services.routing.bootstrap import build_application as build_routing
from services.routing.settings import RoutingSettings
from services.supervision.bootstrap import build_application as build_supervision
from services.supervision.history import step_particulars
from services.supervision.settings import SupervisionSettings
from shared.language.chinatime import chinese_day
from shared.runtime.eventstore import DUPLICATE, PROCESSED
from tests.support import samples
from tests.support.clock import MovableClock
from tests.support.flow import notify_step, published_steps, register_and_route

TOWN = {"role": "organ_officer", "user": "officer", "organ": "330106001-ZF"}
TOWN_NAME = "示例县城关镇人民政府"
OPINION = "经现场查看，小区污水管道堵塞属实。\n已责成物业服务企业于12月10日前疏通。"
EXTENSION_REASONS = "涉及多个部门职责，需要进一步调查核实。"
REQUEST = "请求疏通小区污水管道"


class Platform:
    def __init__(self, intake: Any, routing: Any, supervision: Any, notification: Any) -> None:
        self.intake, self.routing, self.supervision, self.notification = intake, routing, supervision, notification

    def petition(self) -> UUID:
        petition_id, _registered, _routed = register_and_route(
            self.intake, self.routing, self.supervision, self.notification,
            samples.petition(place_code="330106001", topic="urban_management", request=REQUEST))
        return petition_id

    def take(self, petition_id: UUID, actor: dict[str, Any], action: str, payload: dict[str, Any]) -> list:
        """Take a step and return the case.<step> events it publishes."""
        before = self.supervision.repository.get(petition_id).version
        self.supervision.perform(str(petition_id), action, payload, actor)
        return published_steps(self.supervision, petition_id, before)

    def notify(self, event: Any) -> str:
        return notify_step(self.notification, self.supervision, self.intake, event)

    def notices(self, petition_id: UUID, event: Any) -> dict[str, Notice]:
        """The notices requested for `event`, by kind (every kind a step may send is looked for)."""
        found = {}
        for kind in ("transfer_notice", "assignment_notice", "acceptance_notice", "not_accepted_notice",
                     "extension_notice", "opinion", "rating_invitation", "redirect_notice"):
            requested = notice_id(petition_id, kind, event.id)
            if self.notification._exists(requested):
                found[kind] = self.notification.repository.get(requested)
        return found


@pytest.fixture
def platform(settings_for, closing) -> Platform:
    store = "postgres"
    return Platform(
        closing(IntakeApplication(settings_for(IntakeSettings, store=store))),
        closing(build_routing(settings_for(RoutingSettings, store=store))),
        closing(build_supervision(settings_for(SupervisionSettings, store=store),
                                  clock=MovableClock(tick=timedelta(minutes=1)))),
        closing(build_notification(settings_for(NotificationSettings, store=store))))


def test_each_step_requests_its_notice_once_with_what_it_recorded(platform: Platform) -> None:
    petition_id = platform.petition()
    code = platform.intake.particulars(petition_id, "notice")["query_code"]
    [routed] = published_steps(platform.supervision, petition_id)  # the rules' transfer (action route)
    assert routed.data["action"] == "route" and routed.data["details"]["disposition"] == "transfer"

    assert platform.notify(routed) == PROCESSED
    [transfer] = platform.notices(petition_id, routed).values()
    assert transfer.kind == "transfer_notice" and transfer.step == "route"
    assert f"本机关已将该事项转送{TOWN_NAME}办理" in transfer.body and code in transfer.body
    assert transfer.template == str(template_identity("transfer_notice"))
    assert transfer.channels == ["inbox", "email", "sms"] and transfer.recipient["name"] == "王秀兰"

    [accepted] = platform.take(petition_id, TOWN, "accept", {"procedure": "ordinary"})
    [extended] = platform.take(petition_id, TOWN, "extend",
                               {"days": 30, "reasons": EXTENSION_REASONS, "approved_by": "张镇长"})
    [replied] = platform.take(petition_id, TOWN, "reply", {"outcome": "support", "opinion": OPINION})
    for event in (accepted, extended, replied):
        assert platform.notify(event) == PROCESSED

    [acceptance] = platform.notices(petition_id, accepted).values()
    assert acceptance.kind == "acceptance_notice" and acceptance.body.rstrip().split("\n")[-2] == TOWN_NAME
    assert "按照普通程序办理" in acceptance.body and "前出具书面处理意见" in acceptance.body

    [extension] = platform.notices(petition_id, extended).values()
    assert extension.kind == "extension_notice"
    assert EXTENSION_REASONS in extension.body and "张镇长批准" in extension.body and "办理期限延长30日" in extension.body

    opinion_notices = platform.notices(petition_id, replied)
    assert list(opinion_notices) == ["opinion", "rating_invitation"]
    opinion = opinion_notices["opinion"]
    for line in OPINION.split("\n"):
        assert line in opinion.body  # the opinion's text, which case.replied never carries
    assert REQUEST in opinion.body
    # The organ one level up, as the organ table names the town's (parent: the county government).
    assert "可以自收到本意见书之日起30日内，向示例县人民政府请求复查" in opinion.body
    assert f"查询码：{code}" in opinion.body
    assert "处理依据" not in opinion.body  # nothing records one: left out, never made up
    assert opinion.body.rstrip().split("\n")[-2] == TOWN_NAME  # issued by the organ that decided
    assert opinion.template == str(template_identity("opinion"))
    rating = opinion_notices["rating_invitation"]
    assert f"{TOWN_NAME}已出具处理意见书" in rating.body and f"输入查询码{code}" in rating.body

    # Processed again (a redelivery, or the same event handled twice): nothing new is requested.
    for event in (routed, accepted, extended, replied):
        before = platform.notices(petition_id, event)
        assert platform.notify(event) == DUPLICATE
        assert platform.notices(petition_id, event).keys() == before.keys()
    # The same step event under another tracking position (republished): still one notice of each kind.
    again = type(replied)(**{**replied.__dict__, "sequence": replied.sequence + 1})
    assert platform.notify(again) == PROCESSED
    assert [e.originator_version for n in platform.notices(petition_id, replied).values()
            for e in platform.notification.events.get(n.id)] == [1, 1]


def test_the_audit_finds_the_steps_notices_by_the_ids_of_the_case_events(platform: Platform) -> None:
    """The audit service names a petition's aggregates in notification from the ids its case events have as
    published events (services/audit/replay.py step_event_ids); notification answers those it holds."""
    from services.notification.application import case_aggregates
    from shared.language.integration.envelope import event_id

    petition_id = platform.petition()
    [routed] = published_steps(platform.supervision, petition_id)
    platform.notify(routed)
    [accepted] = platform.take(petition_id, TOWN, "accept", {"procedure": "ordinary"})
    platform.notify(accepted)
    source = platform.supervision.settings.event_source("supervision")
    steps = [event_id(source, petition_id, e.originator_version) for e in platform.supervision.events.get(petition_id)]
    assert {routed.id, accepted.id} <= set(steps)

    receipt = set(case_aggregates(petition_id))
    named = platform.notification.stored([a for a in case_aggregates(petition_id, steps) if a not in receipt])
    assert named == [notice_id(petition_id, "transfer_notice", routed.id),
                     notice_id(petition_id, "acceptance_notice", accepted.id)]


def test_the_organs_a_step_puts_the_case_before_are_told_by_e_mail_once_and_without_the_petitioner(
        platform: Platform) -> None:
    petition_id = platform.petition()
    code = platform.intake.particulars(petition_id, "notice")["query_code"]
    [routed] = published_steps(platform.supervision, petition_id)

    assert platform.notify(routed) == PROCESSED
    told = platform.notification.repository.get(organ_notice_id(petition_id, "330106001-ZF", routed.id))
    assert told.kind == "organ_case_notice" and told.channels == ["email"] and told.step == "route"
    assert told.recipient == {"name": TOWN_NAME, "email": "330106001.zf@example.gov.cn", "phone": None,
                              "organ": "330106001-ZF"}
    assert told.body.startswith(f"{TOWN_NAME}：") and "向贵单位转送信访事项一件" in told.body
    assert f"编号：{petition_id}" in told.body and "当前办理期限：" in told.body
    assert code not in told.body and "王秀兰" not in told.body and REQUEST not in told.body
    assert told.query_code == ""
    assert platform.notify(routed) == DUPLICATE  # once, however often the step's event comes

    platform.take(petition_id, TOWN, "accept", {"procedure": "ordinary"})
    platform.take(petition_id, TOWN, "reply", {"outcome": "support", "opinion": OPINION})
    [opened] = platform.take(petition_id, {"role": "clerk", "user": "clerk", "organ": "330106-XFJ"}, "open_review",
                             {"organ_code": "330106-ZF"})
    assert platform.notify(opened) == PROCESSED
    assert platform.notices(petition_id, opened) == {}  # nothing to the petitioner: the status page says it
    review = platform.notification.repository.get(organ_notice_id(petition_id, "330106-ZF", opened.id))
    assert "确定由贵单位复查" in review.body and review.recipient["email"] == "330106.zf@example.gov.cn"
    # The audit finds it among the step's notices.
    assert review.id in platform.notification.step_notices_of(petition_id, [opened.id])


def test_a_decline_sends_the_reason_and_its_basis(platform: Platform) -> None:
    petition_id = platform.petition()
    [declined] = platform.take(petition_id, TOWN, "decline",
                               {"reason_code": "statutory_procedure", "explanation": "已向人民法院提起诉讼。"})

    assert platform.notify(declined) == PROCESSED

    [notice] = platform.notices(petition_id, declined).values()
    assert notice.kind == "not_accepted_notice" and notice.step == "decline"
    assert "已经或者依法应当通过诉讼、仲裁、行政复议等法定途径解决" in notice.body
    assert "依照《信访工作条例》第二十二条第二款、第二十八条、第三十一条的规定，本机关决定不予受理" in notice.body
    assert "已向人民法院提起诉讼。" in notice.body  # the explanation: never on the exchange
    assert "已向人民法院提起诉讼" not in str(declined.data)


def test_a_step_declared_silent_requests_nothing(platform: Platform) -> None:
    petition_id = platform.petition()
    platform.take(petition_id, TOWN, "accept", {"procedure": "ordinary"})
    [recorded] = platform.take(petition_id, TOWN, "record_handling",
                               {"kind": "investigation", "summary": "现场调查"})
    step = notice_translate.CaseStep.of(recorded, step_particulars(platform.supervision, str(petition_id), recorded.id),
                                        platform.intake.particulars(petition_id, "notice"))

    assert platform.notification.request_step_notices(recorded, step) == PROCESSED
    assert platform.notices(petition_id, recorded) == {}
    assert list(platform.notification.events.get(
        notice_id(petition_id, "opinion", recorded.id))) == []


def test_supervision_answers_a_steps_particulars_only_for_its_own_published_events(platform: Platform) -> None:
    petition_id = platform.petition()
    [replied] = platform.take(petition_id, TOWN, "accept", {"procedure": "ordinary"})

    found = step_particulars(platform.supervision, str(petition_id), replied.id)
    assert found is not None and found["action"] == "accept" and found["decider"]["name"] == TOWN_NAME
    assert step_particulars(platform.supervision, str(petition_id), "not-an-event-id") is None
    assert step_particulars(platform.supervision, "not-a-uuid", replied.id) is None


def test_the_deadline_watch_reminds_the_organ_and_tells_it_of_the_breach_by_e_mail_once(platform: Platform) -> None:
    petition_id = platform.petition()
    due = platform.supervision.get_case(str(petition_id))["deadlines"]
    acceptance = next(d["due"] for d in due if d["kind"] == "acceptance")
    clock = platform.supervision.clock

    clock.set(acceptance)  # the due day itself: the nearest reminder (1 working day) goes out
    assert platform.supervision.watch([str(petition_id)], (3, 1)) == 1
    clock.set((date.fromisoformat(acceptance) + timedelta(days=3)).isoformat())
    assert platform.supervision.watch([str(petition_id)], (3, 1)) == 1
    assert platform.supervision.watch([str(petition_id)], (3, 1)) == 0
    reminded, breached = published_steps(platform.supervision, petition_id)[-2:]
    assert (reminded.data["action"], breached.data["action"]) == ("remind_deadline", "record_breach")
    assert breached.data["details"]["holder"]["code"] == "330106001-ZF"  # published: the organ, the kind, the days
    assert breached.data["details"]["due"] == acceptance and "late_days" not in breached.data["details"]

    for event, said in ((reminded, "今日届满"), (breached, "已记录超期")):
        assert platform.notify(event) == PROCESSED
        told = platform.notification.repository.get(organ_notice_id(petition_id, "330106001-ZF", event.id))
        assert told.channels == ["email"] and told.recipient["email"] == "330106001.zf@example.gov.cn"
        assert f"受理告知期限{'将' if event is reminded else '已'}于{chinese_day(acceptance)}届满" in told.body
        assert said in told.body and f"编号：{petition_id}" in told.body
        assert "王秀兰" not in told.body and REQUEST not in told.body
        assert platform.notices(petition_id, event) == {}  # nothing to the petitioner
        assert platform.notify(event) == DUPLICATE
