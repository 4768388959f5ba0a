"""What every step of the case shares: its state, who acts, the checks, and how a step is recorded.

Every command checks who acts (Party), then the state (the step's declaration, shared/language/contracts/
lifecycle.py), then the statutory rule (windows, limits, eligibility), and only then records an event. Each
lifecycle event records the action, the new status, who acted (role, user, organ), when, the legal basis, and the
deadlines it opened or closed — computed at the time of the step, so replaying the history never depends on
today's calendar.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, TypeVar

from eventsourcing.domain import Aggregate
from pydantic import BaseModel

from services.supervision.deadlines import Deadline, DeadlineRules
from services.supervision.lifecycle import (
    ACTIONS,
    IllegalTransition,
    InvalidCommand,
    NotPermitted,
    RuleViolation,
    allowed_actions,
)
from shared.language.chinatime import local_date
from shared.language.contracts.actor import Actor
from shared.language.contracts.deadlines import DEADLINE_HOLDERS
from shared.language.contracts.lifecycle import CASE_BOUND, PARTY_ROLES, TERMINAL, Party, Status

DIRECT = "direct_receipt"  # the disposition of an item an organ received itself (S2')


class Transitioned(Aggregate.Event):
    """Base of every lifecycle event: one state change of the case, with who, when, why and the clocks."""

    action: str
    status: str  # after the step
    details: dict[str, Any]
    opened: list[dict[str, Any]]  # deadlines started (or restarted) by this step
    closed: dict[str, str]  # deadline kind -> "met" | "late" | "stopped" (DEADLINE_OUTCOMES); late: details.late_days
    actor: dict[str, Any]  # stored as a plain record (Actor.model_dump())
    at: str  # ISO 8601
    basis: str
    correlation_id: str
    causation_id: str | None

    # A step whose basis an officer may write or add to publishes this statutory basis alone (translate.py).
    published_basis: ClassVar[str | None] = None
    # What `details` publishes when an event recorded before a key existed lacks it.
    published_defaults: ClassVar[Mapping[str, Any]] = {}

    def apply(self, aggregate: Any) -> None:
        aggregate._apply_transition(self)
        self.keep(aggregate)

    def keep(self, case: Any) -> None:
        """What this kind of step keeps on the case besides its status and deadlines (nothing, unless said)."""


def keep_routing(case: Any, details: Mapping[str, Any]) -> None:
    """The case is now with `details`' organ (transferred, assigned, re-routed, or received directly)."""
    case.organ, case.joining_organs = details["organ"], details.get("joining_organs", [])
    case.disposition, case.received_on = details["disposition"], details["received_on"]


def keep_opinion(case: Any, details: Mapping[str, Any]) -> None:
    """An opinion is out (the reply, the review or the re-review opinion): the one the petitioner may rate."""
    case.opinions.append({k: details[k] for k in ("level", "outcome", "on")})


@dataclass(frozen=True)
class StepContext:
    """What a command is taken with besides its own fields."""

    at: datetime
    actor: Actor
    correlation_id: str
    rules: DeadlineRules
    organ: Callable[[str], dict[str, str]]  # the organ of a code, from the county's directory; refuses unknown codes


Arguments = Callable[[Any, StepContext], dict[str, Any]]
Method = TypeVar("Method", bound=Callable[..., None])
# step name -> (the Case method that takes its command, what the method is called with)
TAKEN_BY: dict[str, tuple[str, Arguments]] = {}


def takes(step: str, arguments: Arguments = lambda command, context: {}) -> Callable[[Method], Method]:
    """Declare that the decorated Case method takes the command of `step` (shared/language/contracts/lifecycle.py):
    `arguments(command, context)` says what it is called with besides `at`, `actor` and `correlation_id`."""

    def declare(method: Method) -> Method:
        if step in TAKEN_BY:
            raise ValueError(f"the command of {step!r} is taken by {TAKEN_BY[step][0]} already")
        TAKEN_BY[step] = (method.__name__, arguments)
        return method

    return declare


