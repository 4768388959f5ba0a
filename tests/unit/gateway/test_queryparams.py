"""The gateway's query-parameter checks (services/gateway/queryparams.py): a day or month far outside the records is
a 422 naming the parameter in Chinese, never a 500 from date arithmetic (9999-12-31 plus a day) nor a month list
that never ends (the month after 9999-12 sorts before it as text)."""

from __future__ import annotations

from datetime import date

import pytest

from services.gateway.errors import ApiError
from services.gateway.queryparams import QueryChecks

LABELS = {"from": "统计期间起", "to": "统计期间止", "organ": "机关代码", "month": "报告月份"}


def test_days_and_months_outside_the_records_are_refused_by_name() -> None:
    checks = QueryChecks(LABELS)
    assert checks.day("to", "9999-12-31") is None and checks.day("from", "0001-01-05") is None
    assert checks.month("month", "9999-12") is None
    assert [(e["field"], e["code"], e["message"]) for e in checks.errors] == [
        ("query.to", "out_of_range", "统计期间止应在2000年至2099年之间"),
        ("query.from", "out_of_range", "统计期间起应在2000年至2099年之间"),
        ("query.month", "out_of_range", "报告月份应在2000年至2099年之间")]
    with pytest.raises(ApiError) as refused:
        checks.refuse()
    assert refused.value.status == 422


def test_good_values_pass_and_a_later_month_than_allowed_is_named_as_such() -> None:
    checks = QueryChecks(LABELS)
    assert checks.day("from", "2026-12-01", required=True) == date(2026, 12, 1)
    assert checks.month("month", "2026-11", latest="2026-12") == "2026-11"
    assert checks.month("month", "2027-01", latest="2026-12") is None
    checks.organ("NOPE", {"330106-ZF"})
    checks.organ("330106-ZF", {"330106-ZF"})
    assert [e["code"] for e in checks.errors] == ["future_month", "unknown_organ"]
    assert "机关代码“NOPE”不在本县机关名录中" in checks.errors[1]["message"]
    checks.errors.clear()
    checks.refuse()  # nothing to refuse
