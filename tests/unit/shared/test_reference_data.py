"""Reference data in the platform's language (shared/language/contracts/reference.py, shared/language/places.py)
and the bureau's search request (shared/language/contracts/search.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.supervision.case import acceptance
from shared.language.contracts import reference
from shared.language.contracts.search import SearchBy, SearchPetitions, phone_digits
from shared.language.places import PlaceDirectory, PlaceDirectoryError


def test_supervision_checks_decline_reasons_and_diversions_against_the_shared_declarations() -> None:
    assert acceptance.DECLINE_REASONS is reference.DECLINE_REASONS
    assert acceptance.DECLINE_AGAIN_REASONS is reference.DECLINE_AGAIN_REASONS
    assert acceptance.STATUTORY_PROCEDURES is reference.STATUTORY_PROCEDURES


def test_reference_lists_carry_codes_and_chinese_labels() -> None:
    reasons = reference.decline_reasons()
    assert {"code": "statutory_procedure", "label": "已经或者依法应当通过诉讼、仲裁、行政复议等法定途径解决",
            "basis": "《信访工作条例》第二十二条第二款、第二十八条、第三十一条", "again": False} in reasons
    assert [r["code"] for r in reasons if r["again"]] == list(reference.DECLINE_AGAIN_REASONS)
    assert reference.diversions()[0] == {"item": 1, "label": "诉讼、仲裁、行政复议等法定途径",
                                         "basis": "《信访工作条例》第三十一条第一项"}
    assert {"code": "labour_wages", "label": "劳动工资"} in reference.topics()
    assert len(reference.topics()) == 16 and len(reference.categories()) == 3 and len(reference.channels()) == 5


def test_the_demonstration_countys_places() -> None:
    places = PlaceDirectory.load()
    assert (places.county.code, places.county.name) == ("330106", "示例县")
    assert [(t.code, t.name) for t in places.towns] == [("330106001", "城关镇"), ("330106002", "东溪镇"),
                                                        ("330106003", "西山乡")]
    assert places.is_town("330106002") and not places.is_town("330106002003") and not places.is_town("330106009")
    assert places.name_of("330106002003") == "东溪镇下溪村"
    assert places.name_of("330106001") == "城关镇" and places.name_of("330106") is None
    assert places.towns[0].as_dict()["villages"][1] == {"code": "330106001002", "name": "解放街社区"}


def test_a_countys_places_file_must_hold_its_own_codes(tmp_path) -> None:
    bad = tmp_path / "places.yaml"
    bad.write_text('county: {code: "330106", name: "示例县"}\ntowns:\n  - {code: "330107001", name: "别处"}\n',
                   encoding="utf-8")
    with pytest.raises(PlaceDirectoryError):
        PlaceDirectory.load(bad)


@pytest.mark.parametrize("typed, digits", [("13800138000", "13800138000"), ("+86 138 0013 8000", "13800138000"),
                                           ("0571-87654321", "057187654321"), ("(010) 12345678", "01012345678"),
                                           ("87654321", None), ("12345", None)])
def test_phone_numbers_are_searched_by_their_digits(typed, digits) -> None:
    assert phone_digits(typed) == digits


def test_a_search_checks_and_normalises_its_value_as_the_kind_of_key_it_is() -> None:
    assert SearchPetitions(by="query_code", value="abcd efgh jkmn pqrs").value == "ABCD-EFGH-JKMN-PQRS"
    assert SearchPetitions(by="phone", value="0571 8765 4321").value == "057187654321"
    assert SearchPetitions(by="id_number", value="11010519491231002x").value == "11010519491231002X"
    assert SearchPetitions(by=SearchBy.NAME, value=" 王秀兰 ").value == "王秀兰"
    for by, value, code in [("id_number", "110105194912310021", "invalid_id_number"),
                            ("phone", "12345", "invalid_phone"), ("query_code", "ABCD", "invalid_query_code"),
                            ("name", "王\n秀兰", "line_break"), ("email", "a@b.cn", "enum")]:
        with pytest.raises(ValidationError) as refused:
            SearchPetitions(by=by, value=value)
        assert refused.value.errors()[0]["type"] == code, (by, value)
