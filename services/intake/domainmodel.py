"""intake's aggregate: the registered petition."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.contracts.registration import RegisterPetition

QUERY_CODE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:xinfang:query-code")


class Petition(Aggregate):
    """A petition (信访事项) as registered (登记). Every item must be registered (2022 Regulations Art. 21;
    xinfang-domain.md §2.2 S1); the registration fields follow §1.3.

    Its id is derived from its query code (a one-way hash of an 80-bit secret): finding a petition by its code is
    a plain load, and a code issued twice is a version conflict in the store, so codes are unique without an
    index. The id, which officers and other systems see, reveals nothing about the code.
    """

    @staticmethod
    def create_id(query_code: str) -> UUID:  # type: ignore[override]
        return uuid5(QUERY_CODE_NAMESPACE, query_code)

    @classmethod
    def register(cls, command: RegisterPetition, *, query_code: str, actor: dict[str, Any],
                 correlation_id: str) -> Petition:
        """A petition registered from a validated registration command."""
        return cls(
            query_code=query_code,
            channel=command.channel.value,
            petitioner=command.petitioner.model_dump(mode="json"),
            title=command.title,
            request=command.request,
            facts_and_reasons=command.facts_and_reasons,
            category=command.category.value,
            topic=command.topic.value if command.topic else None,
            place_code=command.place_code,
            people_count=command.people_count,
            attachments=[a.model_dump(mode="json") for a in command.attachments],
            actor=actor,
            correlation_id=correlation_id,
            causation_id=None,
        )

    @event("Registered")
    def __init__(
        self,
        *,
        query_code: str,
        channel: str,
        petitioner: dict[str, Any],
        title: str,
        request: str,
        facts_and_reasons: str,
        category: str,
        topic: str | None,
        place_code: str,
        people_count: int,
        attachments: list[dict[str, Any]],
        actor: dict[str, Any],
        correlation_id: str,
        causation_id: str | None,
    ) -> None:
        self.query_code = query_code
        self.channel = channel
        self.petitioner = petitioner
        self.title = title
        self.request = request
        self.facts_and_reasons = facts_and_reasons
        self.category = category
        self.topic = topic
        self.place_code = place_code
        self.people_count = people_count
        self.attachments = attachments
        self.registered_by = actor
        self.correlation_id = correlation_id
        self.status = "registered"
