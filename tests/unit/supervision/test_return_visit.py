"""Ratings tell who took them (issue 14 §3): the petitioner's own, online, or one a clerk took on a return visit
(回访) by phone, visit or letter, recorded with the clerk as actor; events recorded before the distinction read as
the petitioner's. Pure domain, projection and translation: no store."""

from __future__ import annotations

from typing import Any

import pytest

from services.supervision import translate
from services.supervision.domainmodel import Case
from services.supervision.lifecycle import CaseError
from services.supervision.projections import render
from tests.unit.supervision.test_lifecycle import CLERK, ORDINARY, PETITIONER, A, new_case, officer, step

REPLIED = ORDINARY[:-1]  # routed, accepted, mediated, replied: the opinion awaits its rating


def replied_case() -> Case:
    case = new_case()
    for day, actor, method, kwargs, *_ in REPLIED:
        step(case, day, actor, method, **kwargs)
    return case


def evaluated(case: Case) -> Case.Evaluated:
    [event] = [e for e in case.collect_events() if isinstance(e, Case.Evaluated)]
    return event


def test_the_petitioners_own_rating_is_recorded_as_taken_online() -> None:
    case = replied_case()

    step(case, "2026-11-03", PETITIONER, "evaluate", rating="satisfied", comment="")

    event = evaluated(case)
    assert event.actor == PETITIONER
    assert (event.details["taken_by"], event.details["channel"]) == ("petitioner", "online")


def test_a_clerks_return_visit_is_recorded_with_the_clerk_as_actor_and_the_channel() -> None:
    case = replied_case()

    step(case, "2026-11-03", CLERK, "evaluate", rating="basically_satisfied", comment="电话回访", channel="phone")

    event = evaluated(case)
    assert event.actor == CLERK
    assert (event.details["taken_by"], event.details["channel"]) == ("return_visit", "phone")
    assert event.details["rating"] == "basically_satisfied"
    assert case.evaluated_levels == ["reply"]


@pytest.mark.parametrize(("actor", "kwargs", "code"), [
    pytest.param(CLERK, dict(rating="satisfied", comment=""), "invalid_return_visit_channel",
                 id="a return visit without its channel"),
    pytest.param(CLERK, dict(rating="satisfied", comment="", channel="email"), "invalid_return_visit_channel",
                 id="a return visit by a channel that is none"),
    pytest.param(PETITIONER, dict(rating="satisfied", comment="", channel="phone"), "invalid_return_visit_channel",
                 id="a petitioner claiming a return visit"),
    pytest.param(officer(A), dict(rating="satisfied", comment="", channel="phone"), "not_permitted",
                 id="the organ that handled it cannot record its own rating"),
])
def test_a_rating_is_refused_when_who_acts_and_how_it_was_taken_disagree(actor: dict[str, Any],
                                                                          kwargs: dict[str, Any], code: str) -> None:
    case = replied_case()
    version = case.version

    with pytest.raises(CaseError) as refused:
        step(case, "2026-11-03", actor, "evaluate", **kwargs)

    assert refused.value.code == code and refused.value.message
    assert case.version == version  # nothing recorded


@pytest.mark.parametrize(("first", "then"), [
    pytest.param((PETITIONER, None), (CLERK, "visit"), id="a return visit after the petitioner rated online"),
    pytest.param((CLERK, "letter"), (PETITIONER, None), id="the petitioner after a return visit"),
])
def test_an_opinion_is_rated_once_whoever_took_the_rating(first: tuple, then: tuple) -> None:
    case = replied_case()
    step(case, "2026-11-03", first[0], "evaluate", rating="satisfied", comment="", channel=first[1])

    with pytest.raises(CaseError) as refused:
        step(case, "2026-11-04", then[0], "evaluate", rating="dissatisfied", comment="", channel=then[1])

    assert refused.value.code == "already_evaluated"


def test_the_timeline_says_return_visit_and_older_ratings_read_as_the_petitioners() -> None:
    by_clerk, by_petitioner = replied_case(), replied_case()
    step(by_clerk, "2026-11-03", CLERK, "evaluate", rating="satisfied", comment="", channel="phone")
    step(by_petitioner, "2026-11-03", PETITIONER, "evaluate", rating="satisfied", comment="")
    older = by_petitioner.collect_events()
    older[-1].details.pop("taken_by")  # as recorded before ratings said who took them
    older[-1].details.pop("channel")

    [clerk_text] = [t.text for t in render(by_clerk.collect_events()).timeline if t.step == "evaluate"]
    [older_text] = [t.text for t in render(older).timeline if t.step == "evaluate"]

    assert clerk_text == "信访部门回访，信访人评价：满意（电话回访）"
    assert older_text == "信访人评价：满意"


def test_case_evaluated_publishes_who_took_the_rating_and_defaults_older_events() -> None:
    by_clerk, older = replied_case(), replied_case()
    step(by_clerk, "2026-11-03", CLERK, "evaluate", rating="dissatisfied", comment="王秀兰说不满意", channel="visit")
    step(older, "2026-11-03", PETITIONER, "evaluate", rating="satisfied", comment="")
    old_event = evaluated(older)
    for key in ("taken_by", "channel"):
        old_event.details.pop(key)

    published = translate.to_integration_event(evaluated(by_clerk), 1, "urn:xinfang:330106:supervision")
    published_old = translate.to_integration_event(old_event, 2, "urn:xinfang:330106:supervision")

    for event in (published, published_old):
        event.validate()  # the closed schema of case.step.v2 takes both keys
    assert published.event_type.type == "cn.xinfang.case.evaluated.v2"
    assert published.data["actor"]["role"] == "clerk"
    assert (published.data["details"]["taken_by"], published.data["details"]["channel"]) == ("return_visit", "visit")
    assert "comment" not in published.data["details"] and "王秀兰" not in published.to_json().decode()
    assert (published_old.data["details"]["taken_by"], published_old.data["details"]["channel"]) == \
        ("petitioner", "online")
