"""Review (复查) and re-review (复核) (S9-S12; docs/domain.md §"Lifecycle"): the petitioner's requests within 30
days, the bureau opening them with the organ one level up, that organ's decision, re-review hearings whose time is
not counted (Art. 36), and finality — by the re-review opinion, or once a request window passed unused."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.supervision.case.base import Arguments, CaseBase, Transitioned, keep_opinion, takes
from services.supervision.case.receipt import provisional_window
from services.supervision.deadlines import Deadline, DeadlineRules
from services.supervision.lifecycle import InvalidCommand, RuleViolation
from shared.language.chinatime import local_date
from shared.language.contracts.actor import DEADLINE_SWEEP, Actor
from shared.language.contracts.lifecycle import RE_REVIEW_OUTCOMES, REVIEW_OUTCOMES, Status

REVIEW_BASIS = "《信访工作条例》第三十五条"
RE_REVIEW_BASIS = "《信访工作条例》第三十六条"
FINAL_BASIS = "《信访工作条例》第三十五条、第三十六条：复查、复核期限届满未请求或者复核终结"


def _opened(re_review: bool) -> Arguments:
    return lambda c, s: {"organ": s.organ(c.organ_code), "rules": s.rules, "re_review": re_review}


class _Requested(Transitioned):
    def keep(self, case: Any) -> None:
        case.requested_on = self.details["requested_on"]


class Review(CaseBase):
    hearing_started_on: str | None
    requested_on: str | None  # of the pending review or re-review request

    class ReviewRequested(_Requested): ...

    class ReviewOpened(Transitioned):
        def keep(self, case: Any) -> None:
            case.review_organ = self.details["review_organ"]

    class ReviewDecided(Transitioned):
        def keep(self, case: Any) -> None:
            keep_opinion(case, self.details)
            if self.details["outcome"] == "rehandle":
                case.procedure = "ordinary"

    class ReReviewRequested(_Requested): ...

    class ReReviewOpened(Transitioned):
        def keep(self, case: Any) -> None:
            case.re_review_organ = self.details["re_review_organ"]

    class HearingStarted(Transitioned):
        def keep(self, case: Any) -> None:
            case.hearing_started_on = self.details["on"]

    class HearingEnded(Transitioned):
        def keep(self, case: Any) -> None:
            case.hearing_started_on = None

    class ReReviewDecided(Transitioned):
        def keep(self, case: Any) -> None:
            keep_opinion(case, self.details)

    class Finalized(Transitioned): ...

    @takes("request_review", lambda c, s: {"reasons": c.reasons})
    def request_review(self, *, reasons: str, at: datetime, actor: Actor, correlation_id: str) -> None:
        """请求复查, or 请求复核 once the review opinion is out, within the window the opinion opened."""
        re_review = self.status == Status.REVIEWED
        action = "request_re_review" if re_review else "request_review"
        self._check(action, actor)
        today = self._today(at)
        window = "re_review_request" if re_review else "review_request"
        self._within(window, today, f"{window}_window_passed", "申请复核" if re_review else "申请复查")
        self._step(self.ReReviewRequested if re_review else self.ReviewRequested, action,
                   Status.RE_REVIEW_REQUESTED if re_review else Status.REVIEW_REQUESTED, actor=actor, at=at,
                   basis=RE_REVIEW_BASIS if re_review else REVIEW_BASIS,
                   details={"reasons": reasons, "requested_on": today.isoformat()},
                   closed=self._close_open("met", window), correlation_id=correlation_id)

    @takes("open_review", _opened(re_review=False))
    @takes("open_re_review", _opened(re_review=True))
    def open_review(self, *, organ: dict[str, str], rules: DeadlineRules, at: datetime, actor: Actor,
                    correlation_id: str, re_review: bool = False) -> None:
        """The organ one level up takes the (re-)review request; its 30 days run from the request."""
        action = "open_re_review" if re_review else "open_review"
        self._check(action, actor)
        today = self._today(at)
        window, kind = ("re_review_request", "re_review") if re_review else ("review_request", "review")
        requested = Status.RE_REVIEW_REQUESTED if re_review else Status.REVIEW_REQUESTED
        if self.status == requested:
            requested_on = date.fromisoformat(self.requested_on or today.isoformat())
        else:  # a request made on paper, taken directly: it must still be within the window
            self._within(window, today, f"{window}_window_passed", "受理复核" if re_review else "受理复查")
            requested_on = today
        if self.organ and organ["code"] == self.organ["code"]:
            raise InvalidCommand("same_organ", "复查、复核应由原办理机关的上一级机关办理")
        key = "re_review_organ" if re_review else "review_organ"
        self._step(self.ReReviewOpened if re_review else self.ReviewOpened, action,
                   Status.UNDER_RE_REVIEW if re_review else Status.UNDER_REVIEW, actor=actor, at=at,
                   basis=RE_REVIEW_BASIS if re_review else REVIEW_BASIS,
                   details={key: organ, "requested_on": requested_on.isoformat()},
                   opened=[rules.compute(kind, requested_on)], closed=self._close_open("met", window),
                   correlation_id=correlation_id)

    @takes("decide_review", lambda c, s: {"outcome": c.outcome, "opinion": c.opinion, "rules": s.rules})
    def decide_review(self, *, outcome: str, opinion: str, rules: DeadlineRules, at: datetime,
                      actor: Actor, correlation_id: str) -> None:
        self._check("decide_review", actor)
        today = self._today(at)
        if outcome not in REVIEW_OUTCOMES:
            raise InvalidCommand("invalid_outcome", "复查结果只能是：维持（uphold）、变更（change）、撤销并责令重新办理（rehandle）")
        details = {"level": "review", "outcome": outcome, "outcome_text": REVIEW_OUTCOMES[outcome],
                   "opinion": opinion, "on": today.isoformat()}
        if outcome == "rehandle":  # the original organ handles it again, on the ordinary procedure
            self._step(self.ReviewDecided, "decide_review", Status.HANDLING, actor=actor, at=at, basis=REVIEW_BASIS,
                       details=details, opened=[rules.compute("handling", today)],
                       closed=self._close_open("met", "review"), correlation_id=correlation_id)
            return
        self._step(self.ReviewDecided, "decide_review", Status.REVIEWED, actor=actor, at=at, basis=REVIEW_BASIS,
                   details=details, opened=[provisional_window(rules, "re_review_request", today)],
                   closed=self._close_open("met", "review"), correlation_id=correlation_id)

    @takes("start_hearing")
    def start_hearing(self, *, at: datetime, actor: Actor, correlation_id: str) -> None:
        """A re-review hearing (听证): its time is not counted in the 30 days (Art. 36)."""
        self._check("start_hearing", actor)
        today = self._today(at)
        if self.hearing_started_on:
            raise RuleViolation("hearing_in_progress", f"听证已于{self.hearing_started_on}开始，尚未结束")
        self._step(self.HearingStarted, "start_hearing", self.status, actor=actor, at=at, basis=RE_REVIEW_BASIS,
                   details={"on": today.isoformat()}, correlation_id=correlation_id)

    @takes("end_hearing", lambda c, s: {"rules": s.rules})
    def end_hearing(self, *, rules: DeadlineRules, at: datetime, actor: Actor, correlation_id: str) -> None:
        self._check("end_hearing", actor)
        today = self._today(at)
        if not self.hearing_started_on:
            raise RuleViolation("no_hearing", "没有正在进行的听证")
        paused = (today - date.fromisoformat(self.hearing_started_on)).days + 1
        current = Deadline.from_dict(self.deadlines["re_review"])
        resumed = rules.recompute(Deadline(**{**current.as_dict(), "paused_days": current.paused_days + paused}))
        self._step(self.HearingEnded, "end_hearing", self.status, actor=actor, at=at, basis=RE_REVIEW_BASIS,
                   details={"on": today.isoformat(), "started_on": self.hearing_started_on, "paused_days": paused},
                   opened=[resumed], correlation_id=correlation_id)

    @takes("decide_re_review", lambda c, s: {"outcome": c.outcome, "opinion": c.opinion})
    def decide_re_review(self, *, outcome: str, opinion: str, at: datetime, actor: Actor,
                         correlation_id: str) -> None:
        """The re-review opinion is final (终结): the same facts and reasons are not accepted again (Art. 36)."""
        self._check("decide_re_review", actor)
        today = self._today(at)
        if outcome not in RE_REVIEW_OUTCOMES:
            raise InvalidCommand("invalid_outcome", "复核结果只能是：维持（uphold）、变更（change）")
        if self.hearing_started_on:
            raise RuleViolation("hearing_in_progress", "听证尚未结束，不能出具复核意见")
        self._step(self.ReReviewDecided, "decide_re_review", Status.FINAL, actor=actor, at=at, basis=RE_REVIEW_BASIS,
                   details={"level": "re_review", "outcome": outcome, "outcome_text": RE_REVIEW_OUTCOMES[outcome],
                            "opinion": opinion, "on": today.isoformat()},
                   closed=self._close_open("met", "re_review"), correlation_id=correlation_id)

    def finalize_if_window_passed(self, *, at: datetime, correlation_id: str, needs_receipt: bool = False) -> bool:
        """Final once the review (or re-review) request window passed unused; True if it did. `needs_receipt`: the
        answer goes to the petitioner (e-mail, SMS, post), so its window passes only once counted from its receipt
        (delivered, or presumed after posting), never on the count from the issuing day (Arts. 35, 36: 自收到之日起)."""
        if not self.can("finalize", DEADLINE_SWEEP):
            return False
        window = "re_review_request" if self.status == Status.REVIEWED else "review_request"
        deadline = self._deadline(window)
        if deadline is None or local_date(at) <= date.fromisoformat(deadline["due"]):
            return False
        if needs_receipt and not deadline.get("counted_from"):
            return False
        self._step(self.Finalized, "finalize", Status.FINAL, actor=DEADLINE_SWEEP, at=at, basis=FINAL_BASIS,
                   details={"window": window, "window_due": deadline["due"]},
                   closed={window: "met"}, correlation_id=correlation_id)
        return True
