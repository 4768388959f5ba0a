"""The deadline watch on supervision's real store (PostgreSQL and SQLite) with a clock the tests move
(services/supervision/watch.py): one watcher acts while the others stand by, and takes over when it dies; a
breach that passed while no watcher ran is recorded once, at its true time; watchers racing on the same cases
record each fact once; the candidates come from the read model (SecantusDB).

Dates: registered 2026-09-28 and routed 09-29, so the acceptance is due Wed 10-14 (see
tests/integration/test_lifecycle_paths.py); the breach is at the first moment of 10-15, Beijing time.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from services.supervision.application import SupervisionApplication
from services.supervision.bootstrap import build_application
from services.supervision.domainmodel import Case
from services.supervision.projections import render
from services.supervision.settings import SupervisionSettings
from services.supervision.watch import DeadlineWatch, watch_candidates
from tests.support import samples
from tests.support.clock import MovableClock

CN = timezone(timedelta(hours=8))
TOWN = {"code": "330106001-ZF", "name": "示例县城关镇人民政府"}
REMINDERS = (3, 1)


@pytest.fixture
def settings(settings_for, store) -> SupervisionSettings:
    return settings_for(SupervisionSettings, store=store)


def routed_case(supervision: SupervisionApplication, clock: MovableClock, number: int) -> str:
    clock.set("2026-09-28")
    registered = samples.registered_event(number * 2, registered_at=clock.now.isoformat())
    supervision.open_case(registered, samples.particulars(registered))
    clock.set("2026-09-29")
    supervision.record_routing(samples.routed_event(number * 2 + 1, registered.subject, organ_code=TOWN["code"],
                                                    organ_name=TOWN["name"], routed_at=clock.now))
    return registered.subject


def watch_facts(supervision: SupervisionApplication, petition_id: str) -> list[tuple[str, str, Any]]:
    return [(e.action, e.at, e.details.get("days") if e.action == "remind_deadline" else e.details["on"])
            for e in supervision.events.get(UUID(petition_id))
            if isinstance(e, Case.Transitioned) and e.action in ("remind_deadline", "record_breach")]


def test_a_breach_while_no_watcher_ran_is_recorded_once_at_its_true_time(settings, closing):
    clock = MovableClock()
    supervision = closing(build_application(settings, clock=clock))
    petition_id = routed_case(supervision, clock, 1)
    watch = DeadlineWatch(supervision, REMINDERS, candidates=lambda horizon: [petition_id])
    closing(watch)

    clock.set("2026-10-12")  # 2 working days left: the 3-day reminder
    assert watch.tick() == 1
    clock.set("2026-10-20")  # down on 10-13 (the 1-day reminder) and on 10-15 (the breach)
    assert watch.tick() == 1
    assert watch.tick() == 0

    breach = datetime(2026, 10, 15, tzinfo=CN).isoformat()
    assert watch_facts(supervision, petition_id) == [
        ("remind_deadline", datetime.fromisoformat("2026-10-12T10:00:00+08:00").isoformat(), 3),
        ("record_breach", breach, "2026-10-15")]
    shown = {d["kind"]: d for d in supervision.get_case(petition_id)["deadlines"]}
    assert shown["acceptance"]["status"] == "open" and shown["acceptance"]["breached_on"] == "2026-10-15"


def test_one_watcher_acts_the_other_stands_by_and_takes_over_when_it_goes(settings, closing, store):
    clock = MovableClock()
    first_app = closing(build_application(settings, clock=clock))
    second_app = closing(build_application(settings, clock=clock))
    petition_id = routed_case(first_app, clock, 1)
    first = DeadlineWatch(first_app, REMINDERS, candidates=lambda horizon: [petition_id])
    second = closing(DeadlineWatch(second_app, REMINDERS, candidates=lambda horizon: [petition_id]))

    clock.set("2026-10-16")
    assert first.tick() == 1  # the breach
    assert second.tick() is None  # standing by
    assert not second.active and first.active
    first.close()  # the active instance goes (a crash closes its connection: the database frees the lock)

    clock.set("2026-10-20")
    assert second.tick() == 0  # took over; the breach is recorded already
    assert second.active
    assert [fact for fact, *_ in watch_facts(second_app, petition_id)] == ["record_breach"]


def test_watchers_racing_on_the_same_cases_record_each_breach_once(settings, closing):
    clock = MovableClock()
    apps = [closing(build_application(settings, clock=clock)) for _ in range(2)]
    cases = [routed_case(apps[0], clock, number) for number in range(1, 13)]
    clock.set("2026-10-16")
    recorded: list[int] = []
    start = threading.Barrier(len(apps))

    def run(app: SupervisionApplication) -> None:
        start.wait()
        recorded.append(app.watch(cases, REMINDERS))

    threads = [threading.Thread(target=run, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(recorded) == len(cases)
    for petition_id in cases:
        assert [fact for fact, *_ in watch_facts(apps[1], petition_id)] == ["record_breach"]


def test_the_candidates_are_the_open_duties_due_by_the_horizon_not_yet_recorded_overdue(settings, closing,
                                                                                       read_models):
    clock = MovableClock()
    supervision = closing(build_application(settings, clock=clock))
    due_soon, breached, accepted, withdrawn = (routed_case(supervision, clock, n) for n in range(1, 5))
    clock.set("2026-10-16")
    supervision.watch([breached], REMINDERS)
    clock.set("2026-09-30")
    supervision.perform(accepted, "accept", {"procedure": "ordinary"},
                        {"role": "organ_officer", "user": "o", "organ": TOWN["code"]})
    supervision.perform(withdrawn, "withdraw", {"reasons": "信访人撤回"},
                        {"role": "clerk", "user": "c", "organ": "330106-XFJ"})
    for petition_id in (due_soon, breached, accepted, withdrawn):
        render(supervision.events.get(UUID(petition_id))).save()

    assert watch_candidates(date(2026, 10, 9)) == []  # nothing due by then (the objection window is a right)
    assert watch_candidates(date(2026, 10, 14)) == [due_soon]  # the accepted case's handling is due 11-30
    assert set(watch_candidates(date(2026, 11, 30))) == {due_soon, accepted}
