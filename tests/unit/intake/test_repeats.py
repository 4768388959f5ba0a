"""Same person, same matter (同人+同事; docs/domain.md §"Repeats and finality"): the identity keys and the text
test."""

from __future__ import annotations

import pytest

from services.intake.repeats import SameMatterTest, file_id, matter_text, person_keys
from shared.language.contracts.registration import RegisterPetition
from tests.support import samples

SEWAGE = matter_text("请求有关部门尽快疏通污水管道", "自今年三月起，小区北门污水井多次外溢，臭气熏天，多次向物业反映无果。")


@pytest.mark.parametrize(
    ("earlier", "same"),
    [
        pytest.param(SEWAGE, True, id="the same letter again"),
        pytest.param(matter_text("再次请求尽快疏通小区污水管道",
                                 "今年三月以来，小区北门的污水井多次外溢，臭气熏天，向物业反映多次都没有结果。"),
                     True, id="rephrased and re-ordered"),
        pytest.param(matter_text("请求有关部门尽快疏通污水管道。", "自今年三月起，小区北门污水井多次外溢，臭气熏天，多次向物业反映无果！"),
                     True, id="full-width punctuation and spacing do not matter"),
        pytest.param(matter_text("请求拆除违章建筑", "邻居在楼顶搭建彩钢房，影响采光和消防安全。"), False,
                     id="another matter"),
        pytest.param(matter_text("请求支付拖欠工资三万元", "本人在某建筑工地务工，老板拖欠工资至今未付。"), False,
                     id="another matter of the same person"),
    ],
)
def test_the_same_matter_is_found_by_text_similarity(earlier: str, same: bool) -> None:
    found, score = SameMatterTest().same_matter(SEWAGE, earlier)

    assert found is same, score


def test_the_threshold_is_configurable() -> None:
    rephrased = matter_text("再次请求尽快疏通小区污水管道", "今年三月以来，小区北门的污水井多次外溢。")

    assert SameMatterTest(threshold=99).same_matter(SEWAGE, rephrased)[0] is False
    assert SameMatterTest(threshold=30).same_matter(SEWAGE, rephrased)[0] is True


def test_every_person_named_is_a_key_but_not_the_agent() -> None:
    body = samples.petition(
        name="王秀兰", id_number="11010519491231002X", phone="13800138000", people_count=6,
        representatives=[{"name": "赵德明", "phone": "13900139001"}],
        joint_signers=[{"name": "钱玉芬", "id_number": "110105198001010032"}])
    body["petitioner"]["agent"] = {"name": "代理人", "phone": "13900139009"}  # the principal is compared

    keys = person_keys(RegisterPetition.model_validate(body))

    assert keys == ["id:11010519491231002X", "name+phone:王秀兰|13800138000", "name+phone:赵德明|13900139001",
                    "id:110105198001010032"]


def test_an_anonymous_report_is_keyed_by_the_accused_party() -> None:
    body = samples.petition(category="report", anonymous=True, accused={"name": "孙 某某", "organisation": "某村委会"})
    del body["petitioner"]

    assert person_keys(RegisterPetition.model_validate(body)) == ["accused:孙某某|某村委会"]


def test_file_ids_depend_on_the_secret_so_an_id_number_cannot_be_tested_without_it() -> None:
    key = "id:11010519491231002X"

    assert file_id(key, b"a" * 32) == file_id(key, b"a" * 32)
    assert file_id(key, b"a" * 32) != file_id(key, b"b" * 32)
