"""Histories stored before the lifecycle release still load: each changed event class upcasts its older versions
(eventsourcing's class_version / upcast_vN_vM), so an auditor can replay any case ever recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, StoredEvent, UUIDAsHex

from services.intake.domainmodel import Petition
from services.routing.domainmodel import Assignment
from services.supervision.deadlines import load_deadline_rules
from services.supervision.domainmodel import Case
from shared.language.chinatime import local_date
from shared.language.contracts.actor import PETITIONER
from shared.language.contracts.registration import RegisterPetition
from tests.support import samples


def mapper() -> Mapper:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    return Mapper(transcoder=transcoder)


def as_stored_in_an_older_version(event: Any, *, without: tuple[str, ...], version: int) -> StoredEvent:
    """`event` as an older release stored it: without the newer fields, with the older class version."""
    stored = mapper().to_stored_event(event)
    state = mapper().transcoder.decode(stored.state)
    for name in without:
        del state[name]
    if version == 1:
        state.pop("class_version", None)
    else:
        state["class_version"] = version
    return StoredEvent(originator_id=stored.originator_id, originator_version=stored.originator_version,
                       topic=stored.topic, state=mapper().transcoder.encode(state))


def test_a_petition_registered_by_the_spine_loads_with_no_flags_and_no_repeat() -> None:
    petition = Petition.register(RegisterPetition.model_validate(samples.petition()), query_code="Q", actor=PETITIONER,
                                 correlation_id="c")
    [registered] = petition.collect_events()
    old = as_stored_in_an_older_version(registered, version=1, without=(
        "anonymous", "accused", "representatives", "joint_signers", "flags", "repeat_of", "similar_petitions"))

    loaded = mapper().to_domain_event(old).mutate(None)

    assert (loaded.anonymous, loaded.accused, loaded.flags, loaded.repeat_of) == (False, None, [], None)
    assert loaded.petitioner == petition.petitioner


def test_a_routing_decision_of_the_spine_loads_without_facts_so_re_routing_leaves_it_to_the_bureau() -> None:
    assignment = Assignment(petition_id=uuid4(), facts={"category": "appeal"}, organ={"code": "X", "name": "某机关"},
                            joining_organs=[], where_to_go=None, disposition="transfer", basis="b", rule_id="r",
                            rules_version="v", actor={}, correlation_id="c", causation_id="e")
    [routed] = assignment.collect_events()
    old = as_stored_in_an_older_version(routed, version=1, without=("facts", "joining_organs", "where_to_go"))

    loaded = mapper().to_domain_event(old).mutate(None)

    assert (loaded.facts, loaded.organ["code"], loaded.excluded_organs) == (None, "X", [])


def test_a_case_opened_by_the_spine_or_the_first_lifecycle_release_loads_without_flags() -> None:
    now = datetime.now(UTC)
    case = Case(petition_id=uuid4(), query_code="Q", title="t", category="appeal", channel="online",
                place_code="330106", at=now.isoformat(),
                deadlines=[load_deadline_rules().compute("triage", local_date(now)).as_dict()],
                correlation_id="c", causation_id="x", people_count=3, repeat_of=None, flags=["joint_signature"],
                accused_organs=["330106-JW"], topic=None, received_at=None, provincial=None)
    [opened] = case.collect_events()

    v3 = mapper().to_domain_event(as_stored_in_an_older_version(
        opened, version=3, without=("accused_organs",))).mutate(None)
    v2 = mapper().to_domain_event(as_stored_in_an_older_version(
        opened, version=2, without=("flags", "accused_organs"))).mutate(None)
    v1 = mapper().to_domain_event(as_stored_in_an_older_version(
        opened, version=1, without=("flags", "people_count", "repeat_of", "accused_organs"))).mutate(None)

    assert (v3.flags, v3.accused_organs) == (["joint_signature"], [])
    assert (v2.flags, v2.people_count) == ([], 3)
    assert (v1.flags, v1.people_count, v1.repeat_of) == ([], 1, None)
