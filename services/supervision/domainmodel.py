"""supervision's aggregate: the case, i.e. the statutory handling lifecycle of one petition.

The Case is composed of its phases (services/supervision/case/: triage, acceptance, handling, review, receipt,
oversight, supervising), each with its events and methods; this module adds its opening and the notices delivered to the
petitioner. Its events keep the topics they were stored under (`services.supervision.domainmodel:Case.<Event>`):
the phases' events are redefined here as the Case's own (eventsourcing does this for the events of an aggregate's
bases).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.supervision.case.acceptance import Acceptance
from services.supervision.case.handling import Handling
from services.supervision.case.oversight import Oversight
from services.supervision.case.provincial import Provincial
from services.supervision.case.receipt import Receipt
from services.supervision.case.review import Review
from services.supervision.case.supervising import Supervising
from services.supervision.case.triage import Triage
from shared.language.chinatime import local_date
from shared.language.contracts.lifecycle import Status


class Case(Provincial, Triage, Acceptance, Handling, Review, Receipt, Oversight, Supervising, Aggregate):
    """One petition under supervision (its id is the petition's id)."""

    @staticmethod
    def create_id(petition_id: UUID) -> UUID:  # type: ignore[override]
        return petition_id

    class Opened(Aggregate.Created):
        # v2 added people_count and repeat_of (the lifecycle), v3 the registration flags, v4 the organs a report
        # accuses (Art. 30), v5 the topic (the work lists' filter), v6 when a letter arrived or a visit or call
        # took place (the triage clock's start, which `deadlines` already carry), v7 the matter a province sent
        # (`provincial`: case/provincial.py); older histories are upcast on load.
        class_version = 7

        petition_id: UUID
        query_code: str
        title: str
        category: str
        channel: str
        place_code: str
        at: str
        deadlines: list[dict[str, Any]]
        correlation_id: str
        causation_id: str
        people_count: int
        repeat_of: str | None
        flags: list[str]
        accused_organs: list[str]
        topic: str | None
        received_at: str | None  # ISO: a date, or a date and time with its offset; None: when registered (`at`)
        provincial: dict[str, Any] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("people_count", 1)
            state.setdefault("repeat_of", None)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.setdefault("flags", [])

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            state.setdefault("accused_organs", [])

        @staticmethod
        def upcast_v4_v5(state: dict[str, Any]) -> None:
            state.setdefault("topic", None)  # opened before the work lists: listed without a topic

        @staticmethod
        def upcast_v5_v6(state: dict[str, Any]) -> None:
            state.setdefault("received_at", None)  # received when registered, as every case was before

        @staticmethod
        def upcast_v6_v7(state: dict[str, Any]) -> None:
            state.setdefault("provincial", None)

    @event(Opened)
    def __init__(
        self,
        *,
        petition_id: UUID,
        query_code: str,
        title: str,
        category: str,
        channel: str,
        place_code: str,
        at: str,  # when the petition was registered (ISO 8601)
        deadlines: list[dict[str, Any]],
        correlation_id: str,
        causation_id: str,
        people_count: int = 1,
        repeat_of: str | None = None,
        flags: list[str] | None = None,
        accused_organs: list[str] | None = None,
        topic: str | None = None,
        received_at: str | None = None,  # shown in the case file; what the clocks need of it is in `deadlines`
        provincial: dict[str, Any] | None = None,  # a province's matter: what the county answers it (Provincial)
    ) -> None:
        self.query_code = query_code
        self.topic = topic
        self.accused_organs = list(accused_organs or [])  # a report is never sent to them (Art. 30)
        self.category = category
        self.channel = channel
        self.people_count = people_count
        self.repeat_of = repeat_of
        self.flags = list(flags or [])
        self.declined_as_repeat = False
        self.status = Status.REGISTERED
        self.deadlines: dict[str, dict[str, Any]] = {d["kind"]: {"status": "open", **d} for d in deadlines}
        self.organ: dict[str, str] | None = None
        self.joining_organs: list[dict[str, str]] = []
        self.disposition: str | None = None
        self.received_on: str | None = None  # when the organ received the transfer or assignment
        self.objecting_organs: list[str] = []
        self.procedure: str | None = None  # ordinary | simplified
        self.accepted_on: str | None = None
        self.opinions: list[dict[str, Any]] = []  # reply, review, re-review opinions in order
        self.evaluated_levels: list[str] = []
        self.review_organ: dict[str, str] | None = None
        self.re_review_organ: dict[str, str] | None = None
        self.hearing_started_on: str | None = None
        self.requested_on: str | None = None  # of the pending review or re-review request
        self.last_step_on = local_date(datetime.fromisoformat(at)).isoformat()
        self.opened_on = self.last_step_on
        self.notices: list[dict[str, str]] = []
        self.watched: dict[str, dict[str, Any]] = {}  # reminders and breaches recorded, by deadline (Oversight)
        self.supervision_order: dict[str, Any] | None = None  # the latest supervision order (Supervising)
        self.supervised_organ: dict[str, str] | None = None  # the organ it is addressed to
        self.leader: dict[str, Any] | None = None  # the leader who owns the case (领导包案)
        self.ownership_proposed: list[str] = []  # the triggers of leader ownership proposed already
        self.provincial = provincial
        self.province_answers: list[dict[str, Any]] = []  # what the province was told, in order (Provincial)

    # --- legacy and notices -------------------------------------------------------------------------------------
    @event("OrganAssigned")
    def assign_organ(
        self, *, organ: dict[str, str], basis: str, rules_version: str, at: str, correlation_id: str,
        causation_id: str,
    ) -> None:
        """Histories recorded before the lifecycle (a transfer without clocks); kept so they still load."""
        self.organ = organ
        self.disposition = "transfer"
        self.received_on = local_date(datetime.fromisoformat(at)).isoformat()
        self.status = Status.AWAITING_ACCEPTANCE

    def has_notice(self, notice_id: str) -> bool:
        return any(n["notice_id"] == notice_id for n in self.notices)

    @event("NoticeDelivered")
    def record_notice(
        self, *, notice_id: str, kind: str, title: str, channel: str, at: str, correlation_id: str, causation_id: str
    ) -> None:
        self.notices.append({"notice_id": notice_id, "kind": kind, "channel": channel})

