"""What the deadline watch's gauges count (services/supervision/watch.py due_counts), on a real read-model server:
the work-list projection's per-day counters of open duties, not the cases themselves."""

from __future__ import annotations

from datetime import date

from services.supervision.watch import due_counts
from shared.language.readmodels import CaseCount


def test_overdue_is_before_today_and_due_soon_is_today_to_seven_days_on(read_models):
    CaseCount._get_collection().insert_many([
        {"_id": "due|2026-10-01", "count": 2},  # overdue
        {"_id": "due|2026-10-14", "count": 1},  # overdue since today began
        {"_id": "due|2026-10-15", "count": 3},  # due today: soon
        {"_id": "due|2026-10-22", "count": 4},  # the seventh day on: soon
        {"_id": "due|2026-10-23", "count": 5},  # later
        {"_id": "due|2026-09-30", "count": 0},  # all of that day's cases closed
        {"_id": "holder_due|330106-JTJ|2026-10-01", "count": 2},  # the same cases by organ: not counted twice
        {"_id": "status|330106-JTJ|awaiting_acceptance", "count": 9},
    ])
    assert due_counts(date(2026, 10, 15)) == (3, 7)


def test_no_cases_no_counts(read_models):
    assert due_counts(date(2026, 10, 15)) == (0, 0)
