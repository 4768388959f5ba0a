"""intake's use cases: register a petition, read it back (officer view), find it by query code."""

from __future__ import annotations

import logging
import uuid
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from prometheus_client import Counter

from shared.contracts import querycode
from shared.contracts.actor import PETITIONER
from services.intake.domainmodel import Petition
from shared.contracts.registration import RegisterPetition
from shared.eventstore import IntegrityError, ServiceApplication
from shared.groupcommit import GroupCommitter
from shared.settings import PlatformSettings

log = logging.getLogger(__name__)

REGISTERED = Counter("xinfang_petitions_registered_total", "Petitions registered", ["channel", "category"])


class PetitionNotFound(LookupError):
    pass


class IntakeApplication(ServiceApplication):
    name = "Intake"
    service_name = "intake"

    def __init__(self, settings: PlatformSettings, env: dict[str, str] | None = None, *, max_batch: int = 200):
        super().__init__(settings, env)
        self._committer = GroupCommitter(self.save, store=self.service_name, max_batch=max_batch)

    def register_petition(
        self,
        command: RegisterPetition,
        *,
        actor: dict[str, Any] | None = None,
        correlation_id: str | None = None,
    ) -> dict[str, Any]:
        """Register a validated petition and issue its query code; returns once it is durably stored."""
        for _attempt in range(3):
            code = querycode.issue()
            petition = Petition.register(command, query_code=code, actor=actor or PETITIONER.model_dump(),
                                         correlation_id=correlation_id or str(uuid.uuid4()))
            try:
                self._committer.commit(petition.collect_events())
            except IntegrityError:
                # Either our own commit went through and its acknowledgement was lost (the library retried and
                # found the row), or — with 80 random bits, practically never — the code was issued before.
                if self._is_ours(petition):
                    break
                log.warning("query code collision; issuing another")
                continue
            break
        else:
            raise RuntimeError("could not issue a unique query code")
        REGISTERED.labels(petition.channel, petition.category).inc()
        return self.receipt(petition)

    def _is_ours(self, petition: Petition) -> bool:
        try:
            stored: Petition = self.repository.get(petition.id)
        except AggregateNotFoundError:
            return False
        return stored.correlation_id == petition.correlation_id and stored.created_on == petition.created_on

    def get_petition(self, petition_id: UUID | str) -> dict[str, Any]:
        """The full registration record, including personal data: for authorised officers only."""
        petition = self._get(petition_id)
        return {
            **self.receipt(petition),
            "channel": petition.channel,
            "petitioner": petition.petitioner,
            "title": petition.title,
            "request": petition.request,
            "facts_and_reasons": petition.facts_and_reasons,
            "category": petition.category,
            "topic": petition.topic,
            "place_code": petition.place_code,
            "people_count": petition.people_count,
            "attachments": petition.attachments,
            "registered_by": petition.registered_by,
        }

    def find_by_query_code(self, text: str) -> dict[str, Any] | None:
        """What a petitioner may see right after submitting, before supervision's view catches up."""
        code = querycode.normalize(text)
        if code is None:
            return None
        try:
            petition: Petition = self.repository.get(Petition.create_id(code))
        except AggregateNotFoundError:
            return None
        return {**self.receipt(petition), "title": petition.title}

    def _get(self, petition_id: UUID | str) -> Petition:
        try:
            petition_uuid = petition_id if isinstance(petition_id, UUID) else UUID(str(petition_id))
            return self.repository.get(petition_uuid)
        except (ValueError, AggregateNotFoundError):
            raise PetitionNotFound(str(petition_id)) from None

    @staticmethod
    def receipt(petition: Petition) -> dict[str, Any]:
        return {
            "id": str(petition.id),
            "query_code": petition.query_code,
            "status": petition.status,
            "registered_at": petition.created_on.isoformat(),
        }

    def close(self) -> None:
        if not getattr(self, "_closed", False):
            self._committer.close()
        super().close()
