"""The routing-rules table: versioned data (shared/data/organ-routing.yaml: the county's organs and its rules), checked on load, applied as a pure function.

A bad table must stop the service with a message that names the problem, never route with half a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from shared.contracts.registration import Category, Topic
from shared.datafiles import DataFileError
from shared.organs import read_routing_file

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class RulesFileError(ValueError):
    pass


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrganEntry(_Model):
    code: NonEmpty
    name: NonEmpty


class Conditions(_Model):
    category: Category | None = None
    topics: tuple[Topic, ...] = ()
    place_prefix: tuple[Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}$")], ...] = ()


class Rule(_Model):
    id: NonEmpty
    when: Conditions = Field(default_factory=Conditions)
    organ: NonEmpty
    basis: NonEmpty

    def matches(self, category: str, topic: str | None, place_code: str) -> bool:
        conditions = self.when
        if conditions.category is not None and conditions.category.value != category:
            return False
        if conditions.topics and (topic is None or topic not in {t.value for t in conditions.topics}):
            return False
        return not conditions.place_prefix or any(place_code.startswith(p) for p in conditions.place_prefix)


class RulesTable(_Model):
    version: NonEmpty
    county: OrganEntry
    organs: tuple[OrganEntry, ...]
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _consistent(self) -> RulesTable:
        codes = [o.code for o in self.organs]
        if len(codes) != len(set(codes)):
            raise ValueError("organ codes must be unique")
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("rule ids must be unique")
        unknown = sorted({r.organ for r in self.rules} - set(codes))
        if unknown:
            raise ValueError(f"rules name organs that are not listed: {', '.join(unknown)}")
        if not self.rules or self.rules[-1].when != Conditions():
            raise ValueError("the last rule must have no conditions, so that every petition is routed")
        return self


@dataclass(frozen=True)
class RoutingDecision:
    organ_code: str
    organ_name: str
    basis: str
    rule_id: str
    rules_version: str


class RoutingRules:
    def __init__(self, table: RulesTable) -> None:
        self.table = table
        self._organ_names = {o.code: o.name for o in table.organs}

    @property
    def version(self) -> str:
        return self.table.version

    def decide(self, *, category: str, topic: str | None, place_code: str) -> RoutingDecision:
        for rule in self.table.rules:
            if rule.matches(category, topic, place_code):
                return RoutingDecision(rule.organ, self._organ_names[rule.organ], rule.basis, rule.id,
                                       self.table.version)
        raise AssertionError("unreachable: the table's last rule matches everything")


def load_rules(path: Path | None = None) -> RoutingRules:
    """Load and check a rules file (the bundled demonstration table when `path` is None)."""
    try:
        document, origin = read_routing_file(path)
    except DataFileError as error:
        raise RulesFileError(str(error)) from None
    try:
        return RoutingRules(RulesTable.model_validate(document))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in error.errors())
        raise RulesFileError(f"routing rules in {origin} are invalid: {problems}") from None
