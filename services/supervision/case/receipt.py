"""Receipt of a written answer (docs/domain.md §"Deadlines"): the review window runs 30 days from the petitioner's
receipt of the 处理意见书 (《信访工作条例》第三十五条: 自收到书面答复之日起), the re-review window from receipt of the
复查意见书 (第三十六条). The step that issues the opinion (reply, decide_review) opens its window counted from the
issuing day, provisionally (`provisional_window`); the notice's receipt then counts it again
(`count_from_delivery`, `count_from_posting`), each time as a lifecycle fact (WindowCountedFromReceipt), so the case
view, the work lists, the due counters and the deadline sweep all see the new due day.

What counts as receipt (the platform's rule, docs/domain.md):
- an actual receipt: the notice delivered by e-mail or SMS (the day of delivery), or by post (the recorded date of
  receipt). The earliest actual receipt wins: a later delivery on another channel changes nothing. The status
  page's listing (`inbox`) is publication, not receipt: no clock counts from it.
- while there is none, a posting (挂号邮寄) makes the receipt presumed `presumed_days` after the day of posting (a
  county setting, POSTAL_RECEIPT_PRESUMED_DAYS; no statute fixes it). A recorded receipt replaces the presumption,
  earlier or later.
Only while the case still awaits the request: once it was requested or the case is final, a late receipt changes
nothing. A late receipt after the provisional count ran out but before the sweep finalized extends the window:
the statute counts from receipt.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from services.supervision.case.base import CaseBase, Transitioned
from services.supervision.deadlines import Deadline, DeadlineRules
from shared.language.chinatime import chinese_day
from shared.language.contracts.actor import NOTICE_RECEIPT
from shared.language.contracts.lifecycle import Status
from shared.language.contracts.notices import NOTICE_CHANNELS, RECEIPT_CHANNELS, NoticeKind

# The channels a receipt counts from, as the timeline and the basis say them (never `inbox`: the status page).



@dataclass(frozen=True)
class ReceiptWindow:
    """The window a written answer opens for the petitioner's next request."""

    window: str  # the deadline kind
    awaiting: Status  # the case's status while it awaits the request
    document: str  # the written answer, as the petitioner reads it
    request: str  # what the petitioner may ask for within the window

    def citation(self, rules: DeadlineRules) -> str:
        """The statute the window's rule cites (its basis up to the colon: 《信访工作条例》第三十五条)."""
        return rules.rule(self.window).basis.split("：", 1)[0]


WINDOWS = {
    NoticeKind.OPINION.value: ReceiptWindow("review_request", Status.REPLIED, "处理意见书", "复查"),
    NoticeKind.REVIEW_OPINION.value: ReceiptWindow("re_review_request", Status.REVIEWED, "复查意见书", "复核"),
}
BY_WINDOW = {w.window: w for w in WINDOWS.values()}


def is_receipt(kind: str, channel: str) -> bool:
    """Whether a delivery of a notice of `kind` on `channel` is a receipt some window may count from."""
    return kind in WINDOWS and channel in RECEIPT_CHANNELS


def provisional_window(rules: DeadlineRules, window: str, issued_on: date) -> Deadline:
    """The window as the issuing step opens it: counted from the issuing day until the answer's receipt is known."""
    w = BY_WINDOW[window]
    deadline = rules.compute(window, issued_on)
    return replace(deadline, basis=f"自出具{w.document}之日起暂计，送达后按送达之日重新计算：自收到之日起"
                                   f"{deadline.days}日内可请求{w.request}（{w.citation(rules)}）")


def receipt_basis(rules: DeadlineRules, w: ReceiptWindow, counted: dict[str, Any], days: int) -> str:
    """What the window counts from, shown next to its due day (the status page, the case file)."""
    citation = w.citation(rules)
    received = chinese_day(counted["received_on"])
    if counted["presumed"]:
        return (f"自{chinese_day(counted['posted_on'])}挂号邮寄{w.document}，推定{received}送达（邮寄后第"
                f"{counted['presumed_days']}日，本县规定），自该日起{days}日内可请求{w.request}；登记实际收到日期后按"
                f"收到之日重新计算（{citation}）")
    how = NOTICE_CHANNELS[counted["channel"]]
    return f"自{received}收到{w.document}（{how}送达）起{days}日内可请求{w.request}（{citation}）"


