"""Deadline rules. For now calendar days only; the statutory working-day calendar comes with the lifecycle work.

Counting starts the day after the trigger (xinfang-domain.md §2.1: the first day is not counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared.chinatime import local_date

# Acceptance: the bureau triages within 15 days of receipt and the receiving organ notifies acceptance within
# 15 days (2022 信访工作条例 Arts. 22-23; xinfang-domain.md §2.2 S2/S3).
ACCEPTANCE_DAYS = 15
ACCEPTANCE_BASIS = "《信访工作条例》第二十二条、第二十三条：自收到信访事项之日起15日内告知是否受理"


@dataclass(frozen=True)
class Deadline:
    kind: str
    label: str
    due: date
    basis: str
    provisional: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "label": self.label, "due": self.due.isoformat(), "basis": self.basis,
                "provisional": self.provisional}


def acceptance_deadline(registered_at: datetime) -> Deadline:
    return Deadline("acceptance", "受理告知期限", local_date(registered_at) + timedelta(days=ACCEPTANCE_DAYS),
                    ACCEPTANCE_BASIS)
