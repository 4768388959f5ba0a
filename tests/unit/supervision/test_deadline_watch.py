"""Late is recorded, not refused; the deadline watch reminds before a duty's day and records its breach after it,
each once, the breach at its true time (services/supervision/case/oversight.py). Pure domain: no store.

Dates counted by hand on the 2026 calendar: routed on Tue 09-29, the acceptance is due 15 days later, Wed 10-14
(National Day 10-01..10-08 off; Saturday 10-10 worked); working days left to 10-14: 4 on Fri 10-09, 3 on Sat 10-10
and Sun 10-11, 2 on 10-12, 1 on 10-13, 0 on the day itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.supervision.domainmodel import Case
from services.supervision.projections import render
from tests.unit.supervision.test_lifecycle import CLERK, ORDINARY, RULES, SYSTEM, A, at, new_case, officer, step

CN = timezone(timedelta(hours=8))
REMINDERS = (3, 1)


def routed() -> Case:
    case = new_case("2026-09-28")
    step(case, "2026-09-29", SYSTEM, "route", disposition="transfer", organ=A, joining_organs=[], basis="属地")
    return case


def watch(case: Case, when: datetime | str) -> list[Case.Transitioned]:
    before = len(case.pending_events)
    case.watch_deadlines(rules=RULES, reminders=REMINDERS, at=at(when) if isinstance(when, str) else when,
                         correlation_id="w")
    return case.pending_events[before:]


# --- late is recorded, not refused ------------------------------------------------------------------------------
def test_an_acceptance_after_the_15_days_is_taken_and_recorded_late_by_the_days_it_was_late():
    case = routed()
    step(case, "2026-10-19", officer(A), "accept", procedure="ordinary")  # due 10-14: five days late

    accepted = case.pending_events[-1]
    assert case.status == "handling"
    assert accepted.closed == {"acceptance": "late", "objection": "met"}  # the objection is a right, never late
    assert accepted.details["late_days"] == {"acceptance": 5}
    assert case.deadlines["acceptance"]["status"] == "late"
    assert case.deadlines["acceptance"]["late_days"] == 5
    view = render(case.collect_events())
    shown = {d.kind: (d.status, d.late_days) for d in view.deadlines}
    assert shown["acceptance"] == ("late", 5)


def test_a_step_on_the_due_day_is_met_and_records_no_lateness():
    case = routed()
    step(case, "2026-10-14", officer(A), "accept", procedure="ordinary")
    assert case.pending_events[-1].closed == {"acceptance": "met", "objection": "met"}
    assert "late_days" not in case.pending_events[-1].details


def test_a_reply_after_the_60_days_closes_the_handling_deadline_late():
    case = new_case()
    for day, actor, method, kwargs, *_ in ORDINARY[:2]:  # routed, accepted: handling due 2026-11-30
        step(case, day, actor, method, **kwargs)
    step(case, "2026-12-03", officer(A), "reply", outcome="explain", opinion="意见")
    assert case.pending_events[-1].closed == {"handling": "late"}
    assert case.pending_events[-1].details["late_days"] == {"handling": 3}


# --- the watch --------------------------------------------------------------------------------------------------
def test_reminders_fire_once_each_at_three_and_one_working_days_and_the_breach_once_at_its_true_time():
    case = routed()
    assert watch(case, "2026-10-09") == []  # 4 working days left

    first = watch(case, "2026-10-10")  # 3 left (a worked Saturday)
    assert [(e.action, e.details["kind"], e.details["days"], e.details["days_left"]) for e in first] == [
        ("remind_deadline", "acceptance", 3, 3)]
    assert first[0].details["holder"] == A
    assert watch(case, "2026-10-11") == [] and watch(case, "2026-10-12") == []  # 3 and 2 left: sent already

    second = watch(case, "2026-10-13")
    assert [(e.details["kind"], e.details["days"]) for e in second] == [("acceptance", 1)]
    assert watch(case, "2026-10-14") == []  # the due day: the 1-day reminder went out

    breached = watch(case, "2026-10-16")
    assert [(e.action, e.details["kind"], e.details["due"], e.details["on"]) for e in breached] == [
        ("record_breach", "acceptance", "2026-10-14", "2026-10-15")]
    assert breached[0].at == datetime(2026, 10, 15, tzinfo=CN).isoformat()  # the true time, not 10-16
    assert watch(case, "2026-10-20") == []
    assert case.deadlines["acceptance"]["status"] == "open"  # still the organ's duty: overdue, not closed
    assert case.status == "awaiting_acceptance"


def test_a_watch_that_was_down_records_only_the_breach_at_its_true_time_and_no_stale_reminder():
    case = routed()
    breached = watch(case, "2026-10-25")
    assert [(e.action, e.details["kind"], e.at) for e in breached] == [
        ("record_breach", "acceptance", datetime(2026, 10, 15, tzinfo=CN).isoformat())]
    view = render(case.collect_events())
    assert {d.kind: d.breached_on for d in view.deadlines}["acceptance"] == "2026-10-15"
    assert "已超过" not in view.timeline[-1].text and "受理告知期限已于2026年10月14日届满" in view.timeline[-1].text


def test_reminders_missed_while_down_send_the_nearest_only():
    case = routed()
    missed = watch(case, "2026-10-13")  # 1 working day left; the 3-day reminder was never sent
    assert [(e.details["kind"], e.details["days"]) for e in missed] == [("acceptance", 1)]
    assert watch(case, "2026-10-14") == []


def test_a_late_step_after_the_breach_closes_the_deadline_late():
    case = routed()
    watch(case, "2026-10-16")
    step(case, "2026-10-19", officer(A), "accept", procedure="ordinary")
    assert case.deadlines["acceptance"]["status"] == "late"
    assert watch(case, "2026-10-20") == []


def test_an_extension_is_watched_anew_on_its_new_day():
    case = new_case()
    for day, actor, method, kwargs, *_ in ORDINARY[:2]:  # handling due Mon 2026-11-30
        step(case, day, actor, method, **kwargs)
    assert [e.details["days"] for e in watch(case, "2026-11-27")] == [1]  # Fri: 1 working day left
    step(case, "2026-11-27", officer(A), "extend", days=10, reasons="需进一步调查", approved_by="张局长")
    due = case.deadlines["handling"]["due"]
    assert due == "2026-12-09"  # 60 + 10 calendar days from the acceptance (09-30): Wed 12-09
    assert [e.details["days"] for e in watch(case, "2026-12-04")] == [3]  # the new day's own reminders: Fri 12-04
    assert [e.details["on"] for e in watch(case, "2026-12-11")] == ["2026-12-10"]


def test_the_bureaus_own_triage_deadline_is_watched_without_an_organ_and_rights_are_never_breached():
    case = new_case("2026-09-28")  # triage due 2026-10-13: the bureau's
    breached = watch(case, "2026-10-14")
    assert [(e.details["kind"], "holder" in e.details) for e in breached] == [("triage", False)]

    routed_case = routed()
    step(routed_case, "2026-09-30", officer(A), "accept", procedure="ordinary")
    assert watch(routed_case, "2026-10-20") == []  # the objection window (a right) closed, nothing else due
    replied = new_case()
    for day, actor, method, kwargs, *_ in ORDINARY[:4]:
        step(replied, day, actor, method, **kwargs)
    assert watch(replied, "2027-01-20") == []  # the petitioner's review window lapses, it is never "breached"


def test_a_closed_case_is_not_watched():
    case = routed()
    step(case, "2026-10-09", CLERK, "withdraw", reasons="信访人撤回")
    assert watch(case, "2026-10-20") == []
