"""supervision's use cases: open a case when a petition is registered, follow its routing, and take the
officers' and petitioners' lifecycle commands."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from pydantic import ValidationError

from services.supervision.deadlines import DeadlineRules
from services.supervision.domainmodel import ASSIGN_BASIS, REDIRECT_BASIS, REPORT_UP_BASIS, TRANSFER_BASIS, Case
from services.supervision.lifecycle import STATUS_TEXT, CaseError, InvalidCommand, Status, allowed_actions
from shared.language.chinatime import local_date
from shared.language.contracts.errors import validation_problem
from shared.language.contracts.lifecycle import COMMANDS
from shared.language.integration.envelope import IntegrationEvent
from shared.language.organs import OrganDirectory
from shared.runtime.eventstore import IntegrityError, NotYet, ServiceApplication
from shared.runtime.recentaggregates import RecentAggregates
from shared.runtime.settings import PlatformSettings

log = logging.getLogger(__name__)

SYSTEM_ROUTING = {"role": "system", "user": "routing-rules", "organ": None}
Clock = Callable[[], datetime]


class CaseNotOpenedYet(NotYet):
    """An event about a petition arrived before its registration did; it is retried shortly."""


class CaseNotFound(CaseError):
    http_status = 404


class SupervisionApplication(ServiceApplication):
    name = "Supervision"
    service_name = "supervision"

    def __init__(self, settings: PlatformSettings, rules: DeadlineRules, organs: OrganDirectory,
                 env: dict[str, str] | None = None, clock: Clock | None = None, recent_cases: int = 5_000) -> None:
        super().__init__(settings, env)
        self.rules = rules
        self.organs = organs
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        # A case's routing and its receipt's delivery follow its opening within milliseconds: keeping the cases
        # saved here spares reading and replaying them (a fifth of this service's CPU, profiled at 30/s).
        self.recent_cases: RecentAggregates[Case] = RecentAggregates(recent_cases)

    # --- integration events ----------------------------------------------------------------------------------
    def open_case(self, event: IntegrationEvent, particulars: Mapping[str, Any]) -> str:
        """Open the case of a registered petition. `particulars` (query code, title, and the organs a report
        accuses) come from intake's private RPC: the published event carries no free text and no query code."""
        petition = event.data
        registered_at = datetime.fromisoformat(petition["registered_at"])

        def decide() -> list[Case]:
            case = Case(
                petition_id=UUID(petition["petition_id"]),
                query_code=particulars["query_code"],
                title=particulars["title"],
                category=petition["category"],
                channel=petition["channel"],
                place_code=petition["place_code"],
                at=petition["registered_at"],
                correlation_id=event.correlation_id,
                causation_id=event.id,
                people_count=petition.get("people_count", 1),
                repeat_of=petition.get("repeat_of"),
                flags=petition.get("flags", []),
                accused_organs=list(particulars.get("accused_organs", [])),
                deadlines=self._opening_deadlines(petition.get("flags", []), local_date(registered_at)),
            )
            at = max(self.clock(), registered_at)
            earlier = self._earlier_cases(petition.get("similar_petitions", []), registered_at)
            # An earlier case whose review window passed is final in law, swept or not: finalize it now, with this.
            finalized = [c for c in earlier if c.finalize_if_window_passed(at=at, correlation_id=event.correlation_id)]
            if earlier:
                case.decide_on_repeat(earlier, at=at, correlation_id=event.correlation_id, causation_id=event.id)
            registered_by = particulars.get("registered_by") or petition.get("actor") or {}
            receiving_organ = self._receiving_organ(registered_by)
            if receiving_organ and not case.is_closed:
                case.receive_directly(organ=receiving_organ, rules=self.rules, at=at, actor=registered_by,
                                      correlation_id=event.correlation_id, causation_id=event.id)
            opened.append(case)
            return [case, *finalized]

        opened: list[Case] = []
        return self.process(event.tracking, decide, key=event.subject,
                            on_processed=lambda: self.recent_cases.put(opened[-1]))

    # How long a repeat waits for an earlier case to be opened (the earlier registration is normally consumed
    # first; this only bounds the wait if it never comes, e.g. dead-lettered): then the repeat is triaged by hand.
    EARLIER_CASE_WAIT = timedelta(minutes=5)

    def _earlier_cases(self, similar: list[dict[str, Any]], registered_at: datetime) -> list[Case]:
        found = []
        for earlier in similar:
            try:
                found.append(self._case_or_not_yet(earlier["petition_id"]))
            except CaseNotOpenedYet:
                if self.clock() - registered_at < self.EARLIER_CASE_WAIT:
                    raise
                log.warning("earlier case %s of repeat not found; the repeat is triaged by hand",
                            earlier["petition_id"])
        return found

    def _receiving_organ(self, actor: dict[str, Any]) -> dict[str, str] | None:
        """The organ that registered the petition itself (S2': direct receipt), if an organ did."""
        if actor.get("role") != "organ_officer" or not actor.get("organ"):
            return None
        organ = self.organs.get(actor["organ"])
        return organ.as_dict() if organ else None

    def _opening_deadlines(self, flags: list[str], registered_on: date) -> list[dict[str, Any]]:
        # The bureau's 15 days to transfer or assign run from receipt (Art. 22); a major/urgent item (30 or more
        # people; docs/domain.md §"Group petitions and representatives") is also reported up, the same day by this
        # county's rule.
        kinds = ["triage", *(["major_report"] if "major_urgent" in flags else [])]
        return [self.rules.compute(kind, registered_on).as_dict() for kind in kinds]

    def record_routing(self, event: IntegrationEvent) -> str:
        """The routing rules' decision. Applied only while the case awaits triage: a clerk who already routed it
        by hand, or a case already closed, keeps its state (the decision is recorded as processed)."""
        routed = event.data

        def decide(case: Case) -> list[Case]:
            if not case.can("route", SYSTEM_ROUTING):
                return []
            # While re-routing, only the re-routing decision counts; never back to an organ whose objection held.
            if case.status == Status.REROUTING and routed.get("reason", "registered") != "objection_upheld":
                return []
            if (routed.get("organ") or {}).get("code") in case.objecting_organs:
                return []
            if any(o["code"] in case.accused_organs for o in (routed.get("organ"), *routed.get("joining_organs", []))
                   if o):  # routing passes over them; should its table leave no other organ, the bureau triages
                log.warning("petition %s: the rules routed a report to an organ it accuses; left for the bureau",
                            routed["petition_id"])
                return []
            case.route(disposition=routed.get("disposition", "transfer"), organ=routed.get("organ"),
                       joining_organs=routed.get("joining_organs", []), basis=routed["basis"], rules=self.rules,
                       at=max(self.clock(), datetime.fromisoformat(routed["routed_at"])), actor=SYSTEM_ROUTING,
                       correlation_id=event.correlation_id, causation_id=event.id, rule_id=routed.get("rule_id"),
                       rules_version=routed.get("rules_version"), where_to_go=routed.get("where_to_go"))
            return [case]

        return self._on_case(event, routed["petition_id"], decide)

    def record_notice(self, event: IntegrationEvent) -> str:
        """Record when a notice first reached the petitioner (any channel): what deadlines on notices are
        measured against. Deliveries on further channels are kept by notification, not repeated here."""
        notice = event.data

        def decide(case: Case) -> list[Case]:
            if case.has_notice(notice["notice_id"]):
                return []
            case.record_notice(notice_id=notice["notice_id"], kind=notice["kind"], title=notice["title"],
                               channel=notice["channel"], at=notice["delivered_at"],
                               correlation_id=event.correlation_id, causation_id=event.id)
            return [case]

        # A notice once recorded stays recorded: a cached case that has it, however stale, is right about it.
        return self._on_case(event, notice["petition_id"], decide,
                             settled=lambda case: case.has_notice(notice["notice_id"]))

    def _on_case(self, event: IntegrationEvent, petition_id: str, decide_on: Callable[[Case], list[Case]], *,
                 settled: Callable[[Case], bool] | None = None) -> str:
        """Process `event` as a decision about one existing case, on its recently saved state when this process
        has it. A decision that writes events is checked by the store (a stale case is refused and decided again
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

        return self.process(event.tracking, decide, key=event.subject, on_processed=keep)

    def _case_or_not_yet(self, petition_id: str) -> Case:
        try:
            return self.repository.get(UUID(petition_id))
        except AggregateNotFoundError:
            raise CaseNotOpenedYet(petition_id) from None

    # --- commands ------------------------------------------------------------------------------------------
    def perform(self, petition_id: str, action: str, payload: dict[str, Any], actor: dict[str, Any],
                correlation_id: str | None = None) -> dict[str, Any]:
        """Apply one lifecycle command and return the case as it now stands. Raises CaseError (with an HTTP
        status and a Chinese message) when the command is invalid, not permitted or not allowed now."""
        model = COMMANDS.get(action)
        if model is None:
            raise InvalidCommand("unknown_action", f"未知的办理操作：{action}")
        try:
            command = model.model_validate(payload)
        except ValidationError as error:
            problem = validation_problem(error.errors())
            raise InvalidCommand(problem["error"], problem["message"], errors=problem["errors"]) from None
        correlation_id = correlation_id or str(uuid.uuid4())
        with self._turns.hold(petition_id):
            self._forget(petition_id)
            for _attempt in range(5):
                case = self._case(petition_id)
                self._apply(case, action, command, actor, correlation_id)
                try:
                    self.save(case)
                except IntegrityError:  # another instance moved the case on meanwhile: decide again on fresh state
                    continue
                return self.summary(case)
        raise CaseError("conflict", "该信访事项正在被其他人员办理，请刷新后重试")

    def _apply(self, case: Case, action: str, c: Any, actor: dict[str, Any], correlation_id: str) -> None:
        at, rules = self.clock(), self.rules
        common = {"at": at, "actor": actor, "correlation_id": correlation_id}
        if action in ("transfer", "assign"):
            case.route(disposition=action, organ=self._organ(c.organ_code),
                       joining_organs=[self._organ(code) for code in c.joining_organ_codes if code != c.organ_code],
                       basis=c.basis or (ASSIGN_BASIS if action == "assign" else TRANSFER_BASIS), rules=rules,
                       report_due=getattr(c, "report_due", None), action=action, **common)
        elif action == "report_up":
            case.route(disposition="report_up", organ=None, joining_organs=[], basis=f"{REPORT_UP_BASIS}。{c.reasons}",
                       rules=rules, action=action, **common)
        elif action == "redirect":
            case.route(disposition="out_of_remit", organ=None, joining_organs=[], basis=REDIRECT_BASIS,
                       rules=rules, where_to_go=c.where_to_go, action=action, **common)
        elif action == "object":
            suggested = self._organ(c.suggested_organ_code) if c.suggested_organ_code else None
            case.object(reasons=c.reasons, suggested_organ=suggested, **common)
        elif action == "decide_objection":
            organ = self._organ(c.organ_code) if c.organ_code else None
            case.decide_objection(upheld=c.upheld, reasons=c.reasons, organ=organ, rules=rules, **common)
        elif action == "accept":
            case.accept(procedure=c.procedure, notes=c.notes, rules=rules, **common)
        elif action in ("decline", "decline_again"):
            case.decline(reason_code=c.reason_code, explanation=c.explanation, again=action == "decline_again",
                         earlier_petition_id=str(c.earlier_petition_id) if c.earlier_petition_id else None, **common)
        elif action == "reopen_as_new_matter":
            case.reopen_as_new_matter(new_facts=c.new_facts, rules=rules, **common)
        elif action == "divert":
            case.divert(item=c.item, explanation=c.explanation, **common)
        elif action == "record_handling":
            case.record_handling(kind=c.kind, summary=c.summary, **common)
        elif action == "convert_to_ordinary":
            case.convert_to_ordinary(reason=c.reason, rules=rules, **common)
        elif action == "extend":
            case.extend(days=c.days, reasons=c.reasons, approved_by=c.approved_by, rules=rules, **common)
        elif action == "reply":
            case.reply(outcome=c.outcome, opinion=c.opinion, rules=rules, **common)
        elif action in ("open_review", "open_re_review"):
            case.open_review(organ=self._organ(c.organ_code), rules=rules, re_review=action == "open_re_review",
                             **common)
        elif action == "decide_review":
            case.decide_review(outcome=c.outcome, opinion=c.opinion, rules=rules, **common)
        elif action == "start_hearing":
            case.start_hearing(**common)
        elif action == "end_hearing":
            case.end_hearing(rules=rules, **common)
        elif action == "decide_re_review":
            case.decide_re_review(outcome=c.outcome, opinion=c.opinion, **common)
        elif action == "withdraw":
            case.withdraw(reasons=c.reasons, **common)
        elif action == "evaluate":
            case.evaluate(rating=c.rating, comment=c.comment, channel=c.return_visit_channel, **common)
        elif action == "request_review":
            case.request_review(reasons=c.reasons, **common)
        else:  # pragma: no cover - COMMANDS and this dispatch are kept in step by a unit test
            raise InvalidCommand("unknown_action", f"未知的办理操作：{action}")

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

    def get_case(self, petition_id: str, actor: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.summary(self._case(petition_id), actor)

    @staticmethod
    def summary(case: Case, actor: dict[str, Any] | None = None) -> dict[str, Any]:
        """The case as it stands: status, organ, open deadlines and the actions open now."""
        actions = allowed_actions(case.status)
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
    def sweep(self, petition_ids: list[str]) -> dict[str, int]:
        """Finalize cases whose review window passed unused, and recount provisional deadlines the calendar now
        covers. Safe to run from several instances at once (a lost race is a version conflict, retried)."""
        finalized = recomputed = 0
        for petition_id in petition_ids:
            with self._turns.hold(petition_id):
                self._forget(petition_id)
                for _attempt in range(3):
                    try:
                        case = self._case(petition_id)
                    except CaseNotFound:  # a read model ahead of a restored store: nothing to sweep here
                        log.warning("deadline sweep: case %s not found", petition_id)
                        break
                    did_finalize = case.finalize_if_window_passed(at=self.clock(), correlation_id=str(uuid.uuid4()))
                    did_recompute = case.recompute_deadlines(rules=self.rules, at=self.clock(),
                                                             correlation_id=str(uuid.uuid4()))
                    if not (did_finalize or did_recompute):
                        break
                    try:
                        self.save(case)
                    except IntegrityError:
                        continue
                    finalized += did_finalize
                    recomputed += did_recompute
                    break
        return {"finalized": finalized, "recomputed": recomputed}

