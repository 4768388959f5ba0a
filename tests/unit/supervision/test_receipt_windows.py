"""The review and re-review windows run from the petitioner's receipt of the written answer (《信访工作条例》第三十五条、
第三十六条: 自收到书面答复之日起30日内), not from the day it was issued: the earliest receipt by e-mail, SMS or post
(the recorded date of receipt) counts; a posting makes the receipt presumed 7 days later until the recorded receipt
replaces it; the status page's listing counts for nothing (services/supervision/case/receipt.py). Pure domain: no
store."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.supervision.domainmodel import Case
from services.supervision.lifecycle import Status
from services.supervision.projections import render
from services.supervision.translate import to_integration_event
from shared.language.integration.catalog import CASE_STEP_TYPES
from tests.unit.supervision.test_lifecycle import ORDINARY, PETITIONER, REVIEW_TO_FINAL, RULES, at, new_case, step

OPINION = "opinion-notice-1"
REVIEW_OPINION = "review-opinion-notice-1"
PROVISIONAL = "自出具处理意见书之日起暂计，送达后按送达之日重新计算"


def replied() -> Case:
    """Replied on 2026-11-02 (a Monday): the window counts provisionally to 2026-12-02."""
    case = new_case()
    for day, actor, method, kwargs, *_ in ORDINARY:
        step(case, day, actor, method, **kwargs)
    return case


def reviewed() -> Case:
    """The review opinion issued on 2026-12-01: the re-review window counts provisionally to 2026-12-31."""
    case = new_case()
    for day, actor, method, kwargs, *_ in REVIEW_TO_FINAL[:len(ORDINARY) + 3]:
        step(case, day, actor, method, **kwargs)
    assert case.status == Status.REVIEWED
    return case


def delivered(case: Case, on: str, channel: str = "sms", *, kind: str = "opinion", notice_id: str = OPINION,
              now: str | None = None) -> bool:
    return case.count_from_delivery(notice_id=notice_id, kind=kind, channel=channel,
                                    received_on=date.fromisoformat(on), rules=RULES, at=at(now or on),
                                    correlation_id="c", causation_id="notification-event")


def posted(case: Case, on: str, *, kind: str = "opinion", notice_id: str = OPINION, days: int = 7) -> bool:
    return case.count_from_posting(notice_id=notice_id, kind=kind, posted_on=date.fromisoformat(on),
                                   presumed_days=days, rules=RULES, at=at(on), correlation_id="c")


def window(case: Case, kind: str = "review_request") -> dict[str, Any]:
    return case.deadlines[kind]


def test_the_opinion_opens_the_window_from_the_issuing_day_provisionally_saying_so() -> None:
    case = replied()

    assert (window(case)["start"], window(case)["due"]) == ("2026-11-02", "2026-12-02")
    assert window(case)["basis"].startswith(PROVISIONAL)
    assert "30日内可请求复查（《信访工作条例》第三十五条）" in window(case)["basis"]
    assert "counted_from" not in window(case)


def test_a_receipt_by_sms_counts_the_window_from_that_day_with_its_basis() -> None:
    case = replied()

    assert delivered(case, "2026-11-04", "sms") is True

    assert (window(case)["start"], window(case)["due"]) == ("2026-11-04", "2026-12-04")
    assert window(case)["basis"] == "自2026年11月4日收到处理意见书（短信送达）起30日内可请求复查（《信访工作条例》第三十五条）"
    recount = case.collect_events()[-1]
    assert isinstance(recount, Case.WindowCountedFromReceipt) and recount.action == "count_from_receipt"
    assert recount.status == Status.REPLIED.value and recount.actor["user"] == "notice-receipt"
    assert recount.basis.startswith("《信访工作条例》第三十五条：") and "自收到书面答复之日起30日内" in recount.basis
    assert recount.details == {"window": "review_request", "kind": "opinion", "notice_id": OPINION,
                               "delivered_by": "sms", "received_on": "2026-11-04", "presumed": False,
                               "posted_on": None, "previous_due": "2026-12-02"}


def test_the_case_view_and_the_timeline_show_the_recounted_window() -> None:
    case = replied()
    delivered(case, "2026-11-04", "sms")

    view = render(case.collect_events())

    shown = next(d for d in view.deadlines if d.kind == "review_request")
    assert (shown.due, shown.start, shown.status) == ("2026-12-04", "2026-11-04", "open")
    assert shown.basis.startswith("自2026年11月4日收到处理意见书（短信送达）")
    assert view.next_deadline.due == "2026-12-04"
    assert view.timeline[-1].step == "count_from_receipt"
    assert view.timeline[-1].text == ("处理意见书已于2026年11月4日短信送达，复查请求期限自该日起计算，"
                                      "可于2026年12月4日前请求复查")
    assert view.case_file[-1].step == "count_from_receipt" and view.case_file[-1].said["delivered_by"] == "sms"


def test_the_recount_is_published_as_a_case_step_without_the_notice_id() -> None:
    case = replied()
    delivered(case, "2026-11-04", "sms")
    recount = case.collect_events()[-1]

    published = to_integration_event(recount, 7, "urn:xinfang:330106:supervision")

    event_type = CASE_STEP_TYPES["window_counted_from_receipt"]
    assert published.event_type == event_type and event_type.validator.is_valid(published.data)
    assert published.data["details"] == {"window": "review_request", "kind": "opinion", "received_on": "2026-11-04",
                                         "previous_due": "2026-12-02"}
    assert published.data["deadlines_opened"][0]["due"] == "2026-12-04"


def test_a_later_email_does_not_move_the_window_but_an_earlier_receipt_does() -> None:
    case = replied()
    delivered(case, "2026-11-04", "sms")
    version = case.version

    assert delivered(case, "2026-11-05", "email") is False
    assert case.version == version and window(case)["due"] == "2026-12-04"
    # The earliest actual receipt wins, whichever channel reports it last.
    assert delivered(case, "2026-11-03", "email") is True
    assert (window(case)["start"], window(case)["due"]) == ("2026-11-03", "2026-12-03")
    assert "（电子邮件送达）" in window(case)["basis"]


def test_the_status_page_listing_is_no_receipt() -> None:
    case = replied()
    version = case.version

    assert delivered(case, "2026-11-02", "inbox") is False

    assert case.version == version and window(case)["due"] == "2026-12-02"
    assert window(case)["basis"].startswith(PROVISIONAL)


def test_a_posting_makes_the_receipt_presumed_seven_days_later() -> None:
    case = replied()

    assert posted(case, "2026-11-03") is True

    assert (window(case)["start"], window(case)["due"]) == ("2026-11-10", "2026-12-10")
    basis = window(case)["basis"]
    assert basis.startswith("自2026年11月3日挂号邮寄处理意见书，推定2026年11月10日送达")
    assert "登记实际收到日期后按收到之日重新计算" in basis and basis.endswith("（《信访工作条例》第三十五条）")
    assert render(case.collect_events()).timeline[-1].text == (
        "处理意见书已于2026年11月3日挂号邮寄，推定2026年11月10日送达，复查请求期限自该日起计算，可于2026年12月10日前请求复查")


def test_the_presumed_days_are_the_countys_setting(tmp_path) -> None:
    from services.supervision.bootstrap import build_application
    from services.supervision.settings import SupervisionSettings

    case = replied()
    posted(case, "2026-11-03", days=10)
    assert window(case)["start"] == "2026-11-13" and "邮寄后第10日" in window(case)["basis"]

    common = {"XINFANG_ENV": "test", "EVENT_STORE": "sqlite", "DATA_DIR": str(tmp_path)}
    assert SupervisionSettings(**common).postal_receipt_presumed_days == 7
    app = build_application(SupervisionSettings(**common, POSTAL_RECEIPT_PRESUMED_DAYS="10"))
    try:
        assert app.postal_receipt_presumed_days == 10
    finally:
        app.close()


@pytest.mark.parametrize(("received_on", "due"), [
    pytest.param("2026-11-12", "2026-12-14", id="later than presumed"),
    pytest.param("2026-11-06", "2026-12-07", id="earlier than presumed"),
])
def test_a_recorded_postal_receipt_replaces_the_presumption(received_on: str, due: str) -> None:
    case = replied()
    posted(case, "2026-11-03")

    assert delivered(case, received_on, "post", now="2026-11-20") is True

    assert (window(case)["start"], window(case)["due"]) == (received_on, due)
    assert window(case)["counted_from"]["presumed"] is False
    assert "（邮寄送达）" in window(case)["basis"] and "推定" not in window(case)["basis"]
    # ... and the presumption never comes back: the same posting redelivered changes nothing.
    assert posted(case, "2026-11-03") is False
    assert window(case)["due"] == due


def test_a_posting_after_an_actual_receipt_changes_nothing() -> None:
    case = replied()
    delivered(case, "2026-11-04", "email")

    assert posted(case, "2026-11-05") is False
    assert window(case)["due"] == "2026-12-04"


def test_a_redelivered_receipt_or_posting_changes_nothing() -> None:
    case = replied()
    assert delivered(case, "2026-11-04", "sms") is True
    version = case.version

    assert delivered(case, "2026-11-04", "sms") is False
    assert case.version == version
    assert case.receipt_counted(OPINION, "opinion", "sms", date(2026, 11, 4))
    assert case.receipt_counted(OPINION, "opinion", "email", date(2026, 11, 9))
    assert not case.receipt_counted(OPINION, "opinion", "email", date(2026, 11, 3))  # earlier: would recount

    other = replied()
    assert posted(other, "2026-11-03") is True
    version = other.version
    assert posted(other, "2026-11-03") is False and posted(other, "2026-11-04") is False
    assert other.version == version


def test_a_late_receipt_extends_a_window_the_provisional_count_let_pass() -> None:
    """The provisional count ended on 2026-12-02; the sweep has not run; the receipt recorded on 12-03 shows the
    letter arrived on 11-20: the statute counts from receipt, so the window runs to 12-21."""
    case = replied()

    assert delivered(case, "2026-11-20", "post", now="2026-12-03") is True

    assert window(case)["due"] == "2026-12-21"
    assert case.finalize_if_window_passed(at=at("2026-12-03"), correlation_id="c") is False
    step(case, "2026-12-10", PETITIONER, "request_review", reasons="不服")
    assert case.status == Status.REVIEW_REQUESTED


def test_a_case_that_moved_on_ignores_late_receipts() -> None:
    requested = replied()
    step(requested, "2026-11-10", PETITIONER, "request_review", reasons="不服")
    final = replied()
    assert final.finalize_if_window_passed(at=at("2026-12-03"), correlation_id="c") is True

    for case in (requested, final):
        version = case.version
        assert delivered(case, "2026-11-04", "sms", now="2026-12-04") is False
        assert posted(case, "2026-11-03") is False
        assert case.version == version


def test_only_the_answer_that_opened_the_window_counts() -> None:
    case = replied()

    assert delivered(case, "2026-11-04", "sms", kind="acceptance_notice", notice_id="other") is False
    assert delivered(case, "2026-11-04", "sms", kind="review_opinion", notice_id="other") is False
    assert delivered(case, "2026-11-01", "post", notice_id="an-earlier-opinion") is False  # before this one issued
    assert delivered(case, "2026-11-04", "sms") is True
    assert delivered(case, "2026-11-03", "post", notice_id="an-earlier-opinion") is False  # another notice
    assert window(case)["due"] == "2026-12-04"


def test_the_re_review_window_counts_from_receipt_of_the_review_opinion() -> None:
    case = reviewed()
    assert window(case, "re_review_request")["due"] == "2026-12-31"
    assert window(case, "re_review_request")["basis"].startswith("自出具复查意见书之日起暂计，送达后按送达之日重新计算")

    assert delivered(case, "2026-12-03", "sms", kind="opinion") is False  # the earlier answer's kind
    assert delivered(case, "2026-12-03", "sms", kind="review_opinion", notice_id=REVIEW_OPINION) is True
    assert delivered(case, "2026-12-04", "email", kind="review_opinion", notice_id=REVIEW_OPINION) is False

    counted = window(case, "re_review_request")
    assert (counted["start"], counted["due"]) == ("2026-12-03", "2027-01-04")
    assert counted["basis"] == "自2026年12月3日收到复查意见书（短信送达）起30日内可请求复核（《信访工作条例》第三十六条）"
    assert render(case.collect_events()).timeline[-1].text.startswith(
        "复查意见书已于2026年12月3日短信送达，复核请求期限自该日起计算")
    assert case.finalize_if_window_passed(at=at("2027-01-04"), correlation_id="c") is False
    assert case.finalize_if_window_passed(at=at("2027-01-05"), correlation_id="c") is True


def test_a_re_review_window_presumed_from_posting() -> None:
    case = reviewed()

    assert posted(case, "2026-12-02", kind="review_opinion", notice_id=REVIEW_OPINION) is True

    counted = window(case, "re_review_request")
    assert counted["start"] == "2026-12-09"
    assert counted["basis"].startswith("自2026年12月2日挂号邮寄复查意见书，推定2026年12月9日送达")
    assert "可请求复核" in counted["basis"]


def test_a_recounted_window_survives_the_calendar_recount(tmp_path) -> None:
    """A provisional due day counted again once the holiday table covers its year keeps what it counts from."""
    from services.supervision.calendar import StatutoryCalendar
    from services.supervision.deadlines import DeadlineRules

    case = reviewed()
    delivered(case, "2026-12-03", "sms", kind="review_opinion", notice_id=REVIEW_OPINION)
    assert window(case, "re_review_request")["provisional"] is True  # 2027-01-04, counted by rule only
    table = tmp_path / "holidays.yaml"
    table.write_text("years:\n  2027:\n    holidays: [2027-01-04]\n", encoding="utf-8")
    covered = DeadlineRules(RULES.table, StatutoryCalendar.load(table))

    assert case.recompute_deadlines(rules=covered, at=at("2026-12-05"), correlation_id="c") is True

    counted = window(case, "re_review_request")
    assert (counted["due"], counted["provisional"]) == ("2027-01-05", False)
    assert counted["counted_from"]["notice_id"] == REVIEW_OPINION and counted["basis"].startswith("自2026年12月3日收到")
    assert delivered(case, "2026-12-04", "email", kind="review_opinion", notice_id=REVIEW_OPINION) is False