class Receipt(CaseBase):
    class WindowCountedFromReceipt(Transitioned): ...

    def receipt_counted(self, notice_id: str, kind: str, channel: str, received_on: date) -> bool:
        """Whether this actual receipt can change nothing, whatever follows: not a receipt of a written answer,
        or its window is counted already from this notice's receipt on that day or earlier."""
        if not is_receipt(kind, channel):
            return True
        counted = (self.deadlines.get(WINDOWS[kind].window) or {}).get("counted_from")
        return bool(counted and counted["notice_id"] == notice_id and not counted["presumed"]
                    and counted["received_on"] <= received_on.isoformat())

    def count_from_delivery(self, *, notice_id: str, kind: str, channel: str, received_on: date,
                            rules: DeadlineRules, at: datetime, correlation_id: str,
                            causation_id: str | None = None) -> bool:
        """The notice reached the petitioner on `channel` on `received_on` (e-mail, SMS: the day of delivery; post:
        the recorded date of receipt). True if the window was counted again."""
        if channel not in RECEIPT_CHANNELS:
            return False  # the status page's listing is publication, not receipt
        counted = {"notice_id": notice_id, "channel": channel, "received_on": received_on.isoformat(),
                   "presumed": False}
        return self._count_from(kind, counted, rules=rules, at=at, correlation_id=correlation_id,
                                causation_id=causation_id)

    def count_from_posting(self, *, notice_id: str, kind: str, posted_on: date, presumed_days: int,
                           rules: DeadlineRules, at: datetime, correlation_id: str,
                           causation_id: str | None = None) -> bool:
        """The notice was posted by registered mail on `posted_on`: received, presumably, `presumed_days` later,
        unless an actual receipt is recorded. True if the window was counted again."""
        counted = {"notice_id": notice_id, "channel": "post",
                   "received_on": (posted_on + timedelta(days=presumed_days)).isoformat(), "presumed": True,
                   "posted_on": posted_on.isoformat(), "presumed_days": presumed_days}
        return self._count_from(kind, counted, rules=rules, at=at, correlation_id=correlation_id,
                                causation_id=causation_id)

    def _count_from(self, kind: str, counted: dict[str, Any], *, rules: DeadlineRules, at: datetime,
                    correlation_id: str, causation_id: str | None) -> bool:
        w = WINDOWS.get(kind)
        if w is None or self.status != w.awaiting:
            return False  # not a written answer with a window, or the case moved on (requested, final, ...)
        current = self._deadline(w.window)
        if current is None:
            return False
        deadline = Deadline.from_dict(current)
        before = deadline.counted_from
        issued_on = before["issued_on"] if before else deadline.start
        if counted.get("posted_on", counted["received_on"]) < issued_on:
            return False  # an earlier answer's notice (a re-handled case): the window is the new answer's
        if before and not _replaces(before, counted):
            return False
        counted["issued_on"] = issued_on
        again = rules.recompute(replace(deadline, start=counted["received_on"], counted_from=counted,
                                        basis=receipt_basis(rules, w, counted, deadline.days)))
        self._step(self.WindowCountedFromReceipt, "count_from_receipt", self.status, actor=NOTICE_RECEIPT, at=at,
                   basis=rules.rule(w.window).basis,  # 自收到书面答复之日起30日内 (Art. 35 or 36)
                   details={"window": w.window, "kind": kind, "notice_id": counted["notice_id"],
                            "delivered_by": counted["channel"], "received_on": counted["received_on"],
                            "presumed": counted["presumed"], "posted_on": counted.get("posted_on"),
                            "previous_due": deadline.due},
                   opened=[again], correlation_id=correlation_id, causation_id=causation_id)
        return True


def _replaces(before: dict[str, Any], counted: dict[str, Any]) -> bool:
    """Whether a receipt of the same window replaces the one it is counted from now."""
    if before["notice_id"] != counted["notice_id"]:
        return False  # another notice of the kind: the window's own answer was received already
    if counted["presumed"]:
        return False  # a presumption never replaces anything (a redelivered posting, or an actual receipt known)
    if before["presumed"]:
        return True  # the recorded receipt replaces the presumption, earlier or later
    return counted["received_on"] < before["received_on"]  # the earliest actual receipt wins
