"""The CaseView projection's pure part: `apply` (one event) and `render` (a whole history), fed with real
`Case` aggregate events. mongoengine documents are built and converted with `to_mongo()`: no MongoDB involved.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.supervision.domainmodel import Case
from services.supervision.lifecycle import STATUS_TEXT, Status
from services.supervision.projections import apply, render
from shared.language.readmodels import CaseView

REGISTERED_AT = "2026-11-26T08:00:00+00:00"
TRANSFERRED_AT = "2026-11-26T08:05:00+00:00"
NOTICE_AT = "2026-11-26T08:06:00+00:00"
ORGAN = {"code": "330106-zjj", "name": "西湖区住房和城乡建设局"}
DEADLINE = {"kind": "acceptance", "label": "受理告知期限", "due": "2026-12-11",
            "basis": "《信访工作条例》第二十四条", "provisional": False}


def opened_case(petition_id: UUID | None = None, *, at: str = REGISTERED_AT, channel: str = "online") -> Case:
    return Case(petition_id=petition_id or uuid4(), query_code="XF330106-0001", title="小区加装电梯补贴未发放",
                category="appeal", channel=channel, place_code="330106001", at=at, deadlines=[dict(DEADLINE)],
                correlation_id="c", causation_id="x", people_count=1, repeat_of=None, flags=[],
                accused_organs=[], topic=None, received_at=None, provincial=None)


def transfer(case: Case, *, at: str = TRANSFERRED_AT) -> None:
    case.assign_organ(organ=dict(ORGAN), basis="物业与住房类事项由区住建局办理", rules_version="2026.11",
                      at=at, correlation_id="c", causation_id="routing-1")


def deliver_notice(case: Case, *, channel: str = "inbox", title: str = "受理告知书", at: str = NOTICE_AT) -> None:
    case.record_notice(notice_id="notice-1", kind="acceptance", title=title, channel=channel, at=at,
                       correlation_id="c", causation_id="notification-1")


def full_history() -> tuple[UUID, list[Any]]:
    petition_id = uuid4()
    case = opened_case(petition_id)
    transfer(case)
    deliver_notice(case)
    return petition_id, case.collect_events()


def as_document(view: CaseView) -> dict[str, Any]:
    return view.to_mongo().to_dict()


def test_the_history_is_opened_assigned_and_notice_delivered() -> None:
    _petition_id, events = full_history()

    assert [type(e) for e in events] == [Case.Opened, Case.OrganAssigned, Case.NoticeDelivered]


def test_render_shows_a_transferred_case_with_its_organ_routing_basis_and_deadline() -> None:
    petition_id, events = full_history()

    view = render(events)

    assert view.petition_id == str(petition_id)
    assert view.query_code == "XF330106-0001"
    assert view.status == "awaiting_acceptance"
    assert view.status_text == STATUS_TEXT[Status.AWAITING_ACCEPTANCE]
    assert (view.organ.code, view.organ.name) == (ORGAN["code"], ORGAN["name"])
    assert view.routing_basis == "物业与住房类事项由区住建局办理"
    assert view.rules_version == "2026.11"
    assert [(d.kind, d.label, d.due, d.basis, d.provisional) for d in view.deadlines] == [
        ("acceptance", "受理告知期限", "2026-12-11", "《信访工作条例》第二十四条", False)]
    assert (view.title, view.category, view.channel, view.place_code) == (
        "小区加装电梯补贴未发放", "appeal", "online", "330106001")
    assert view.registered_at == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def test_render_gives_a_chinese_timeline_of_registration_transfer_and_notice() -> None:
    _petition_id, events = full_history()

    view = render(events)

    assert [(entry.step, entry.text, entry.at) for entry in view.timeline] == [
        ("registered", "信访事项已登记（网上信访）", datetime(2026, 11, 26, 8, 0, tzinfo=UTC)),
        ("transferred", f"已转送{ORGAN['name']}办理，该机关将在规定期限内告知是否受理",
         datetime(2026, 11, 26, 8, 5, tzinfo=UTC)),
        ("notice_delivered", "《受理告知书》已在查询页面公布", datetime(2026, 11, 26, 8, 6, tzinfo=UTC)),
    ]


@pytest.mark.parametrize(
    ("channel", "shown_as"),
    [
        pytest.param("email", "电子邮件", id="e-mail"),
        pytest.param("sms", "短信", id="text message"),
        pytest.param("post", "邮寄", id="post: the recorded receipt"),
        pytest.param("fax", "fax", id="an unknown channel is shown as it is"),
    ],
)
def test_the_notice_step_names_the_channel_it_was_delivered_through(channel: str, shown_as: str) -> None:
    case = opened_case()
    transfer(case)
    deliver_notice(case, channel=channel, title="不予受理告知书")

    view = render(case.collect_events())

    assert view.timeline[-1].text == f"《不予受理告知书》已送达（{shown_as}）"


def test_a_notice_listed_on_the_status_page_is_said_published_there_not_delivered() -> None:
    """The status page lists every notice; that is publication, not receipt: nobody is said to have received it
    "by in-app message" (issue 17: an 84-year-old at the counter has no account)."""
    case = opened_case()
    transfer(case)
    deliver_notice(case, channel="inbox", title="不予受理告知书")

    assert render(case.collect_events()).timeline[-1].text == "《不予受理告知书》已在查询页面公布"


def test_a_just_registered_case_is_registered_with_one_timeline_entry() -> None:
    case = opened_case(channel="letter")

    view = render(case.collect_events())

    assert view.status == "registered"
    assert view.status_text == STATUS_TEXT[Status.REGISTERED]
    assert view.organ is None
    assert view.version == 1
    assert [(entry.step, entry.text) for entry in view.timeline] == [("registered", "信访事项已登记（来信）")]


def test_the_version_is_the_last_events_version() -> None:
    _petition_id, events = full_history()

    view = render(events)

    assert view.version == events[-1].originator_version == 3


def test_applying_the_events_one_by_one_gives_the_same_document_as_render() -> None:
    _petition_id, events = full_history()
    view: CaseView | None = None
    versions: list[int] = []

    for event in events:
        view = apply(view, event)
        versions.append(view.version)

    assert view is not None
    assert versions == [1, 2, 3]
    assert as_document(view) == as_document(render(events))


def test_applying_the_newer_events_to_a_rendered_view_gives_the_same_document_as_rendering_them_all() -> None:
    # What the projector does with a view that is one batch behind.
    _petition_id, events = full_history()
    view = render(events[:1])

    for event in events[1:]:
        view = apply(view, event)

    assert as_document(view) == as_document(render(events))


def test_the_document_is_keyed_by_the_petition_id() -> None:
    petition_id, events = full_history()

    document = as_document(render(events))

    assert document["_id"] == str(petition_id)
    assert document["version"] == 3
    assert document["organ"] == ORGAN


def test_a_history_that_does_not_start_with_case_opened_is_refused() -> None:
    _petition_id, events = full_history()

    with pytest.raises(ValueError, match="does not start with Case.Opened"):
        render(events[1:])


def test_an_event_other_than_case_opened_without_a_view_is_refused_by_apply() -> None:
    _petition_id, events = full_history()

    with pytest.raises(ValueError, match="does not start with Case.Opened"):
        apply(None, events[2])


def test_an_empty_history_is_refused() -> None:
    with pytest.raises(ValueError, match="no events"):
        render([])


def test_an_unparseable_registration_time_is_refused_by_the_case() -> None:
    with pytest.raises(ValueError):
        opened_case(at="26.11.2026 08:00")


def test_an_unparseable_transfer_time_is_refused_by_the_case() -> None:
    case = opened_case()

    with pytest.raises(ValueError):
        transfer(case, at="yesterday")


def test_an_unparseable_notice_time_raises() -> None:
    case = opened_case()
    transfer(case)
    deliver_notice(case, at="")

    with pytest.raises(ValueError):
        render(case.collect_events())


def test_only_the_views_on_the_petitioners_path_are_written_without_gathering() -> None:
    """The status view (`case_views`) shows the routed organ as soon as it is recorded: its projection never waits
    for events to gather (bench (b) times exactly that). The projections no one waits on right after a step do,
    under load, so they write less often to the read-model server the status view shares."""
    from services.intake.search import SearchIndexProjection  # noqa: PLC0415 - only this test needs intake's
    from services.notification.records import NoticeRecordProjection  # noqa: PLC0415 - nor notification's
    from services.supervision.assessment import AssessmentProjection  # noqa: PLC0415
    from services.supervision.circulars import CircularProjection  # noqa: PLC0415
    from services.supervision.projections import CaseViewProjection  # noqa: PLC0415
    from services.supervision.warnings import WarningProjection  # noqa: PLC0415
    from services.supervision.worklists import CaseRowProjection  # noqa: PLC0415

    assert getattr(CaseViewProjection, "gather_seconds", 0.0) == 0.0
    gathered = [CaseRowProjection, AssessmentProjection, WarningProjection, CircularProjection,
                NoticeRecordProjection, SearchIndexProjection]
    assert all(0 < projection.gather_seconds <= 2.0 for projection in gathered)
    assert CaseRowProjection.gather_seconds <= 0.5  # an officer's work list trails a step by half a second at most
