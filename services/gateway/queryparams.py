"""Query parameters checked the way every list and report of the gateway checks them: each problem named by the
parameter's Chinese label, all of them answered at once as one 422 (`validation_failed`, like a lifecycle command's
fields; docs/api.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from services.gateway.errors import ApiError

DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
# The years a list or report may ask about: the platform's records begin after 2000, and a day far off would only
# overflow the date arithmetic of a period (a 500, or a month list that never ends) instead of meaning anything.
FIRST_YEAR, LAST_YEAR = 2000, 2099


class QueryChecks:
    """The problems found in one request's query parameters, by their Chinese `labels`."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = labels
        self.errors: list[dict[str, str]] = []

    def error(self, field: str, code: str, message: str) -> None:
        self.errors.append({"field": f"query.{field}", "label": self.labels[field], "code": code, "message": message})

    def day(self, field: str, value: str | None, *, required: bool = False) -> date | None:
        """YYYY-MM-DD, or None (a problem recorded when it is malformed, or missing and required)."""
        label = self.labels[field]
        if value is None:
            if required:
                self.error(field, "required", f"请填写{label}（YYYY-MM-DD，如2026-01-01）")
            return None
        try:
            if not DAY.fullmatch(value):
                raise ValueError(value)
            day = date.fromisoformat(value)
        except ValueError:
            self.error(field, "invalid_date", f"{label}不是有效的日期，请按YYYY-MM-DD填写，如2026-01-01")
            return None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            self.error(field, "out_of_range", f"{label}应在{FIRST_YEAR}年至{LAST_YEAR}年之间")
            return None
        return day

    def month(self, field: str, value: str | None, *, latest: str | None = None) -> str | None:
        """YYYY-MM of the years FIRST_YEAR..LAST_YEAR, not after `latest` (this month, for a report of what
        happened), required; None with a problem recorded otherwise."""
        label = self.labels[field]
        if value is None:
            self.error(field, "required", f"请填写{label}（YYYY-MM，如2026-01）")
            return None
        if not MONTH.fullmatch(value):
            self.error(field, "invalid_month", f"{label}不是有效的月份，请按YYYY-MM填写，如2026-01")
            return None
        if latest is not None and value > latest:
            self.error(field, "future_month", f"{label}不能晚于本月")
            return None
        if not FIRST_YEAR <= int(value[:4]) <= LAST_YEAR:
            self.error(field, "out_of_range", f"{label}应在{FIRST_YEAR}年至{LAST_YEAR}年之间")
            return None
        return value

    def organ(self, code: str | None, directory: Any) -> None:
        """An organ code the county's directory (`worklists.organs`) does not know is a problem."""
        if code is not None and code not in directory:
            self.error("organ", "unknown_organ", f"机关代码“{code}”不在本县机关名录中，可选值见 /api/v1/reference/organs")

    def refuse(self) -> None:
        """422 with every problem found, if any."""
        if self.errors:
            raise ApiError(422, "validation_failed", "提交的信息有误，请按提示修改后重新提交。", extra={"errors": self.errors})
