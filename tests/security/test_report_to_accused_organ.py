"""Issue 14 §3: a report (检举控告) is never transferred or assigned to the organ it accuses.

2022 Regulations Art. 30: report materials and the reporter's identity must not be passed to the person or unit
accused; doing so is an accountability ground (Art. 46 item 5). Intake, routing and supervision run in process on
real PostgreSQL stores, each consuming what the one before published, as over the broker."""

from __future__ import annotations

from typing import Any

import pytest

from services.intake.application import IntakeApplication
from services.intake.settings import IntakeSettings
from services.routing.bootstrap import build_application as build_routing
from services.routing.settings import RoutingSettings
from services.supervision.bootstrap import build_application as build_supervision
from services.supervision.lifecycle import RuleViolation
from services.supervision.settings import SupervisionSettings
from tests.integration.conftest import closing, settings_for  # noqa: F401 - fixtures
from tests.support import samples
from tests.support.flow import register_and_route

CLERK = {"role": "clerk", "user": "clerk1", "organ": "330106-XFJ"}
TOWN = {"code": "330106001-ZF", "name": "示例县城关镇人民政府"}


def report(organisation: str, topic: str = "urban_management") -> dict[str, Any]:
    return samples.petition(category="report", topic=topic, place_code="330106001",
                            accused={"name": "张某", "organisation": organisation, "position": "副镇长"})


@pytest.fixture
def services(settings_for, closing):  # noqa: F811 - the imported fixtures
    return (closing(IntakeApplication(settings_for(IntakeSettings, store="postgres"))),
            closing(build_routing(settings_for(RoutingSettings, store="postgres"))),
            closing(build_supervision(settings_for(SupervisionSettings, store="postgres"))))


def test_the_bureau_cannot_transfer_or_assign_a_report_to_the_organ_it_accuses(services):
    intake, routing, supervision = services
    petition_id, _registered, _routed = register_and_route(intake, routing, supervision,
                                                           petition=report("示例县城关镇人民政府"))
    pid = str(petition_id)
    assert supervision.get_case(pid)["organ"]["code"] == "330106-JWJW"  # the rules: reports to discipline

    for action, payload in (("transfer", {"organ_code": "330106001-ZF"}),
                            ("assign", {"organ_code": "330106-RSJ", "joining_organ_codes": ["330106001-ZF"]})):
        with pytest.raises(RuleViolation, match="第三十条") as refused:
            supervision.perform(pid, action, payload, CLERK)
        assert refused.value.http_status == 409
    assert supervision.get_case(pid)["organ"]["code"] == "330106-JWJW"  # nothing was written

    # The discipline organ objects; the bureau upholds it and names the accused organ: refused too.
    supervision.perform(pid, "object", {"reasons": "不属于本机关职责"},
                        {"role": "organ_officer", "user": "jw", "organ": "330106-JWJW"})
    with pytest.raises(RuleViolation, match="第三十条"):
        supervision.perform(pid, "decide_objection", {"upheld": True, "reasons": "异议成立",
                                                      "organ_code": "330106001-ZF"}, CLERK)


def test_the_routing_rules_never_pick_the_organ_a_report_accuses(services):
    intake, routing, supervision = services
    # The report accuses the discipline organ itself, which the rules would pick for every report.
    petition_id, _registered, routed = register_and_route(intake, routing, supervision,
                                                          petition=report("示例县纪委监委"))

    assert routed.data["organ"]["code"] != "330106-JWJW"
    assert routed.data["organ"]["code"] == "330106001-ZF"  # the next rule that holds: 属地
    assert supervision.get_case(str(petition_id))["organ"]["code"] == "330106001-ZF"


def test_an_ordinary_appeal_naming_no_accused_is_routed_as_before(services):
    intake, routing, supervision = services
    petition_id, _registered, routed = register_and_route(intake, routing, supervision)

    assert routed.data["organ"] == TOWN
    assert intake.particulars(petition_id, "routing")["accused_organs"] == []
