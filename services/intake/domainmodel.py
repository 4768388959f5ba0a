"""intake's aggregate: the registered petition."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from shared.language.contracts.actor import Actor
from shared.language.contracts.registration import RegisterPetition

QUERY_CODE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:xinfang:query-code")


class Petition(Aggregate):
    """A petition (信访事项) as registered (登记). Every item must be registered (2022 Regulations Art. 21;
    docs/domain.md §"Lifecycle", S1); the registration fields: docs/domain.md §"Channels and registration".

    Its id is derived from its query code (a one-way hash of an 80-bit secret): finding a petition by its code is
    a plain load, and a code issued twice is a version conflict in the store, so codes are unique without an
    index. The id, which officers and other systems see, reveals nothing about the code.
    """

    @staticmethod
    def create_id(query_code: str) -> UUID:  # type: ignore[override]
        return uuid5(QUERY_CODE_NAMESPACE, query_code)

    class Registered(Aggregate.Created):
        # v2 (the lifecycle) added anonymous reports, the accused party, representatives, joint signers, flags and
        # the repeat link; v3 the counter's fields (when it was received, the window, the clerk's note; a landline
        # in `petitioner` needs no version: older petitioners simply have none); v4 the matter a province sent
        # (`provincial`: services/intake/provincial.py). Older histories are upcast on load.
        class_version = 4

        query_code: str
        channel: str
        anonymous: bool
        petitioner: dict[str, Any] | None
        accused: dict[str, Any] | None
        representatives: list[dict[str, Any]]
        joint_signers: list[dict[str, Any]]
        flags: list[str]
        repeat_of: str | None
        similar_petitions: list[dict[str, Any]]
        title: str
        request: str
        facts_and_reasons: str
        category: str
        topic: str | None
        place_code: str
        people_count: int
        attachments: list[dict[str, Any]]
        received_at: str | None  # ISO 8601: a date (a letter), or a date and time with its offset (a visit, a call)
        window: str | None  # 接待窗口
        note: str | None  # the clerk's note
        # A province's matter (上级转送 / 交办): its source, event id, reference number, mode, sent_on, report_by
        provincial: dict[str, Any] | None
        actor: dict[str, Any]
        correlation_id: str
        causation_id: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.update(anonymous=False, accused=None, representatives=[], joint_signers=[], flags=[],
                         repeat_of=None, similar_petitions=[])

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state.update(received_at=None, window=None, note=None)

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            state.update(provincial=None)

    @classmethod
    def register(cls, command: RegisterPetition, *, query_code: str, actor: Actor,
                 correlation_id: str, similar_petitions: list[dict[str, Any]] | None = None,
                 provincial: dict[str, Any] | None = None) -> Petition:
        """A petition registered from a validated registration command. `similar_petitions`: earlier petitions
        of the same person on the same matter, most recent first (the first is the one this repeats)."""
        similar = similar_petitions or []
        return cls(
            query_code=query_code,
            channel=command.channel.value,
            anonymous=command.anonymous,
            petitioner=command.petitioner.model_dump(mode="json") if command.petitioner else None,
            accused=command.accused.model_dump(mode="json") if command.accused else None,
            representatives=[p.model_dump(mode="json") for p in command.representatives],
            joint_signers=[p.model_dump(mode="json") for p in command.joint_signers],
            flags=command.flags,
            repeat_of=similar[0]["petition_id"] if similar else None,
            similar_petitions=similar,
            title=command.title,
            request=command.request,
            facts_and_reasons=command.facts_and_reasons,
            category=command.category.value,
            topic=command.topic.value if command.topic else None,
            place_code=command.place_code,
            people_count=command.people_count,
            attachments=[a.model_dump(mode="json") for a in command.attachments],
            received_at=command.model_dump(mode="json", include={"received_at"})["received_at"],
            window=command.window,
            note=command.note,
            provincial=provincial,
            actor=actor.model_dump(),  # stored as a plain record
            correlation_id=correlation_id,
            causation_id=None,
        )

    @event(Registered)
    def __init__(
        self,
        *,
        query_code: str,
        channel: str,
        anonymous: bool,
        petitioner: dict[str, Any] | None,
        accused: dict[str, Any] | None,
        representatives: list[dict[str, Any]],
        joint_signers: list[dict[str, Any]],
        flags: list[str],
        repeat_of: str | None,
        similar_petitions: list[dict[str, Any]],
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
        received_at: str | None = None,
        window: str | None = None,
        note: str | None = None,
        provincial: dict[str, Any] | None = None,
    ) -> None:
        self.query_code = query_code
        self.channel = channel
        self.anonymous = anonymous
        self.petitioner = petitioner
        self.accused = accused
        self.representatives = representatives
        self.joint_signers = joint_signers
        self.flags = flags
        self.repeat_of = repeat_of
        self.similar_petitions = similar_petitions
        self.title = title
        self.request = request
        self.facts_and_reasons = facts_and_reasons
        self.category = category
        self.topic = topic
        self.place_code = place_code
        self.people_count = people_count
        self.attachments = attachments
        self.received_at = received_at  # when a letter arrived or a visit or call took place; None: when registered
        self.window = window
        self.note = note
        self.provincial = provincial  # the province's matter it answers (reference number, mode, report_by)
        self.registered_by = actor
        self.correlation_id = correlation_id
        self.status = "registered"


class PetitionerFile(Aggregate):
    """The petitions filed under one identity (信访人档案): an ID number, a name and phone, or — for anonymous
    reports — an accused party. Saved in the same transaction as each petition it lists, so two petitions of
    one person registered at the same moment cannot both miss each other: the second save conflicts on the
    file's version and is decided again with the first in view. The id is a keyed hash of the identity
    (services/intake/repeats.py); the file holds no personal data itself."""

    @staticmethod
    def create_id(file_id: UUID) -> UUID:  # type: ignore[override]
        return file_id

    @event("Opened")
    def __init__(self, *, file_id: UUID, petition_id: str) -> None:
        self.petition_ids = [petition_id]

    @event("PetitionFiled")
    def file(self, *, petition_id: str) -> None:
        self.petition_ids.append(petition_id)


IDEMPOTENCY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:xinfang:idempotency-key")


class RegistrationKey(Aggregate):
    """A caller's `Idempotency-Key` for one registration. Saved in the same transaction as the petition, so a
    retry with the same key (after a timeout or a 503 whose registration went through) finds that petition; two
    attempts with one key at the same moment conflict on this aggregate's id in the store, so only one registers.
    Holds the petition id and a hash of the registration command (a different command under the same key is
    refused), no personal data."""

    @staticmethod
    def create_id(caller: str, key: str) -> UUID:  # type: ignore[override]
        return uuid5(IDEMPOTENCY_NAMESPACE, f"{caller}\n{key}")

    @event("Taken")
    def __init__(self, *, caller: str, key: str, petition_id: str, command_hash: str) -> None:
        self.petition_id = petition_id
        self.command_hash = command_hash
