"""intake's use cases: register a petition, read it back (officer view), find it by query code."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import uuid
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from prometheus_client import Counter

from services.intake.accused import accused_organs
from services.intake.domainmodel import Petition, PetitionerFile, RegistrationKey
from services.intake.petitioner_files import PetitionerFiles
from services.intake.repeats import SameMatterTest, file_id, matter_text, person_keys
from shared.language.contracts import querycode
from shared.language.contracts.actor import PETITIONER, Actor
from shared.language.contracts.registration import COUNTER_FIELDS, COUNTER_ROLES, RegisterPetition
from shared.language.organs import OrganDirectory
from shared.runtime.eventstore import IntegrityError, ServiceApplication
from shared.runtime.groupcommit import GroupCommitter
from shared.runtime.recentaggregates import RecentItems
from shared.runtime.settings import PlatformSettings

log = logging.getLogger(__name__)

REGISTERED = Counter("xinfang_petitions_registered_total", "Petitions registered", ["channel", "category"])
REPEATS = Counter("xinfang_repeat_petitions_total", "Petitions registered as repeats of an earlier one (同人+同事)")


class PetitionNotFound(LookupError):
    pass


class IdempotencyKeyReused(ValueError):
    """The caller's Idempotency-Key already registered a different petition."""


class CounterFieldsRefused(PermissionError):
    """Only the bureau's counter (clerks, admin) says when an item was received, at which window, with a note: a
    petitioner's online form may not backdate its own clock. args: the fields given."""


def command_hash(command: RegisterPetition, secret: bytes) -> str:
    """Keyed: the hash is stored with the key and must not let anyone test guesses of the petition's content.
    Fields added since keys were first stored are left out while empty (the counter's, a landline), so a retry that
    spans an upgrade hashes as the first attempt did."""
    exclude: dict[str, Any] = {name: True for name in COUNTER_FIELDS if getattr(command, name) is None}
    if command.petitioner is not None and command.petitioner.landline is None:
        exclude["petitioner"] = {"landline"}
    return hmac.new(secret, command.model_dump_json(exclude=exclude).encode(), hashlib.sha256).hexdigest()


# Who may ask intake for a petition's particulars, and why (`IntakeApplication.particulars`).
PARTICULARS_PURPOSES = frozenset({"case", "notice", "routing"})


