"""What a step's notice says (services/notification/compose.py): which kinds its declaration sends for what it
recorded, and the values each template needs, from the step as supervision recorded it and intake's particulars; a
notice's id (services/notification/domainmodel.py notice_id); notices requested before issue 17 load; and the queue
notification reads the steps from (shared/runtime/messaging/topology.py NOTICE_STEP_TYPES)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.notification.compose import UnknownStep, notice_kinds, notice_values, organs_told
from services.notification.domainmodel import NOTICE_NAMESPACE, Notice, notice_id
from services.notification.templates import render
from services.notification.translate import CaseStep, Recipient
from shared.language.contracts.lifecycle import STEPS
from shared.language.contracts.notices import NOTICES, TELLS_ORGANS, NoticeKind
from shared.language.integration.catalog import CASE_STEP_TYPES
from shared.runtime.messaging import topology

N = NoticeKind
PETITION = uuid.UUID("6f1f3c1e-9a55-4c1e-8f43-8e8f2f0c9b11")
TOWN = {"code": "330106001-ZF", "name": "示例县城关镇人民政府"}
COUNTY = {"code": "330106-ZF", "name": "示例县人民政府"}
BUREAU = "示例县信访局"
WANG = Recipient("王秀兰", None, "13800138000")


def step(action: str, details: dict[str, Any], *, basis: str = "", opened: tuple = (), decider: Any = TOWN,
         case: dict[str, Any] | None = None, recipient: Recipient | None = WANG) -> CaseStep:
    return CaseStep(event_id="e-1", petition_id=PETITION, action=action, at=datetime(2026, 12, 1, 2, tzinfo=UTC),
                    details=details, basis=basis, opened=opened, case=case or {"organ": TOWN}, decider=decider,
                    query_code="ABCD-EFGH-JKMN-PQRS", title="小区污水外溢", request="请求疏通污水管道",
                    facts="三月起多次外溢", registered_at=datetime(2026, 11, 26, 1, tzinfo=UTC), recipient=recipient)


def values(kind: NoticeKind, of: CaseStep, **settings: str) -> dict[str, str]:
    return notice_values(kind, of, bureau_name=BUREAU, issued_on="2026年12月1日", **settings)


# --- which notices ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("action", "details", "kinds"), [
    ("route", {"disposition": "transfer"}, (N.TRANSFER_NOTICE,)),
    ("route", {"disposition": "assign"}, (N.ASSIGNMENT_NOTICE,)),
    ("route", {"disposition": "out_of_remit"}, (N.REDIRECT_NOTICE,)),
    ("route", {"disposition": "report_up"}, ()),
    ("accept", {"procedure": "ordinary"}, (N.ACCEPTANCE_NOTICE,)),
    ("reply", {"outcome": "support"}, (N.OPINION, N.RATING_INVITATION)),
    ("decide_review", {"outcome": "rehandle"}, (N.REVIEW_OPINION,)),
    ("decide_objection", {"upheld": False}, ()),
    ("record_handling", {"kind": "investigation"}, ()),
])
def test_a_step_sends_what_its_declaration_says_for_what_it_recorded(action, details, kinds) -> None:
    assert notice_kinds(action, details) == kinds


def test_a_step_no_declaration_knows_is_an_error() -> None:
    with pytest.raises(UnknownStep):
        notice_kinds("teleport", {})


def test_notification_reads_every_step_that_may_send_a_notice_and_no_other_from_one_queue() -> None:
    sending = {t for s in STEPS.values() if s.notice.named() or s.name in TELLS_ORGANS for t in s.publishes}
    subscription = topology.subscription_for("notification", "handle_case_step")

    assert {t.name for t in subscription.event_types} == {f"case.{name}" for name in sending}
    assert CASE_STEP_TYPES["replied"] in subscription.event_types
    assert CASE_STEP_TYPES["review_opened"] in subscription.event_types  # silent to the petitioner, tells the organ
    assert CASE_STEP_TYPES["evaluated"] not in subscription.event_types  # silent everywhere
    queue = topology.consumer_queue("xinfang", subscription)
    assert sorted(b.routing_key for b in queue.bindings) == sorted(t.type for t in subscription.event_types)


# --- the values ----------------------------------------------------------------------------------------------------
def test_every_value_a_kind_declares_is_given_and_no_other() -> None:
    reply = step("reply", {"level": "reply", "outcome": "support", "opinion": "已疏通"})
    for kind in (N.OPINION, N.RATING_INVITATION):
        assert set(values(kind, reply)) == set(NOTICES[kind].values)


def test_the_opinion_quotes_the_petitioners_words_and_the_organs_opinion_and_is_issued_by_that_organ() -> None:
    reply = step("reply", {"level": "reply", "outcome": "not_support", "opinion": "缺乏政策依据"},
                 basis="《信访工作条例》第三十二条")
    given = values(N.OPINION, reply)

    assert (given["request"], given["facts"], given["opinion"]) == ("请求疏通污水管道", "三月起多次外溢", "缺乏政策依据")
    assert given["issuer_name"] == TOWN["name"] and given["outcome"] == "not_support"
    # No basis given with the reply, no superior named: left empty, never the step's own statute.
    assert given["basis"] == "" and given["review_organ"] == ""
    assert given["registered_date"] == "2026年11月26日" and given["name"] == "王秀兰"
    body = render("opinion", **given).body
    assert "缺乏政策依据" in body and "30日内" in body and "ABCD-EFGH-JKMN-PQRS" in body


def test_the_opinion_states_the_basis_the_organ_gave_and_names_its_superior_for_review() -> None:
    reply = step("reply", {"level": "reply", "outcome": "support", "opinion": "予以疏通",
                           "opinion_basis": "《城镇排水与污水处理条例》第三十二条"})
    given = values(N.OPINION, reply, superior="示例县人民政府")

    assert given["basis"] == "《城镇排水与污水处理条例》第三十二条" and given["review_organ"] == "示例县人民政府"
    body = render("opinion", **given).body
    assert "四、处理依据" in body and "向示例县人民政府请求复查" in body


def test_the_organs_told_are_those_the_step_put_the_case_before_and_never_one_that_objected() -> None:
    joining = {"code": "330106-ZJJ", "name": "示例县住房和城乡建设局"}
    routed = step("route", {"disposition": "assign"}, case={"organ": TOWN, "joining_organs": [joining]})
    assert organs_told(routed) == [(TOWN, "assign"), (joining, "join")]
    review = step("open_review", {}, case={"organ": TOWN, "review_organ": COUNTY})
    assert organs_told(review) == [(COUNTY, "review")]
    # Upheld without a new organ: the rules route it again (and that routing tells the organ they choose); the case
    # still names the organ that objected, which must not be told to accept it.
    upheld = step("decide_objection", {"upheld": True, "excluded_organs": [TOWN["code"]]}, case={"organ": TOWN})
    assert organs_told(upheld) == []
    named = step("decide_objection", {"upheld": True, "organ": COUNTY}, case={"organ": COUNTY})
    assert organs_told(named) == [(COUNTY, "transfer")]
    rejected = step("decide_objection", {"upheld": False}, case={"organ": TOWN})
    assert organs_told(rejected) == []
    assert organs_told(step("accept", {"procedure": "ordinary"})) == []


def test_routing_notices_are_the_bureaus_and_name_every_organ() -> None:
    routed = step("route", {"disposition": "transfer", "organ": TOWN,
                            "joining_organs": [COUNTY, {"code": "x", "name": "示例县住房和城乡建设局"}]},
                  basis="属地管理", decider=None)
    given = values(N.TRANSFER_NOTICE, routed)

    assert given["issuer_name"] == BUREAU and given["organ_name"] == TOWN["name"]
    assert given["joining_organ_names"] == "示例县人民政府、示例县住房和城乡建设局" and given["basis"] == "属地管理"


def test_a_decision_the_bureau_took_is_issued_in_the_bureaus_name() -> None:
    declined = step("decline", {"reason": "不属于信访事项受理范围", "explanation": ""},
                    basis="《信访工作条例》第二十三条", decider=None)

    assert values(N.NOT_ACCEPTED_NOTICE, declined)["issuer_name"] == BUREAU


def test_the_acceptance_and_extension_notices_give_the_due_dates_the_step_opened() -> None:
    accepted = step("accept", {"procedure": "simplified", "accepted_on": "2026-12-01"},
                    opened=({"kind": "simplified_handling", "due": "2026-12-15"},))
    extended = step("extend", {"days": 30, "reasons": "情况复杂", "approved_by": "张镇长", "previous_due": "2027-01-29"},
                    opened=({"kind": "handling", "due": "2027-03-01"},))

    given = values(N.ACCEPTANCE_NOTICE, accepted)
    assert (given["accepted_on"], given["procedure"], given["handling_due"]) == ("2026年12月1日", "simplified",
                                                                                 "2026年12月15日")
    given = values(N.EXTENSION_NOTICE, extended)
    assert (given["previous_due"], given["days"], given["new_due"], given["approved_by"]) == (
        "2027年1月29日", "30", "2027年3月1日", "张镇长")


def test_the_review_opinion_names_the_organ_reviewed_and_when_it_was_asked() -> None:
    review = step("decide_review", {"level": "review", "outcome": "uphold", "opinion": "维持"}, decider=COUNTY,
                  case={"organ": TOWN, "review_organ": COUNTY, "requested_on": "2026-12-20"})
    given = values(N.REVIEW_OPINION, review)

    assert (given["issuer_name"], given["original_organ_name"], given["requested_on"]) == (
        COUNTY["name"], TOWN["name"], "2026年12月20日")
    assert "向本机关的上一级机关、单位请求复核" in render("review_opinion", **given).body


def test_the_invitation_to_rate_names_the_status_page_when_one_is_configured() -> None:
    reply = step("reply", {"level": "reply", "outcome": "support", "opinion": "已疏通"})

    assert values(N.RATING_INVITATION, reply)["status_url"] == ""
    assert values(N.RATING_INVITATION, reply, status_url="https://x.example/s")["status_url"] == "https://x.example/s"
    assert values(N.RATING_INVITATION, reply)["organ_name"] == TOWN["name"]


def test_an_anonymous_report_is_addressed_to_the_petitioner() -> None:
    assert values(N.ACCEPTANCE_NOTICE, step("accept", {"procedure": "ordinary", "accepted_on": "2026-12-01"},
                                            opened=({"kind": "handling", "due": "2027-01-29"},),
                                            recipient=None))["name"] == ""


def test_the_registration_receipt_is_not_a_steps_notice() -> None:
    with pytest.raises(ValueError):
        values(N.REGISTRATION_RECEIPT, step("accept", {}))


# --- a notice's id -------------------------------------------------------------------------------------------------
def test_a_notice_is_identified_by_its_petition_its_kind_and_the_step_event_that_asked_for_it() -> None:
    assert notice_id(PETITION, "registration_receipt") == Notice.create_id(PETITION, "registration_receipt") == \
        uuid.uuid5(NOTICE_NAMESPACE, f"{PETITION}/registration_receipt")  # as the receipts were stored
    assert notice_id(PETITION, "opinion", "e-1") == uuid.uuid5(NOTICE_NAMESPACE, f"{PETITION}/opinion/e-1")
    assert len({notice_id(PETITION, "opinion", "e-1"), notice_id(PETITION, "opinion", "e-2"),
                notice_id(PETITION, "rating_invitation", "e-1"), notice_id(uuid.uuid4(), "opinion", "e-1")}) == 4
    notice = Notice(petition_id=PETITION, kind="opinion", query_code="q", recipient={}, title="t", body="b",
                    channels=["inbox"], correlation_id="c", causation_id="e-1", template="opinion@v2+sha256:0",
                    step="reply")
    assert notice.id == notice_id(PETITION, "opinion", "e-1")
    assert (notice.template, notice.step) == ("opinion@v2+sha256:0", "reply")


def test_a_notice_requested_before_templates_were_recorded_still_loads() -> None:
    from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, UUIDAsHex

    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    mapper = Mapper(transcoder=transcoder)
    notice = Notice(petition_id=PETITION, kind="registration_receipt", query_code="q", recipient={"name": "王"},
                    title="信访事项登记回执", body="b", channels=["inbox"], correlation_id="c", causation_id="x",
                    template="registration_receipt@v1+sha256:0", step=None)
    [requested] = notice.collect_events()
    stored = mapper.to_stored_event(requested)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    for name in ("template", "step"):  # as v1 stored it: neither field, no class version
        state.pop(name)
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic,
                       json.dumps(state).encode("utf-8"))

    loaded = mapper.to_domain_event(old)
    assert (loaded.template, loaded.step, loaded.body) == ("", None, "b")


def test_a_notice_dates_the_petition_from_when_the_letter_arrived_not_from_when_it_was_typed_in() -> None:
    from datetime import UTC, datetime

    from services.notification.translate import petitioned_on

    registered = datetime(2026, 12, 5, 2, 31, tzinfo=UTC)  # 10:31 in China
    assert petitioned_on(registered, "2026-12-03") == "2026年12月3日"  # a letter, as the counter registered it
    assert petitioned_on(registered, "2026-12-04T16:30:00+08:00") == "2026年12月4日"  # a visit, with its time
    assert petitioned_on(registered, None) == "2026年12月5日"  # online: the day it was registered
