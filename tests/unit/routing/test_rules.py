"""The routing-rules table: the bundled demonstration table's decisions, and refusal of a bad table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.routing.bootstrap import build_application
from services.routing.rules import RoutingRules, RulesFileError, load_rules
from services.routing.settings import RoutingSettings

BUNDLED = Path(__file__).resolve().parents[3] / "services" / "routing" / "data" / "routing-rules.yaml"


@pytest.fixture(scope="module")
def rules() -> RoutingRules:
    return load_rules()


@pytest.fixture(scope="module")
def bundled_version() -> str:
    return yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))["version"]


DECISIONS = [
    # (category, topic, place_code, organ_code, rule_id)
    pytest.param("report", None, "330106001", "330106-JWJW", "report-to-discipline",
                 id="a report in a town goes to discipline inspection"),
    pytest.param("report", "labour_wages", "330106", "330106-JWJW", "report-to-discipline",
                 id="a report goes to discipline inspection whatever its topic"),
    pytest.param("appeal", "litigation", "330106002", "330106-ZFW", "litigation-to-political-legal",
                 id="litigation goes to the political-legal committee"),
    pytest.param("suggestion", "litigation", "330106", "330106-ZFW", "litigation-to-political-legal",
                 id="litigation goes to the political-legal committee whatever the category"),
    pytest.param("appeal", "urban_management", "330106001", "330106001-ZF", "chengguan-local",
                 id="urban management in Chengguan goes to the town government"),
    pytest.param("appeal", "urban_management", "330106001002", "330106001-ZF", "chengguan-local",
                 id="a village of Chengguan is part of the town"),
    pytest.param("appeal", "civil_affairs", "330106002", "330106002-ZF", "dongxi-local",
                 id="civil affairs in Dongxi goes to the town government"),
    pytest.param("appeal", "urban_management", "330106", "330106-ZHZFJ", "urban-management",
                 id="county-level urban management goes to law enforcement"),
    pytest.param("appeal", "labour_wages", "330106002003", "330106-RSJ", "labour-wages",
                 id="unpaid wages in a village go to human resources"),
    pytest.param("appeal", "social_security", "330106001", "330106-RSJ", "labour-wages",
                 id="social security in a town goes to human resources"),
    pytest.param("appeal", "land_requisition", "330106003", "330106-ZRZYJ", "land-requisition",
                 id="land requisition goes to natural resources"),
    pytest.param("suggestion", "education", "330106", "330106-JYJ", "education",
                 id="education goes to the education bureau"),
    pytest.param("appeal", None, "330106003", "330106003-ZF", "xishan-default",
                 id="no topic in Xishan goes to the township government"),
    pytest.param("appeal", "health", "330106001", "330106-WJJ", "health",
                 id="a county department owns its subject inside a town"),
    pytest.param("appeal", None, "330106", None, "bureau-triage",
                 id="no topic at county level stays with the bureau"),
    pytest.param("appeal", None, "110105", None, "outside-county",
                 id="a place outside the county is out of remit"),
    pytest.param("report", "labour_wages", "110105", None, "outside-county",
                 id="a report about another county is out of remit"),
    pytest.param("appeal", None, "330106", None, "bureau-triage",
                 id="no rule of its own stays with the bureau"),
]


@pytest.mark.parametrize(("category", "topic", "place_code", "organ_code", "rule_id"), DECISIONS)
def test_the_bundled_table_routes_a_petition_to_the_competent_organ(
    rules: RoutingRules, bundled_version: str, category: str, topic: str | None, place_code: str, organ_code: str,
    rule_id: str,
) -> None:
    decision = rules.decide(category=category, topic=topic, place_code=place_code)

    assert (decision.organ_code, decision.rule_id) == (organ_code, rule_id)
    assert decision.rules_version == bundled_version


def test_a_decision_carries_the_organ_name_and_the_basis_from_the_table(rules: RoutingRules) -> None:
    decision = rules.decide(category="appeal", topic="labour_wages", place_code="330106")

    assert decision.organ == {"code": "330106-RSJ", "name": "示例县人力资源和社会保障局"}
    assert decision.basis
    assert decision.rules_version == rules.version == "2026.12-demo.3"


def test_what_no_rule_knows_stays_in_the_bureaus_triage_list_and_is_not_published(rules: RoutingRules) -> None:
    import uuid

    from services.routing.domainmodel import Assignment
    from services.routing.translate import to_integration_event
    from shared.language.contracts.actor import ROUTING_RULES

    decision = rules.decide(category="appeal", topic=None, place_code="330106")
    assert (decision.disposition, decision.organ, decision.rule_id) == ("bureau_triage", None, "bureau-triage")
    assert "第二十二条" in decision.basis
    # Every rule's organ objected: the same.
    everyone = frozenset(o.code for o in rules.table.organs)
    assert rules.decide(category="appeal", topic="labour_wages", place_code="330106001",
                        excluding=everyone).disposition == "bureau_triage"
    fields = {"organ": decision.organ, "joining_organs": [], "where_to_go": None,
              "disposition": decision.disposition, "basis": decision.basis, "rule_id": decision.rule_id,
              "rules_version": decision.rules_version}
    [routed] = Assignment.route(petition_id=uuid.uuid4(), facts={}, **fields, actor=ROUTING_RULES,
                                correlation_id="c", causation_id="e").collect_events()
    assert to_integration_event(routed, 1, "urn:test") is None
    transferred = rules.decide(category="appeal", topic="labour_wages", place_code="330106")
    [published] = Assignment.route(petition_id=uuid.uuid4(), facts={}, **{
        **fields, "organ": transferred.organ, "disposition": "transfer"}, actor=ROUTING_RULES, correlation_id="c",
        causation_id="e").collect_events()
    assert to_integration_event(published, 1, "urn:test").data["organ"]["code"] == "330106-RSJ"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param({"category": "report", "topic": None, "place_code": "330106001"},
                     ("discipline", "330106-JWJW", [], None), id="reports go to discipline inspection"),
        pytest.param({"category": "appeal", "topic": "litigation", "place_code": "330106001"},
                     ("political_legal", "330106-ZFW", [], None), id="litigation goes to the political-legal organs"),
        pytest.param({"category": "appeal", "topic": "land_requisition", "place_code": "330106002"},
                     ("transfer", "330106-ZRZYJ", ["330106-ZJJ"], None), id="a lead organ with a joining organ"),
        pytest.param({"category": "appeal", "topic": "environment", "place_code": "330106", "flags": ("group",
                      "major_urgent")}, ("report_up", None, [], None), id="major and urgent items are reported up"),
        pytest.param({"category": "appeal", "topic": None, "place_code": "110105"},
                     ("out_of_remit", None, [], "问题发生地县（市、区）信访部门或者依法有权处理的机关"),
                     id="out of remit: told where to go"),
    ],
)
def test_the_rules_decide_the_disposition_the_organs_and_where_to_go(rules: RoutingRules, facts: dict[str, Any],
                                                                      expected: tuple[Any, ...]) -> None:
    decision = rules.decide(**facts)

    assert (decision.disposition, decision.organ_code, [o["code"] for o in decision.joining_organs],
            decision.where_to_go) == expected


def test_re_routing_passes_over_the_organs_whose_objection_was_upheld(rules: RoutingRules) -> None:
    first = rules.decide(category="appeal", topic="land_requisition", place_code="330106002")
    again = rules.decide(category="appeal", topic="land_requisition", place_code="330106002",
                         excluding=frozenset({first.organ_code}))

    assert (first.rule_id, again.rule_id, again.organ_code) == ("land-requisition", "dongxi-default", "330106002-ZF")


def test_every_organ_a_bundled_rule_names_has_a_name(rules: RoutingRules) -> None:
    names = {o.code: o.name for o in rules.table.organs}

    assert all(names.get(code) for rule in rules.table.rules for code in (rule.organ, *rule.joining) if code)


# ---------------------------------------------------------------------------------------------------------------
# Bad tables
# ---------------------------------------------------------------------------------------------------------------

GOOD_TABLE = """\
version: "test.1"
county: {code: "330106", name: "示例县"}
organs:
  - {code: "330106-XFJ", name: "示例县信访局"}
  - {code: "330106-JWJW", name: "示例县纪委监委"}