class IntakeApplication(ServiceApplication):
    name = "Intake"
    service_name = "intake"

    def __init__(self, settings: PlatformSettings, env: dict[str, str] | None = None, *, max_batch: int = 200,
                 person_key_secret: bytes = b"development-only-person-key-secret",
                 same_matter: SameMatterTest | None = None, organs: OrganDirectory | None = None,
                 recent_petitions: int = 2_000) -> None:
        super().__init__(settings, env)
        self._committer = GroupCommitter(self.insert_stored, store=self.service_name, max_batch=max_batch)
        self._person_key_secret = person_key_secret
        self.same_matter = same_matter or SameMatterTest()
        self._files = PetitionerFiles(self)
        self.organs = organs or OrganDirectory.load(settings.routing_rules_file)
        # Petitions registered here lately: supervision and notification ask for their particulars within
        # milliseconds, and a petition never changes once registered (it has no event after Registered).
        self._recent: RecentItems[UUID, Petition] = RecentItems(recent_petitions)

    def register_petition(
        self,
        command: RegisterPetition,
        *,
        actor: Actor = PETITIONER,
        correlation_id: str | None = None,
        idempotency_key: str | None = None,
        provincial: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Register a validated petition and issue its query code; returns once it is durably stored.

        With an `idempotency_key`, a second registration by the same caller (an officer's user name, or the public)
        with the same key returns the first one's receipt and stores nothing; with a different command it raises
        IdempotencyKeyReused.

        Before triage (docs/domain.md §"Repeats and finality") the petition is checked against the earlier
        petitions of every person it names; the same matter links it to them (`repeat_of`). What that means for
        acceptance is supervision's decision, which knows whether the earlier case is still open or final."""
        if (given := command.counter_fields()) and actor.role not in COUNTER_ROLES:
            raise CounterFieldsRefused(*given)  # the gateway refuses it first; this is the second line
        correlation_id = correlation_id or str(uuid.uuid4())
        claim = None
        if idempotency_key is not None:
            caller = self._idempotency_scope(command, actor)
            claim = (RegistrationKey.create_id(caller, idempotency_key), caller, idempotency_key,
                     command_hash(command, self._person_key_secret))
        keys = {file_id(key, self._person_key_secret): key.split(":", 1)[0] for key in person_keys(command)}
        # Registrations naming the same person take turns in this process (in a fixed order: no deadlock), so
        # they never meet in one group-committed batch, which would then be retried item by item.
        with contextlib.ExitStack() as turns:
            turns.enter_context(self._committer.working())  # paces the group commit (shared/runtime/groupcommit.py)
            for identity in sorted(keys):
                turns.enter_context(self._turns.hold(identity))
            petition, new = self._register(command, keys, actor, correlation_id, claim, provincial)
        if not new:
            return self.receipt(petition)
        REGISTERED.labels(petition.channel, petition.category).inc()
        if petition.repeat_of:
            REPEATS.inc()
        self._recent.put(petition.id, petition)
        return self.receipt(petition)

    def _register(self, command: RegisterPetition, keys: dict[UUID, str], actor: Actor, correlation_id: str,
                  claim: tuple[UUID, str, str, str] | None,
                  provincial: dict[str, Any] | None = None) -> tuple[Petition, bool]:
        """The petition registered, and whether this call registered it (False: its idempotency key had)."""
        text = matter_text(command.request, command.facts_and_reasons)
        # Each round at least one of the competing registrations of a person goes through, so this bounds how many
        # petitions of one person can arrive at the very same moment, not how long anyone waits.
        for _attempt in range(20):
            if claim is not None and (earlier := self._claimed(claim)) is not None:
                return earlier, False
            files = self._files.get(keys)
            petition = Petition.register(command, query_code=querycode.issue(),
                                         actor=actor, correlation_id=correlation_id,
                                         similar_petitions=self._same_matter(files, keys, text),
                                         provincial=provincial)
            for identity, file in files.items():
                if file is None:
                    files[identity] = PetitionerFile(file_id=identity, petition_id=str(petition.id))
                else:
                    file.file(petition_id=str(petition.id))
            taken = [] if claim is None else RegistrationKey(
                caller=claim[1], key=claim[2], petition_id=str(petition.id), command_hash=claim[3]).collect_events()
            try:
                self._committer.commit(self.to_stored([*petition.collect_events(), *taken,
                                                       *(e for f in files.values() for e in f.collect_events())]))
            except IntegrityError:
                self._files.forget(keys)
                # Our own commit went through and its acknowledgement was lost (the library retried and found the
                # row); or another petition of the same person was registered meanwhile (its file moved on); or —
                # with 80 random bits, practically never — the query code was issued before; or a registration with
                # the same idempotency key went through meanwhile (found at the top of the loop). Decide again.
                if self._is_ours(petition):
                    break
                log.info("petitioner file or query code taken meanwhile; registering again")
                continue
            except BaseException:
                self._files.forget(keys)  # changed in memory, not stored
                raise
            self._files.saved(f for f in files.values() if f is not None)
            break
        else:
            raise RuntimeError("could not register the petition: its petitioner files kept changing")
        return petition, True

    def _idempotency_scope(self, command: RegisterPetition, actor: Actor) -> str:
        """Whose keys an Idempotency-Key is among: an officer's own; for the public, the petitioner's (a keyed
        hash of the ID number), so nobody can take, or learn of, a key another petitioner will use."""
        if actor.user:
            return f"{actor.role}:{actor.user}"
        if command.petitioner is not None:
            return f"petitioner:{file_id('id:' + command.petitioner.id_number, self._person_key_secret)}"
        return "petitioner:anonymous"

    def _claimed(self, claim: tuple[UUID, str, str, str]) -> Petition | None:
        """The petition registered earlier under this idempotency key, if any."""
        try:
            taken: RegistrationKey = self.repository.get(claim[0])
        except AggregateNotFoundError:
            return None
        if taken.command_hash != claim[3]:
            raise IdempotencyKeyReused(claim[2])
        return self.repository.get(UUID(taken.petition_id))

    # Earlier petitions compared per identity: a person's most recent ones (older matters are long concluded).
    MAX_COMPARED = 50

    def _same_matter(self, files: dict[UUID, PetitionerFile | None], keys: dict[UUID, str],
                     text: str) -> list[dict[str, Any]]:
        """Earlier petitions of the same person on the same matter, most recent first."""
        matched_by: dict[str, list[str]] = {}
        for identity, file in files.items():
            for petition_id in (file.petition_ids[-self.MAX_COMPARED:] if file else []):
                matched_by.setdefault(petition_id, []).append(keys[identity])
        similar = []
        for petition_id, kinds in matched_by.items():
            earlier: Petition = self.repository.get(UUID(petition_id))
            same, score = self.same_matter.same_matter(text, matter_text(earlier.request, earlier.facts_and_reasons))
            if same:
                similar.append({"petition_id": petition_id, "registered_at": earlier.created_on.isoformat(),
                                "similarity": score, "same_person_by": sorted(set(kinds))})
        return sorted(similar, key=lambda s: s["registered_at"], reverse=True)

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
            "anonymous": petition.anonymous,
            "petitioner": petition.petitioner,
            "accused": petition.accused,
            "representatives": petition.representatives,
            "joint_signers": petition.joint_signers,
            "flags": petition.flags,
            "repeat_of": petition.repeat_of,
            "similar_petitions": petition.similar_petitions,
            "title": petition.title,
            "request": petition.request,
            "facts_and_reasons": petition.facts_and_reasons,
            "category": petition.category,
            "topic": petition.topic,
            "place_code": petition.place_code,
            "people_count": petition.people_count,
            "attachments": petition.attachments,
            "received_at": petition.received_at,
            "window": petition.window,
            "note": petition.note,
            "provincial": petition.provincial,  # a province's matter: its reference number, mode, day to report by
            "registered_by": petition.registered_by,
        }

    def particulars(self, petition_id: UUID | str, purpose: str) -> dict[str, Any]:
        """What another service of the platform needs of a petition beyond the published facts, and no more
        (data minimisation): supervision's views show the title and find the case by its query code; a notice
        names and reaches the petitioner; routing and supervision keep a report away from the organs it accuses.
        Served over intake's private RPC, never the shared exchange."""
        if purpose not in PARTICULARS_PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r}; one of {sorted(PARTICULARS_PURPOSES)}")
        petition = self._recent_or_stored(petition_id)
        # The organs a report accuses (Art. 30): routing passes over them, supervision refuses to send it there.
        accused = accused_organs(petition.accused, self.organs) if petition.category == "report" else []
        if purpose == "routing":
            return {"petition_id": str(petition.id), "accused_organs": accused}
        shown = {"petition_id": str(petition.id), "query_code": petition.query_code, "title": petition.title}
        if purpose == "case":
            shown["accused_organs"] = accused
            shown["received_at"] = petition.received_at  # the triage clock runs from receipt, when it is given
            shown["registered_by"] = petition.registered_by  # the officer, by name: not on the exchange
            # A province's matter: supervision answers the province (its reference number; an assignment's day)
            shown["provincial"] = petition.provincial
        if purpose == "notice":
            petitioner = petition.petitioner
            shown["recipient"] = None if petitioner is None else {
                # No mobile (`phone` None): a landline-only petitioner, who has no account on the platform's apps.
                "name": petitioner["name"], "phone": petitioner.get("phone"), "email": petitioner.get("email")}
            # The petitioner's own words, which the 处理意见书 answers point by point (notification's step notices).
            shown["request"], shown["facts_and_reasons"] = petition.request, petition.facts_and_reasons
            shown["registered_at"] = petition.created_on.isoformat()  # "您于……提出的" in every notice, unless
            shown["received_at"] = petition.received_at  # a letter arrived (a visit took place) before: that day
        return shown

    def find_by_query_code(self, text: str) -> dict[str, Any] | None:
        """What a petitioner may see right after submitting, before supervision's view catches up."""
        petition = self._by_query_code(text)
        return None if petition is None else {**self.receipt(petition), "title": petition.title}

    def _by_query_code(self, text: str) -> Petition | None:
        code = querycode.normalize(text)
        if code is None:
            return None
        try:
            return self.repository.get(Petition.create_id(code))
        except AggregateNotFoundError:
            return None

    def verify_petitioner(self, text: str, id_number_tail: str) -> dict[str, Any] | None:
        """Whether `id_number_tail` is the last six characters of the ID number on file for the petition of query
        code `text` (the petitioner's second factor, docs/security.md); None for an unknown code. An anonymous
        report has no ID number: never verified, and said so (the bureau takes its rating on a return visit).
        An agent (代理人) gives the petitioner's digits, not the agent's own."""
        petition = self._by_query_code(text)
        if petition is None:
            return None
        number = (petition.petitioner or {}).get("id_number") if not petition.anonymous else None
        if not number:
            return {"petition_id": str(petition.id), "verified": False, "anonymous": True}
        given = id_number_tail.strip().upper().encode("utf-8", "surrogatepass")
        verified = hmac.compare_digest(given, number[-6:].upper().encode())  # no early exit to time
        return {"petition_id": str(petition.id), "verified": verified, "anonymous": False}

    def _recent_or_stored(self, petition_id: UUID | str) -> Petition:
        try:
            key = petition_id if isinstance(petition_id, UUID) else UUID(str(petition_id))
        except ValueError:
            raise PetitionNotFound(str(petition_id)) from None
        petition = self._recent.take(key)
        if petition is None:
            return self._get(key)
        self._recent.put(key, petition)
        return petition

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
