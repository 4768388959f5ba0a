"""Registration as it happens at a counter (issue 16): a landline (区号-号码) when there is no mobile; when the letter
arrived or the visit took place (`received_at`), from which the triage clock runs; the receiving window and the
clerk's note, which only the counter sets; and stored events from before all this still load."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from services.intake.application import CounterFieldsRefused, command_hash
from services.intake.bootstrap import build_application as build_intake
from services.intake.domainmodel import Petition
from services.intake.settings import IntakeSettings
from services.supervision.bootstrap import build_application as build_supervision
from services.supervision.domainmodel import Case
from services.supervision.settings import SupervisionSettings
from services.supervision.translate import RegisteredPetition
from shared.language.chinatime import local_date
from shared.language.contracts.actor import PETITIONER, Actor
from shared.language.contracts.errors import validation_problem
from shared.language.contracts.identity import landline
from shared.language.contracts.registration import MAX_RECEIPT_AGE_DAYS, RegisterPetition, received_day
from tests.support import samples
from tests.unit.shared.test_upcasting import as_stored_in_an_older_version, mapper

CLERK = Actor(role="clerk", user="clerk1", organ="330106-XFJ")
SEQUENCES = itertools.count(1)  # each event its own: one already tracked would be taken as a redelivery
TODAY = local_date(datetime.now(UTC))


def errors_of(body: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as refused:
        RegisterPetition.model_validate(body)
    return validation_problem(refused.value.errors())["errors"]


def landline_only(**overrides: Any) -> dict[str, Any]:
    body = samples.petition(channel="letter", **overrides)
    del body["petitioner"]["phone"]
    body["petitioner"].pop("email")
    body["petitioner"]["landline"] = "0571-87654321"
    return body


# --- the landline ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "stored"), [
    ("0571-87654321", "0571-87654321"), ("057187654321", "0571-87654321"), ("0571 87654321", "0571-87654321"),
    ("(0571)87654321", "0571-87654321"), ("０５７１－８７６５４３２１", "0571-87654321"), ("010-62345678", "010-62345678"),
])
def test_a_landline_is_stored_as_area_code_hyphen_number(typed: str, stored: str) -> None:
    assert landline(typed) == stored


@pytest.mark.parametrize(("typed", "message"), [
    ("87654321", "固定电话格式不正确，请填写区号和号码，如0571-87654321"),  # no area code
    ("0571-8765432", "固定电话格式不正确，请填写区号和号码，如0571-87654321"),  # too short for Hangzhou
    ("0571-87654321-801", "固定电话格式不正确，请填写区号和号码，如0571-87654321"),
    ("13800138000", "这是手机号码，请填写在“手机号码”一栏；固定电话请填写区号和号码，如0571-87654321"),
])
def test_a_landline_that_is_none_is_refused_in_chinese(typed: str, message: str) -> None:
    body = landline_only()
    body["petitioner"]["landline"] = typed

    [error] = errors_of(body)
    assert (error["field"], error["label"], error["code"], error["message"]) == (
        "petitioner.landline", "固定电话", "invalid_landline", message)


def test_a_petitioner_needs_a_mobile_or_a_landline_and_is_told_so() -> None:
    body = landline_only()
    del body["petitioner"]["landline"]

    [error] = errors_of(body)
    assert (error["field"], error["label"], error["code"]) == ("petitioner.phone", "手机号码", "phone_or_landline_required")
    assert error["message"] == "请填写手机号码；没有手机的，请填写固定电话（区号-号码，如0571-87654321）"


def test_a_landline_alone_or_beside_a_mobile_is_accepted() -> None:
    alone = RegisterPetition.model_validate(landline_only()).petitioner
    assert (alone.phone, alone.landline) == (None, "0571-87654321")
    both = samples.petition()
    both["petitioner"]["landline"] = "0571 87654321"
    assert RegisterPetition.model_validate(both).petitioner.landline == "0571-87654321"


# --- when it was received ---------------------------------------------------------------------------------------
def test_a_letter_gives_the_day_it_arrived_and_a_visit_its_time_with_the_offset() -> None:
    letter = RegisterPetition.model_validate(samples.petition(channel="letter", received_at=str(TODAY - timedelta(3))))
    visit = RegisterPetition.model_validate(samples.petition(channel="visit",
                                                             received_at=f"{TODAY - timedelta(1)}T09:30:00+08:00"))

    assert letter.model_dump(mode="json")["received_at"] == str(TODAY - timedelta(3))
    assert visit.model_dump(mode="json")["received_at"] == f"{TODAY - timedelta(1)}T09:30:00+08:00"
    assert received_day(visit.model_dump(mode="json")["received_at"]) == TODAY - timedelta(1)
    assert letter.counter_fields() == ["received_at"]


@pytest.mark.parametrize(("channel", "received_at", "message"), [
    ("letter", str(TODAY + timedelta(1)), "收到时间不能晚于现在"),
    ("visit", (datetime.now(UTC) + timedelta(hours=1)).isoformat(), "收到时间不能晚于现在"),
    ("letter", str(TODAY - timedelta(MAX_RECEIPT_AGE_DAYS + 1)), "收到时间不能早于"),
    ("visit", "2026-03-01T09:30:00", "接待时间须注明时区"),
    ("letter", "三天前", "收到时间格式不正确"),
    ("online", str(TODAY), "网上信访以提交时间为收到时间"),
])
def test_a_receipt_in_the_future_too_long_ago_or_online_is_refused(channel, received_at, message) -> None:
    [error] = errors_of(samples.petition(channel=channel, received_at=received_at))

    assert (error["field"], error["label"], error["code"]) == ("received_at", "收到时间", "invalid_received_at")
    assert error["message"].startswith(message)


def test_the_window_and_the_note_are_checked_text_with_chinese_labels() -> None:
    errors = errors_of(samples.petition(channel="visit", window="一号\n窗口", note="\u202e备注"))

    assert {(e["field"], e["label"], e["code"]) for e in errors} == {
        ("window", "接待窗口", "line_break"), ("note", "登记备注", "bidi_control")}
    counter = RegisterPetition.model_validate(samples.petition(channel="visit", window="一号窗口", note="由其子陪同\n来访"))
    assert counter.counter_fields() == ["window", "note"]


# --- intake keeps them, and only the counter may give them ----------------------------------------------------------
@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = build_intake(IntakeSettings(XINFANG_ENV="test", EVENT_STORE="sqlite",
                                      DATA_DIR=str(tmp_path_factory.mktemp("intake"))))
    yield app
    app.close()


def test_only_the_counter_says_when_it_was_received_at_which_window_with_which_note(intake: Any) -> None:
    letter = RegisterPetition.model_validate(landline_only(received_at=str(TODAY - timedelta(5)), window="一号窗口",
                                                          note="信访人年事已高，由其子代写"))

    with pytest.raises(CounterFieldsRefused):
        intake.register_petition(letter, actor=PETITIONER)
    receipt = intake.register_petition(letter, actor=CLERK)

    record = intake.get_petition(receipt["id"])
    assert (record["received_at"], record["window"], record["note"]) == (
        str(TODAY - timedelta(5)), "一号窗口", "信访人年事已高，由其子代写")
    assert record["petitioner"]["landline"] == "0571-87654321" and record["petitioner"]["phone"] is None
    assert intake.particulars(receipt["id"], "case")["received_at"] == str(TODAY - timedelta(5))
    recipient = intake.particulars(receipt["id"], "notice")["recipient"]
    assert recipient == {"name": "王秀兰", "phone": None, "email": None}  # no landline: not needed to send it


# --- the triage clock runs from receipt ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def supervision(tmp_path_factory: pytest.TempPathFactory) -> Any:
    app = build_supervision(SupervisionSettings(XINFANG_ENV="test", EVENT_STORE="sqlite",
                                                DATA_DIR=str(tmp_path_factory.mktemp("supervision"))))
    yield app
    app.close()


@pytest.mark.parametrize("received_at", [str(TODAY - timedelta(6)), f"{TODAY - timedelta(6)}T16:45:00+08:00", None])
def test_the_triage_deadline_runs_from_the_day_it_was_received(supervision: Any, received_at: str | None) -> None:
    event = samples.registered_event(next(SEQUENCES), channel="letter")
    particulars = {**samples.particulars(event), "received_at": received_at}

    supervision.open_case(event, particulars)

    triage = supervision.repository.get(RegisteredPetition.of(event, particulars).petition_id).deadlines["triage"]
    start = TODAY - timedelta(6) if received_at else local_date(datetime.fromisoformat(event.data["registered_at"]))
    assert triage["start"] == start.isoformat()
    assert triage["due"] == supervision.rules.compute("triage", start).due


# --- stored events from before ----------------------------------------------------------------------------------
def test_a_petition_registered_before_the_counter_fields_loads_without_them() -> None:
    petition = Petition.register(RegisterPetition.model_validate(samples.petition()), query_code="Q",
                                 actor=PETITIONER, correlation_id="c")
    [registered] = petition.collect_events()
    old = as_stored_in_an_older_version(registered, version=2, without=("received_at", "window", "note"))

    loaded = mapper().to_domain_event(old).mutate(None)

    assert (loaded.received_at, loaded.window, loaded.note) == (None, None, None)
    assert loaded.petitioner["phone"] == petition.petitioner["phone"]


def test_a_case_opened_before_receipt_dates_loads_as_received_when_registered() -> None:
    now = datetime.now(UTC)
    case = Case(petition_id=uuid.uuid4(), query_code="Q", title="t", category="appeal", channel="letter",
                place_code="330106", at=now.isoformat(), deadlines=[], correlation_id="c", causation_id="x",
                people_count=1, repeat_of=None, flags=[], accused_organs=[], topic=None,
                received_at=str(date.today() - timedelta(2)), provincial=None)
    [opened] = case.collect_events()

    v5 = mapper().to_domain_event(as_stored_in_an_older_version(opened, version=5, without=("received_at",)))

    assert v5.received_at is None and v5.mutate(None).status == "registered"


def test_an_idempotency_keys_hash_is_as_before_when_the_new_fields_are_empty() -> None:
    """A retry that spans the upgrade must not be taken for another petition under the same key."""
    command = RegisterPetition.model_validate(samples.petition())
    before = json.loads(command.model_dump_json())
    for name in ("received_at", "window", "note"):
        del before[name]
    del before["petitioner"]["landline"]
    dumped = json.dumps(before, ensure_ascii=False, separators=(",", ":")).encode()

    assert command_hash(command, b"k") == hmac.new(b"k", dumped, hashlib.sha256).hexdigest()
    counter = RegisterPetition.model_validate(landline_only(received_at=str(TODAY), window="一号窗口"))
    assert command_hash(counter, b"k") != command_hash(RegisterPetition.model_validate(landline_only()), b"k")
