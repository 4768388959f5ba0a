"""Deadlines: counted in calendar days from the registration date in China (Asia/Shanghai)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from services.supervision.deadlines import ACCEPTANCE_DAYS, acceptance_deadline
from shared.chinatime import local_date

CHINA_OFFSET = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("registered_at", "due"),
    [
        pytest.param(datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc), date(2026, 12, 11),
                     id="morning in China, same date in UTC"),
        pytest.param(datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc), date(2026, 12, 16),
                     id="17:00Z on 11-30 is 01:00 on 12-01 in China"),
        pytest.param(datetime(2026, 11, 30, 15, 59, 59, tzinfo=timezone.utc), date(2026, 12, 15),
                     id="one second before midnight in China"),
        pytest.param(datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc), date(2026, 12, 16),
                     id="midnight in China"),
        pytest.param(datetime(2026, 12, 1, 0, 30, tzinfo=CHINA_OFFSET), date(2026, 12, 16),
                     id="a moment given in China time"),
        pytest.param(datetime(2026, 12, 20, 2, 0, tzinfo=timezone.utc), date(2027, 1, 4),
                     id="across the new year"),
        pytest.param(datetime(2028, 2, 20, 2, 0, tzinfo=timezone.utc), date(2028, 3, 6),
                     id="across a leap day"),
        pytest.param(datetime(2027, 2, 20, 2, 0, tzinfo=timezone.utc), date(2027, 3, 7),
                     id="across February of a common year"),
    ],
)
def test_acceptance_is_due_fifteen_calendar_days_after_the_local_registration_date(registered_at: datetime,
                                                                                    due: date) -> None:
    deadline = acceptance_deadline(registered_at)

    assert deadline.due == due
    assert (deadline.due - local_date(registered_at)).days == ACCEPTANCE_DAYS == 15


def test_the_acceptance_deadline_cites_its_legal_basis() -> None:
    deadline = acceptance_deadline(datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc))

    assert deadline.kind == "acceptance"
    assert deadline.label == "受理告知期限"
    assert "第二十二条" in deadline.basis
    assert "15日内" in deadline.basis
    assert deadline.provisional is False


def test_the_acceptance_deadline_as_a_record_has_an_iso_date() -> None:
    record = acceptance_deadline(datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)).as_dict()

    assert record == {
        "kind": "acceptance",
        "label": "受理告知期限",
        "due": "2026-12-16",
        "basis": acceptance_deadline(datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)).basis,
        "provisional": False,
    }