rules:
  - id: report
    when: {category: report}
    organ: 330106-JWJW
    basis: 检举控告类
  - id: triage
    when: {}
    organ: 330106-XFJ
    basis: 研判分流
"""

BAD_TABLES = [
    pytest.param(GOOD_TABLE.replace("organ: 330106-JWJW", "organ: 330106-NOPE"),
                 "rules name organs that are not listed: 330106-NOPE", id="a rule names an unlisted organ"),
    pytest.param(GOOD_TABLE.replace("id: triage", "id: report"), "rule ids must be unique",
                 id="two rules share an id"),
    pytest.param(GOOD_TABLE.replace('{code: "330106-JWJW", name: "示例县纪委监委"}',
                                    '{code: "330106-XFJ", name: "示例县纪委监委"}').replace(
                     "organ: 330106-JWJW", "organ: 330106-XFJ"),
                 "organ codes must be unique", id="two organs share a code"),
    pytest.param(GOOD_TABLE.replace("when: {}", "when: {place_prefix: ['330106']}"),
                 "the last rule must be a transfer or bureau_triage without conditions", id="the last rule has conditions"),
    pytest.param(GOOD_TABLE.split("rules:")[0] + "rules: []\n", "the last rule must be a transfer or bureau_triage without conditions",
                 id="there are no rules"),
    pytest.param(GOOD_TABLE.replace("    organ: 330106-JWJW\n", "    disposition: out_of_remit\n    organ: 330106-JWJW\n"),
                 "names no organ", id="an out-of-remit rule naming an organ"),
    pytest.param(GOOD_TABLE.replace("    organ: 330106-JWJW\n", "    disposition: out_of_remit\n"),
                 "where_to_go is required", id="an out-of-remit rule not saying where to go"),
    pytest.param(GOOD_TABLE.replace("    organ: 330106-JWJW\n", "    disposition: discipline\n"),
                 "must name its organ", id="a transfer rule without an organ"),
    pytest.param(GOOD_TABLE.replace("    organ: 330106-JWJW\n", "    organ: 330106-JWJW\n    joining: [330106-NOPE]\n"),
                 "not listed: 330106-NOPE", id="a joining organ that is not listed"),
    pytest.param(GOOD_TABLE.replace("{category: report}", "{category: complaint}"),
                 "rules.0.when.category", id="an unknown category"),
    pytest.param(GOOD_TABLE.replace("{category: report}", "{topics: [weather]}"), "rules.0.when.topics",
                 id="an unknown topic"),
    pytest.param(GOOD_TABLE.replace("{category: report}", "{places: ['330106']}"), "rules.0.when.places",
                 id="a misspelt condition"),
    pytest.param(GOOD_TABLE.replace('version: "test.1"\n', ""), "version", id="no version"),
    pytest.param("version: [unclosed\n", "cannot read routing rules", id="invalid YAML"),
    pytest.param("", "(file)", id="an empty file"),
]


@pytest.mark.parametrize(("text", "named_problem"), BAD_TABLES)
def test_a_bad_table_is_refused_with_a_message_naming_the_problem(tmp_path: Path, text: str,
                                                                  named_problem: str) -> None:
    path = tmp_path / "organ-routing.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(RulesFileError) as refused:
        load_rules(path)

    assert named_problem in str(refused.value)


def test_a_table_with_an_error_in_the_rules_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "county-rules.yaml"
    path.write_text(GOOD_TABLE.replace("{category: report}", "{category: complaint}"), encoding="utf-8")

    with pytest.raises(RulesFileError, match="county-rules.yaml"):
        load_rules(path)


def test_a_missing_file_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"

    with pytest.raises(RulesFileError, match="cannot read routing rules.*absent.yaml"):
        load_rules(path)


def test_the_good_table_used_above_loads_and_routes(tmp_path: Path) -> None:
    path = tmp_path / "organ-routing.yaml"
    path.write_text(GOOD_TABLE, encoding="utf-8")

    rules = load_rules(path)

    assert rules.decide(category="report", topic=None, place_code="330106").organ_code == "330106-JWJW"
    assert rules.decide(category="appeal", topic=None, place_code="330106").rule_id == "triage"
    assert rules.version == "test.1"


def test_another_countys_table_is_refused_at_start_up(tmp_path: Path) -> None:
    # The bundled table is 示例县's (330106): a deployment for another county must bring its own.
    settings = RoutingSettings(XINFANG_ENV="test", XINFANG_COUNTY_CODE="110105", DATA_DIR=tmp_path)

    with pytest.raises(RulesFileError, match="county 330106 .*XINFANG_COUNTY_CODE is 110105"):
        build_application(settings)


def test_the_countys_own_table_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "organ-routing.yaml"
    path.write_text(GOOD_TABLE.replace('"330106", name: "示例县"', '"110105", name: "朝阳区"'), encoding="utf-8")
    settings = RoutingSettings(XINFANG_ENV="test", XINFANG_COUNTY_CODE="110105", DATA_DIR=tmp_path,
                               ROUTING_RULES_FILE=path)

    application = build_application(settings)
    try:
        assert application.rules.table.county.name == "朝阳区"
    finally:
        application.close()


def test_re_routing_a_major_urgent_item_finds_an_organ_instead_of_reporting_it_up_again(rules: RoutingRules) -> None:
    facts = {"category": "appeal", "topic": "environment", "place_code": "330106", "flags": ("group", "major_urgent")}

    assert rules.decide(**facts).disposition == "report_up"
    again = rules.decide(**facts, rerouting=True, excluding=frozenset())
    assert (again.disposition, again.organ_code) == ("transfer", "330106-HBJ")
