"""Which organs a report accuses (Art. 30), from what the petitioner wrote about the accused party."""

from __future__ import annotations

import pytest

from services.intake.accused import accused_organs
from shared.language.organs import OrganDirectory

ORGANS = OrganDirectory.load()  # the bundled demonstration table


@pytest.mark.parametrize(("accused", "expected"), [
    ({"name": "张某", "organisation": "示例县城关镇人民政府", "position": "副镇长"}, ["330106001-ZF"]),
    ({"name": "张某", "organisation": "城关镇 人民政府"}, ["330106001-ZF"]),  # part of its name, spaces aside
    ({"name": "示例县纪委监委"}, ["330106-JWJW"]),  # a unit reported by its name
    ({"name": "李某", "organisation": "示例县城关镇人民政府城建办"}, ["330106001-ZF"]),  # an office inside it
    ({"name": "王某", "organisation": "330106-RSJ"}, ["330106-RSJ"]),
    ({"name": "王某", "organisation": "某物业公司"}, []),
    ({"name": "王某", "organisation": "镇"}, []),  # too short to name an organ
    (None, []),
])
def test_the_organs_a_report_accuses_are_found_in_the_organ_table(accused, expected) -> None:
    assert accused_organs(accused, ORGANS) == expected


def test_the_county_government_is_not_accused_when_a_town_government_is() -> None:
    found = accused_organs({"name": "张某", "organisation": "示例县城关镇人民政府"}, ORGANS)

    assert "330106-ZF" not in found
