"""supervision's use cases: open a case when a petition is registered, follow its routing, and take the
officers' and petitioners' lifecycle commands."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from pydantic import ValidationError

from services.supervision.case.base import StepContext
from services.supervision.case.receipt import is_receipt
from services.supervision.deadlines import DeadlineRules
from services.supervision.domainmodel import Case
from services.supervision.lifecycle import STATUS_TEXT, CaseError, InvalidCommand, Status, allowed_actions
from services.supervision.translate import (
    DeliveredNotice,
    PostedNotice,
    Received,
    RegisteredPetition,
    RoutingDecision,
)
from shared.language.contracts.actor import DEADLINE_WATCH, ROUTING_RULES, Actor, Role
from shared.language.contracts.errors import validation_problem
from shared.language.contracts.lifecycle import STEPS
from shared.language.contracts.registration import Channel
from shared.language.integration.envelope import IntegrationEvent
from shared.language.organs import OrganDirectory
from shared.runtime.eventstore import IntegrityError, NotYet, ServiceApplication
from shared.runtime.recentaggregates import RecentAggregates
from shared.runtime.settings import PlatformSettings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


OWNERSHIP_GROUP = 30  # people: a group petition this large is proposed for leader ownership (§6.3, §8)
OWNERSHIP_REPEATS = 3  # earlier petitions of the same person on the same matter: a third repeat is proposed too


class CaseNotOpenedYet(NotYet):
    """An event about a petition arrived before its registration did; it is retried shortly."""


class CaseNotFound(CaseError):
    http_status = 404


class SupervisionApplication(ServiceApplication):
    name = "Supervision"
    service_name = "supervision"

    def __init__(self, settings: PlatformSettings, rules: DeadlineRules, organs: OrganDirectory,
                 env: dict[str, str] | None = None, clock: Clock | None = None, recent_cases: int = 5_000,
                 postal_receipt_presumed_days: int = 7) -> None:
        super().__init__(settings, env)
        self.rules = rules
        self.postal_receipt_presumed_days = postal_receipt_presumed_days  # POSTAL_RECEIPT_PRESUMED_DAYS
        self.organs = organs
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        # A case's routing and its receipt's delivery follow its opening within milliseconds: keeping the cases
        # saved here spares reading and replaying them (a fifth of this service's CPU, profiled at 30/s).
        self.recent_cases: RecentAggregates[Case] = RecentAggregates(recent_cases)

    # --- integration events ------------------------------------------------------------------------------------
    # Each arrives as published and is read into a typed value (translate.py) before the use case sees it.
    def open_case(self, event: IntegrationEvent, particulars: Mapping[str, Any]) -> str:
        """A `petition.registered`, with intake's `particulars` for it (its private RPC's answer)."""
        return self.open_registered(RegisteredPetition.of(event, particulars))

    def record_routing(self, event: IntegrationEvent) -> str:
        """A `petition.routed`."""
        return self.follow_routing(RoutingDecision.of(event))

    def record_notice(self, event: IntegrationEvent) -> str:
        """A `notice.delivered`."""
        return self.note_delivery(DeliveredNotice.of(event))

    def record_posting(self, event: IntegrationEvent) -> str:
        """A `notice.posted`."""
        return self.note_posting(PostedNotice.of(event))

    def open_registered(self, petition: RegisteredPetition) -> str:
        """Open the case of a registered petition: its triage clock, and what a repeat comes to; an organ's own
        registration is received directly (S2')."""
        received = petition.received
        registered_at = petition.registered_time

        def decide() -> list[Case]:
            case = Case(
                petition_id=petition.petition_id,
                query_code=petition.query_code,
                title=petition.title,
                category=petition.category,
                channel=petition.channel,
                place_code=petition.place_code,
                at=petition.registered_at,
                correlation_id=received.correlation_id,
                causation_id=received.id,
                people_count=petition.people_count,
                repeat_of=petition.repeat_of,
                flags=list(petition.flags),
                accused_organs=list(petition.accused_organs),
                topic=petition.topic,
                received_at=petition.received_at,
                provincial=petition.provincial,
                # From receipt, not from the typing: a letter that arrived last week has had its days already.
                deadlines=self._opening_deadlines(petition.flags, petition.received_on, petition.provincial),
            )
            at = max(self.clock(), registered_at)
            earlier = self._earlier_cases(petition.similar_petitions, registered_at)
            # An earlier case whose review window passed is final in law, swept or not: finalize it now, with this.
            finalized = [c for c in earlier if c.finalize_if_window_passed(at=at, correlation_id=received.correlation_id)]
            if earlier:
                case.decide_on_repeat(earlier, at=at, correlation_id=received.correlation_id, causation_id=received.id)
            # Leader ownership (领导包案) is proposed for a group of 30 or more, a third repeat, or a matter that came
            # from above (docs/domain.md §"Supervision"); a supervisor confirms it.
            triggers = [*(["group_of_30"] if petition.people_count >= OWNERSHIP_GROUP else []),
                        *(["repeat_visits"] if len(petition.similar_petitions) >= OWNERSHIP_REPEATS else []),
                        *(["from_above"] if petition.channel == Channel.PROVINCIAL_TRANSFER else [])]
            if triggers:
                case.propose_ownership(triggers, at=at, actor=DEADLINE_WATCH, correlation_id=received.correlation_id)
            receiving_organ = self._receiving_organ(petition.registered_by)
            if receiving_organ and petition.registered_by and not case.is_closed:
                case.receive_directly(organ=receiving_organ, rules=self.rules, at=at, actor=petition.registered_by,
                                      correlation_id=received.correlation_id, causation_id=received.id)
            opened.append(case)
            return [case, *finalized]

        opened: list[Case] = []
        return self.process(received.tracking, decide, key=received.subject,
                            on_processed=lambda: self.recent_cases.put(opened[-1]))

    # How long a repeat waits for an earlier case to be opened (the earlier registration is normally consumed
    # first; this only bounds the wait if it never comes, e.g. dead-lettered): then the repeat is triaged by hand.
    EARLIER_CASE_WAIT = timedelta(minutes=5)

    def _earlier_cases(self, similar: tuple[str, ...], registered_at: datetime) -> list[Case]:
        found = []
        for petition_id in similar:
            try:
                found.append(self._case_or_not_yet(petition_id))
            except CaseNotOpenedYet:
                if self.clock() - registered_at < self.EARLIER_CASE_WAIT:
                    raise
                log.warning("earlier case %s of repeat not found; the repeat is triaged by hand", petition_id)
        return found

    def _receiving_organ(self, actor: Actor | None) -> dict[str, str] | None:
        """The organ that registered the petition itself (S2': direct receipt), if an organ did."""
        if actor is None or actor.role != Role.ORGAN_OFFICER or not actor.organ:
            return None
        organ = self.organs.get(actor.organ)
        return organ.as_dict() if organ else None

    def _opening_deadlines(self, flags: tuple[str, ...], received_on: date,
                           provincial: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        # The bureau's 15 days to transfer or assign run from receipt (Art. 22): the day the letter arrived or the
        # visit or call took place, as the counter said, else the day of registration; a major/urgent item (30 or more
        # people; docs/domain.md §"Group petitions and representatives") is also reported up, the same day by this
        # county's rule. A province's assignment is reported on by the day the province set (Art. 22(3)).
        kinds = ["triage", *(["major_report"] if "major_urgent" in flags else [])]
        deadlines = [self.rules.compute(kind, received_on) for kind in kinds]
        if provincial and provincial.get("mode") == "assign":
            report = self.rules.compute("province_report", received_on)
            if provincial.get("report_by"):
                by = date.fromisoformat(provincial["report_by"])
                report = replace(report, days=(by - received_on).days, unit="calendar", due=by.isoformat(),
                                 provisional=False)
            deadlines.append(report)
        return [d.as_dict() for d in deadlines]

    def follow_routing(self, decision: RoutingDecision) -> str:
        """The routing rules' decision. Applied only while the case awaits triage: a clerk who already routed it
        by hand, or a case already closed, keeps its state (the decision is recorded as processed)."""
        received = decision.received

        def decide(case: Case) -> list[Case]:
            if not case.can("route", ROUTING_RULES):
                return []
            # While re-routing, only the re-routing decision counts; never back to an organ whose objection held.
            if case.status == Status.REROUTING and not decision.rerouting:
                return []
            if decision.organ and decision.organ.get("code") in case.objecting_organs:
                return []
            if any(o["code"] in case.accused_organs for o in decision.organs):
                # routing passes over them; should its table leave no other organ, the bureau triages
                log.warning("petition %s: the rules routed a report to an organ it accuses; left for the bureau",
                            decision.petition_id)
                return []
            case.route(disposition=decision.disposition, organ=decision.organ,
                       joining_organs=list(decision.joining_organs), basis=decision.basis, rules=self.rules,
                       at=max(self.clock(), decision.routed_at), actor=ROUTING_RULES,
                       correlation_id=received.correlation_id, causation_id=received.id, rule_id=decision.rule_id,
                       rules_version=decision.rules_version, where_to_go=decision.where_to_go)
            return [case]

        return self._on_case(received, decision.petition_id, decide)

    def note_delivery(self, notice: DeliveredNotice) -> str:
        """Record when a notice first reached the petitioner (any channel), and count the review (re-review)
        window again from the receipt of the opinion that opened it (case/receipt.py: e-mail, SMS or post, never
        the status page). Deliveries on further channels are kept by notification, not repeated here."""
        received = notice.received
        receipt = is_receipt(notice.kind, notice.channel)

        def decide(case: Case) -> list[Case]:
            changed = False
            if not case.has_notice(notice.notice_id):
                case.record_notice(notice_id=notice.notice_id, kind=notice.kind, title=notice.title,
                                   channel=notice.channel, at=notice.delivered_at,
                                   correlation_id=received.correlation_id, causation_id=received.id)
                changed = True
            if receipt:
                changed |= case.count_from_delivery(
                    notice_id=notice.notice_id, kind=notice.kind, channel=notice.channel,
                    received_on=notice.received_on, rules=self.rules, at=self.clock(),
                    correlation_id=received.correlation_id, causation_id=received.id)
            return [case] if changed else []

        def settled(case: Case) -> bool:
            # A notice once recorded stays recorded, and so does a window counted from its earliest receipt: a
            # cached case that shows both, however stale, is right about them.
            return case.has_notice(notice.notice_id) and (not receipt or case.receipt_counted(
                notice.notice_id, notice.kind, notice.channel, notice.received_on))

        return self._on_case(received, notice.petition_id, decide, settled=settled)

    def note_posting(self, notice: PostedNotice) -> str:
        """A notice went by registered mail: while no receipt of it is recorded, the review (re-review) window
        counts from its presumed receipt, POSTAL_RECEIPT_PRESUMED_DAYS after posting (case/receipt.py)."""
        received = notice.received

        def decide(case: Case) -> list[Case]:
            counted = case.count_from_posting(
                notice_id=notice.notice_id, kind=notice.kind, posted_on=notice.posted_on,
                presumed_days=self.postal_receipt_presumed_days, rules=self.rules, at=self.clock(),
                correlation_id=received.correlation_id, causation_id=received.id)
            return [case] if counted else []

        return self._on_case(received, notice.petition_id, decide)

    def _on_case(self, received: Received, petition_id: str, decide_on: Callable[[Case], list[Case]], *,
                 settled: Callable[[Case], bool] | None = None) -> str:
        """Process the `received` event as a decision about one existing case, on its recently saved state when
        this process has it. A decision that writes events is checked by the store (a stale case is refused and decided again
        on fresh state); a decision to write nothing is not, so one taken on a cached case is retaken on the
        stored one, unless `settled` says the cached case shows a fact that no later event can undo."""
        case_id = UUID(petition_id)
        current: list[Case] = []

        def decide() -> list[Case]:
            current.clear()
            case = self.recent_cases.take(case_id)
            if case is not None and settled is not None and settled(case):
                current.append(case)
                return []
            changed = decide_on(case) if case is not None else []
            if not changed:
                case = self._case_or_not_yet(petition_id)
                changed = decide_on(case)
            current.append(case)
            return changed

        def keep() -> None:  # within the turn: the next handler of this case must not be overtaken by the put
            if current:
                self.recent_cases.put(current[0])

        return self.process(received.tracking, decide, key=received.subject, on_processed=keep)

    def _case_or_not_yet(self, petition_id: str) -> Case:
        try:
            return self.repository.get(UUID(petition_id))
        except AggregateNotFoundError:
            raise CaseNotOpenedYet(petition_id) from None

    # --- commands ------------------------------------------------------------------------------------------
    def perform(self, petition_id: str, action: str, payload: dict[str, Any], actor: Actor | Mapping[str, Any],
                correlation_id: str | None = None) -> dict[str, Any]:
        """Apply one lifecycle command and return the case as it now stands. Raises CaseError (with an HTTP
        status and a Chinese message) when the command is invalid, not permitted or not allowed now. `actor`
        comes as the RPC delivers it (a mapping) or typed; the Case takes it typed."""
        step = STEPS.get(action)
        if step is None or step.command is None:
            raise InvalidCommand("unknown_action", f"未知的办理操作：{action}")
        try:
            command = step.command.model_validate(payload)
        except ValidationError as error:
            problem = validation_problem(error.errors(), step.command)
            raise InvalidCommand(problem["error"], problem["message"], errors=problem["errors"]) from None
        acting = Actor.model_validate(actor)
        correlation_id = correlation_id or str(uuid.uuid4())
        with self._turns.hold(petition_id):
            self._forget(petition_id)
            for _attempt in range(5):
                case = self._case(petition_id)
                case.take(action, command, StepContext(at=self.clock(), actor=acting, correlation_id=correlation_id,
                                                       rules=self.rules, organ=self._organ))
                try:
                    self.save(case)
                except IntegrityError:  # another instance moved the case on meanwhile: decide again on fresh state
                    continue
                return self.summary(case)
        raise CaseError("conflict", "该信访事项正在被其他人员办理，请刷新后重试")

    def _forget(self, petition_id: str) -> None:
        """A command or the sweep changes the case past the cache: the next event reads it from the store."""
        with contextlib.suppress(ValueError):  # not a petition id: nothing cached under it
            self.recent_cases.forget(UUID(str(petition_id)))

    def _organ(self, code: str) -> dict[str, str]:
        organ = self.organs.get(code)
        if organ is None:
            raise InvalidCommand("unknown_organ", f"机关代码“{code}”不在本县机关名录中", organ_code=code)
        return organ.as_dict()

    def _case(self, petition_id: str) -> Case:
        try:
            return self.repository.get(UUID(str(petition_id)))
        except (ValueError, AggregateNotFoundError):
            raise CaseNotFound("not_found", "未找到该信访事项") from None

    def get_case(self, petition_id: str, actor: Actor | Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self.summary(self._case(petition_id), None if actor is None else Actor.model_validate(actor))

    @staticmethod
    def summary(case: Case, actor: Actor | None = None) -> dict[str, Any]:
        """The case as it stands: status, organ, open deadlines and the actions open now."""
        actions = [a for a in allowed_actions(case.status) if case.open_to(a)]
        if actor is not None:
            actions = [a for a in actions if case.can(a, actor)]
        return {
            "id": str(case.id), "version": case.version, "status": case.status.value,
            "status_text": STATUS_TEXT[case.status], "organ": case.organ, "joining_organs": case.joining_organs,
            "review_organ": case.review_organ, "re_review_organ": case.re_review_organ,
            "disposition": case.disposition, "procedure": case.procedure,
            "deadlines": case.open_deadlines(), "allowed_actions": actions,
        }

    # --- the deadline sweep ----------------------------------------------------------------------------------
    def sweep(self, petition_ids: list[str], to_receive: frozenset[str] | None = frozenset()) -> dict[str, int]:
        """Finalize cases whose review window passed unused, and recount provisional deadlines the calendar now
        covers. Safe to run from several instances at once (a lost race is a version conflict, retried). The cases
        in `to_receive` send their written answer to the petitioner (e-mail, SMS, post): finalized only once the
        window counts from its receipt (sweep.py); None: not known now, so none is finalized."""

        def decide(case: Case) -> tuple[bool, bool]:
            did_finalize = to_receive is not None and case.finalize_if_window_passed(
                at=self.clock(), correlation_id=str(uuid.uuid4()), needs_receipt=str(case.id) in to_receive)
            return did_finalize, case.recompute_deadlines(rules=self.rules, at=self.clock(),
                                                          correlation_id=str(uuid.uuid4()))

        done = self._on_each(petition_ids, "deadline sweep", decide)
        return {"finalized": sum(f for f, _ in done), "recomputed": sum(r for _, r in done)}

    def watch(self, petition_ids: list[str], reminders: tuple[int, ...], ownership_after_days: int | None = None) -> int:
        """Remind the holders of the deadlines of `petition_ids` before their day and record each breach after it
        (Case.watch_deadlines), as of this application's clock; how many facts were recorded. Exactly once however
        many watchers run: a lost version race is reloaded, and the reloaded case finds the fact recorded."""
        return sum(self._on_each(petition_ids, "deadline watch", lambda case: case.watch_deadlines(
            rules=self.rules, reminders=reminders, at=self.clock(), correlation_id=str(uuid.uuid4()),
            ownership_after_days=ownership_after_days)))

    def _on_each(self, petition_ids: list[str], what: str, decide: Callable[[Case], Any]) -> list[Any]:
        """`decide` on each case in turn and save what it recorded: what each decision answered, for the cases where
        it recorded something (a truthy answer, or one with a truthy part). A lost version race (another instance
        saved first) is decided again on the reloaded case, up to three times."""
        done = []
        for petition_id in petition_ids:
            with self._turns.hold(petition_id):
                self._forget(petition_id)
                for _attempt in range(3):
                    try:
                        case = self._case(petition_id)
                    except CaseNotFound:  # a read model ahead of a restored store: nothing to do here
                        log.warning("%s: case %s not found", what, petition_id)
                        break
                    answer = decide(case)
                    if not (any(answer) if isinstance(answer, tuple) else answer):
                        break
                    try:
                        self.save(case)
                    except IntegrityError:
                        continue
                    done.append(answer)
                    break
        return done
