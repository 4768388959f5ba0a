"""Repeat detection at registration (同人+同事; docs/domain.md §"Repeats and finality") on the real stores: the
same person is found by ID number, by name + phone, through a representative or joint signer, or — for anonymous
reports — by the accused party; the same matter by the similarity of the Chinese text; and two registrations of
one person at the same moment cannot both miss each other."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from shared.language.contracts.registration import RegisterPetition
from tests.support import samples

SEWAGE = {"request": "请求有关部门尽快疏通污水管道",
          "facts_and_reasons": "自今年三月起，小区北门污水井多次外溢，臭气熏天，多次向物业反映无果。"}
SEWAGE_AGAIN = {"request": "再次请求尽快疏通小区污水管道",
                "facts_and_reasons": "今年三月以来，小区北门的污水井多次外溢，臭气熏天，向物业反映多次都没有结果。"}
ILLEGAL_BUILDING = {"request": "请求拆除违章建筑", "facts_and_reasons": "邻居在楼顶搭建彩钢房，影响采光和消防安全。",
                    "topic": "urban_management"}


def register(app: IntakeApplication, **fields: Any) -> dict[str, Any]:
    receipt = app.register_petition(RegisterPetition.model_validate(samples.petition(**fields)))
    return app.get_petition(receipt["id"])


@pytest.fixture
def intake(settings_for, closing, store) -> IntakeApplication:
    return closing(IntakeApplication(settings_for(IntakeSettings, store=store)))


def test_the_same_person_on_the_same_matter_is_linked_to_the_earlier_petition(intake):
    person = {"id_number": samples.id_number(), "phone": samples.mobile()}
    first = register(intake, **person, **SEWAGE)
    again = register(intake, **person, **SEWAGE_AGAIN)

    assert first["repeat_of"] is None
    assert again["repeat_of"] == first["id"]
    [similar] = again["similar_petitions"]
    assert similar["petition_id"] == first["id"]
    assert similar["same_person_by"] == ["id", "name+phone"]
    assert similar["similarity"] >= 60


def test_the_same_person_on_another_matter_is_a_new_petition(intake):
    person = {"id_number": samples.id_number(), "phone": samples.mobile()}
    register(intake, **person, **SEWAGE)

    other = register(intake, **person, **ILLEGAL_BUILDING)

    assert other["repeat_of"] is None and other["similar_petitions"] == []


def test_someone_else_on_the_same_matter_is_not_a_repeat(intake):
    register(intake, **SEWAGE)

    assert register(intake, **SEWAGE)["repeat_of"] is None


def test_name_and_phone_find_the_same_person_under_another_id_number(intake):
    phone = samples.mobile()
    first = register(intake, name="李建国", phone=phone, **SEWAGE)

    again = register(intake, name="李建国", phone=phone, **SEWAGE_AGAIN)

    assert again["repeat_of"] == first["id"]
    assert again["similar_petitions"][0]["same_person_by"] == ["name+phone"]


def test_a_representative_of_a_group_is_the_same_person_as_an_earlier_petitioner(intake):
    leader = {"name": "赵德明", "id_number": samples.id_number(), "phone": samples.mobile()}
    first = register(intake, name=leader["name"], id_number=leader["id_number"], phone=leader["phone"], **SEWAGE)

    group = register(intake, people_count=12, representatives=[leader], **SEWAGE_AGAIN)

    assert group["repeat_of"] == first["id"]
    assert group["flags"] == ["group"]


def test_a_joint_signer_links_a_joint_letter_to_an_earlier_one(intake):
    signer = {"name": "钱玉芬", "phone": samples.mobile()}
    first = register(intake, people_count=3, joint_signers=[signer], **SEWAGE)

    again = register(intake, people_count=3, joint_signers=[signer], **SEWAGE_AGAIN)

    assert again["repeat_of"] == first["id"]
    assert again["flags"] == ["joint_signature"]


def anonymous_report(accused: dict[str, str], **text: str) -> dict[str, Any]:
    body = samples.petition(category="report", anonymous=True, accused=accused, topic=None, **text)
    del body["petitioner"]
    return body


def test_anonymous_reports_are_compared_by_the_accused_party(intake):
    accused = {"name": "孙某某", "organisation": "东溪镇某村村民委员会"}
    text = {"request": "请求查处村干部侵占集体土地补偿款",
            "facts_and_reasons": "村委会主任孙某某将征地补偿款截留，未发放给村民。"}
    first = intake.register_petition(RegisterPetition.model_validate(anonymous_report(accused, **text)))

    again = intake.get_petition(intake.register_petition(
        RegisterPetition.model_validate(anonymous_report(accused, **text)))["id"])
    other = intake.get_petition(intake.register_petition(
        RegisterPetition.model_validate(anonymous_report({"name": "周某"}, **text)))["id"])

    assert again["repeat_of"] == first["id"]
    assert again["similar_petitions"][0]["same_person_by"] == ["accused"]
    assert again["petitioner"] is None and again["anonymous"] is True
    assert other["repeat_of"] is None


def test_registrations_of_one_person_at_the_same_moment_in_two_processes_do_not_miss_each_other(
        intake, settings_for, closing, store):
    # Two instances on one store, as two intake processes: in one process registrations of a person take turns;
    # across processes the petitioner file's version decides, and the loser registers again.
    other = closing(IntakeApplication(settings_for(IntakeSettings, store=store)))
    person = {"id_number": samples.id_number(), "phone": samples.mobile()}
    commands = [RegisterPetition.model_validate(samples.petition(**person, **SEWAGE)) for _ in range(6)]
    barrier = threading.Barrier(len(commands))
    receipts: list[dict[str, Any]] = []

    def submit(app: IntakeApplication, command: RegisterPetition) -> None:
        barrier.wait()
        receipts.append(app.register_petition(command))

    threads = [threading.Thread(target=submit, args=((intake, other)[i % 2], c)) for i, c in enumerate(commands)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(receipts) == 6
    petitions = sorted((intake.get_petition(r["id"]) for r in receipts), key=lambda p: p["registered_at"])
    assert len(petitions) == 6
    # Exactly one is first; every later one links to an earlier one and sees all those before it.
    assert [p["repeat_of"] is None for p in petitions] == [True] + [False] * 5
    for position, petition in enumerate(petitions):
        assert {s["petition_id"] for s in petition["similar_petitions"]} == {p["id"] for p in petitions[:position]}


def test_a_person_first_registered_by_another_process_since_start_up_is_still_found(intake, settings_for, closing,
                                                                                     store):
    # `other` starts before the first petition exists, so it believes the person has no file; writing one
    # conflicts with the file `intake` opened, and `other` decides again on what the store holds.
    other = closing(IntakeApplication(settings_for(IntakeSettings, store=store)))
    person = {"id_number": samples.id_number(), "phone": samples.mobile()}
    first = register(intake, **person, **SEWAGE)

    again = register(other, **person, **SEWAGE_AGAIN)
    third = register(other, **person, **SEWAGE)  # now from what `other` holds in memory

    assert again["repeat_of"] == first["id"]
    assert third["repeat_of"] == again["id"]
    assert {s["petition_id"] for s in third["similar_petitions"]} == {first["id"], again["id"]}


def test_a_restarted_process_knows_every_file_from_the_store(intake, settings_for, closing, store):
    person = {"id_number": samples.id_number(), "phone": samples.mobile()}
    first = register(intake, **person, **SEWAGE)
    intake.close()

    restarted = closing(IntakeApplication(settings_for(IntakeSettings, store=store)))

    assert register(restarted, **person, **SEWAGE_AGAIN)["repeat_of"] == first["id"]