class CaseBase:
    """The state and the checks the phases share; mixed into Case (services/supervision/domainmodel.py)."""

    Transitioned = Transitioned  # Case.Transitioned: the base of every lifecycle event

    status: Status
    deadlines: dict[str, dict[str, Any]]
    organ: dict[str, str] | None
    joining_organs: list[dict[str, str]]
    disposition: str | None
    received_on: str | None  # when the organ received the transfer or assignment
    review_organ: dict[str, str] | None
    re_review_organ: dict[str, str] | None
    supervised_organ: dict[str, str] | None  # the organ the latest supervision order is addressed to (Supervising)
    last_step_on: str

    # --- queries -----------------------------------------------------------------------------------------------
    @property
    def is_closed(self) -> bool:
        return self.status in TERMINAL

    def open_deadlines(self) -> list[dict[str, Any]]:
        return sorted((d for d in self.deadlines.values() if d.get("status", "open") == "open"),
                      key=lambda d: d["due"])

    def parties(self, actor: Actor) -> set[Party]:
        """The parties `actor` is for this case (PARTY_ROLES; an organ officer only for their own organ's case)."""
        role = actor.role
        found = {party for party, roles in PARTY_ROLES.items() if role in roles and role not in CASE_BOUND}
        if role in CASE_BOUND and actor.organ:
            if self.organ and actor.organ == self.organ["code"]:
                found.add(Party.ORGAN)
            reviewer = self.re_review_organ if self.status == Status.UNDER_RE_REVIEW else self.review_organ
            if reviewer and actor.organ == reviewer["code"]:
                found.add(Party.REVIEWER)
            if self.supervised_organ and actor.organ == self.supervised_organ["code"]:
                found.add(Party.SUPERVISED)
        return found

    def can(self, action: str, actor: Actor) -> bool:
        spec = ACTIONS[action]
        return self.status in spec.allowed_from and bool(spec.parties & self.parties(actor)) and self.open_to(action)

    def open_to(self, action: str) -> bool:
        """Whether the case's own state (besides its status) admits `action` now: a phase whose steps depend on
        more than the status says so (Supervising: an answer only to an open order)."""
        return True

    # --- taking a command ----------------------------------------------------------------------------------------
    def take(self, step: str, command: BaseModel, context: StepContext) -> None:
        """Take the command of `step` with the method that declared it takes it (`takes`)."""
        method, arguments = TAKEN_BY[step]
        getattr(self, method)(**arguments(command, context), at=context.at, actor=context.actor,
                              correlation_id=context.correlation_id)

    # --- checks ----------------------------------------------------------------------------------------------
    def _check(self, action: str, actor: Actor) -> None:
        spec = ACTIONS[action]
        if not spec.parties & self.parties(actor):
            raise NotPermitted("not_permitted", f"您无权对该信访事项执行“{spec.text}”操作")
        if self.status not in spec.allowed_from:
            raise IllegalTransition(action, self.status, self.actions_for(actor))

    def actions_for(self, actor: Actor) -> list[str]:
        """The actions open now to `actor` (what a refusal tells them they may do instead)."""
        return [a for a in allowed_actions(self.status) if self.can(a, actor)]

    def _deadline(self, kind: str) -> dict[str, Any] | None:
        found = self.deadlines.get(kind)
        return found if found and found.get("status", "open") == "open" else None

    def _within(self, kind: str, today: date, code: str, what: str) -> None:
        deadline = self._deadline(kind)
        if deadline and today > date.fromisoformat(deadline["due"]):
            raise RuleViolation(code, f"已超过{deadline['label']}（截止{deadline['due']}），不能{what}",
                                due=deadline["due"])

    def _close_open(self, outcome: str, *kinds: str) -> dict[str, str]:
        """The open deadlines of `kinds` (all, if none named), each closed `outcome`: "met" for a duty done — which
        `_step` records as "late" when done after its day — or "stopped"."""
        wanted = kinds or tuple(self.deadlines)
        return {k: outcome for k in wanted if self._deadline(k)}

    def _late_days(self, closed: Mapping[str, str], today: date) -> dict[str, int]:
        """The duties (DEADLINE_HOLDERS) `closed` says were done, but after their day: by how many calendar days."""
        late = {}
        for kind, outcome in closed.items():
            deadline = self.deadlines.get(kind)
            if outcome == "met" and kind in DEADLINE_HOLDERS and deadline:
                days = (today - date.fromisoformat(deadline["due"])).days
                if days > 0:
                    late[kind] = days
        return late

    def _today(self, at: datetime) -> date:
        today = local_date(at)
        if today.isoformat() < self.last_step_on:
            raise InvalidCommand("date_before_last_step", f"日期不能早于上一办理环节（{self.last_step_on}）")
        return today

    # --- recording a step ------------------------------------------------------------------------------------
    def _step(self, event_class: type[Transitioned], action: str, status: Status, *, actor: Actor,
              at: datetime, basis: str, details: dict[str, Any] | None = None,
              opened: list[Deadline] | None = None, closed: dict[str, str] | None = None,
              correlation_id: str, causation_id: str | None = None) -> None:
        closed = dict(closed or {})
        late = self._late_days(closed, local_date(at))
        if late:  # a duty done after its day: recorded as late, with by how many days, never refused
            closed |= dict.fromkeys(late, "late")
            details = {**(details or {}), "late_days": late}
        self.trigger_event(  # type: ignore[attr-defined]  # the Aggregate's, in Case
            event_class, action=action, status=status.value, details=details or {},
            opened=[d.as_dict() for d in opened or []], closed=closed, actor=actor.model_dump(),
            at=at.isoformat(), basis=basis, correlation_id=correlation_id, causation_id=causation_id)

    def _apply_transition(self, e: Transitioned) -> None:
        """Status, deadlines and the day of the last step, for every step; the rest is the event's `keep`."""
        self.status = Status(e.status)
        late = e.details.get("late_days") or {}
        for kind, outcome in e.closed.items():
            if kind in self.deadlines:
                self.deadlines[kind] = {**self.deadlines[kind], "status": outcome,
                                        **({"late_days": late[kind]} if kind in late else {})}
        for deadline in e.opened:
            self.deadlines[deadline["kind"]] = deadline
        self.last_step_on = max(self.last_step_on, local_date(datetime.fromisoformat(e.at)).isoformat())
