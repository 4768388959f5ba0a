"""The CaseView projection: supervision's Case events → `case_views` documents.

Every update is guarded by the document's version (the Case version it reflects), so replaying an event — after
a crash, or during a rebuild — changes nothing. Timeline texts are for the petitioner, in Chinese.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from mongoengine import NotUniqueError

from services.supervision.domainmodel import STATUS_TEXT, Case
from shared.contracts.registration import CHANNEL_LABELS, Channel
from shared.readmodels import CaseView, Deadline, Organ, TimelineEntry

CHANNEL_TEXT = {"inbox": "站内信", "email": "电子邮件", "sms": "短信"}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class CaseViewProjection:
    name = "case_views"

    def drop(self) -> None:
        CaseView.drop_collection()
        CaseView.ensure_indexes()

    def apply_batch(self, items: Sequence[tuple[int, Any]]) -> None:
        for _sequence, domain_event in items:
            self.apply(domain_event)

    def apply(self, event: Any) -> None:
        if isinstance(event, Case.Opened):
            self._opened(event)
        elif isinstance(event, Case.OrganAssigned):
            self._update(event, {
                "set__status": "transferred",
                "set__status_text": STATUS_TEXT["transferred"],
                "set__organ": Organ(code=event.organ["code"], name=event.organ["name"]),
                "set__routing_basis": event.basis,
                "set__rules_version": event.rules_version,
            }, TimelineEntry(at=_at(event.at), step="transferred",
                             text=f"已转送{event.organ['name']}办理，该机关将在规定期限内告知是否受理"))
        elif isinstance(event, Case.NoticeDelivered):
            channel = CHANNEL_TEXT.get(event.channel, event.channel)
            self._update(event, {}, TimelineEntry(at=_at(event.at), step="notice_delivered",
                                                  text=f"《{event.title}》已通过{channel}送达"))

    @staticmethod
    def _opened(event: Any) -> None:
        registered_at = _at(event.at)
        view = CaseView(
            petition_id=str(event.originator_id),
            query_code=event.query_code,
            version=event.originator_version,
            status="registered",
            status_text=STATUS_TEXT["registered"],
            title=event.title,
            category=event.category,
            channel=event.channel,
            place_code=event.place_code,
            registered_at=registered_at,
            deadlines=[Deadline(**d) for d in event.deadlines],
            timeline=[TimelineEntry(at=registered_at, step="registered",
                                    text=f"信访事项已登记（{CHANNEL_LABELS[Channel(event.channel)]}）")],
            updated_at=_now(),
        )
        try:
            view.save(force_insert=True)
        except NotUniqueError:
            pass  # already projected: a replay

    @staticmethod
    def _update(event: Any, changes: dict[str, Any], entry: TimelineEntry) -> None:
        # Applies only to the version just before this event: a replayed event matches nothing.
        CaseView.objects(petition_id=str(event.originator_id), version=event.originator_version - 1).update_one(
            **changes, push__timeline=entry, set__version=event.originator_version, set__updated_at=_now()
        )
