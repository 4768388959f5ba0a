"""The routing-rules table: versioned data (the county's ROUTING_RULES_FILE, or the bundled demonstration rules
services/routing/data/routing-rules.yaml with the organs of shared/language/data/organs.yaml), checked on load,
applied as a pure function.

A bad table must stop the service with a message that names the problem, never route with half a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from shared.language.contracts.registration import Category, Topic
from shared.language.datafiles import DataFileError, read_yaml
from shared.language.organs import read_organ_file

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class RulesFileError(ValueError):
    pass


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrganEntry(_Model):
    code: NonEmpty
    name: NonEmpty
    parent: NonEmpty | None = None  # the organ one level up (上一级机关): it reviews this organ's opinions
    email: NonEmpty | None = None  # the organ's official mailbox: told of each new case (notification)


PlacePrefix = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}$")]
Flag = Literal["group", "joint_signature", "major_urgent", "anonymous"]
# transfer (转送) to the organ; political_legal / discipline: transfers to those organs by statute (Art. 22 para. 2);
# report_up: a major/urgent item goes to the county Party committee and government first (Art. 25);
# out_of_remit: nobody here may handle it — the petitioner is told where to go (Art. 23);
# bureau_triage: no rule knows the organ — the item stays in the bureau's triage list for a clerk to transfer or
# assign by hand (Art. 22: within 15 days of receipt). Recorded here, not published: nothing changes for the case.
Disposition = Literal["transfer", "political_legal", "discipline", "report_up", "out_of_remit", "bureau_triage"]
WITHOUT_ORGAN = ("report_up", "out_of_remit", "bureau_triage")
LAST_RESORT = ("transfer", "bureau_triage")  # what the last rule, which holds for every petition, may decide


class Conditions(_Model):
    category: Category | None = None
    topics: tuple[Topic, ...] = ()
    place_prefix: tuple[PlacePrefix, ...] = ()
    place_outside: tuple[PlacePrefix, ...] = ()  # the matter arose outside all of these
    flags: tuple[Flag, ...] = ()  # every one of these registration flags is set

    def hold(self, petition: PetitionFacts) -> bool:
        if self.category is not None and self.category.value != petition.category:
            return False
        if self.topics and (petition.topic is None or petition.topic not in {t.value for t in self.topics}):
            return False
        if self.place_prefix and not petition.place_code.startswith(self.place_prefix):
            return False
        if self.place_outside and petition.place_code.startswith(self.place_outside):
            return False
        return set(self.flags) <= set(petition.flags)


@dataclass(frozen=True)
class PetitionFacts:
    """What the rules look at."""

    category: str
    topic: str | None
    place_code: str
    flags: tuple[str, ...] = ()


class Rule(_Model):
    id: NonEmpty
    when: Conditions = Field(default_factory=Conditions)
    disposition: Disposition = "transfer"
    organ: NonEmpty | None = None  # the lead organ (牵头机关)
    joining: tuple[NonEmpty, ...] = ()  # organs that join the handling (配合机关)
    where_to_go: NonEmpty | None = None  # for out_of_remit: where the petitioner should turn, in Chinese
    basis: NonEmpty

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        if self.disposition in WITHOUT_ORGAN and (self.organ or self.joining):
            raise ValueError(f"rule {self.id}: a {self.disposition} rule names no organ")
        if self.disposition not in WITHOUT_ORGAN and not self.organ:
            raise ValueError(f"rule {self.id}: a {self.disposition} rule must name its organ")
        if (self.disposition == "out_of_remit") != (self.where_to_go is not None):
            raise ValueError(f"rule {self.id}: where_to_go is required for out_of_remit rules, and only for them")
        return self


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
        named = {r.organ for r in self.rules if r.organ} | {c for r in self.rules for c in r.joining}
        unknown = sorted(named - set(codes))
        if unknown:
            raise ValueError(f"rules name organs that are not listed: {', '.join(unknown)}")
        orphans = sorted(o.code for o in self.organs if o.parent is not None and o.parent not in codes)
        if orphans:
            raise ValueError(f"organs name a parent that is not listed: {', '.join(orphans)}")
        if not self.rules or self.rules[-1].when != Conditions() or self.rules[-1].disposition not in LAST_RESORT:
            raise ValueError("the last rule must be a transfer or bureau_triage without conditions, so that every "
                             "petition is decided")
        return self


@dataclass(frozen=True)
class RoutingDecision:
    disposition: str
    organ: dict[str, str] | None  # {"code", "name"}; None for report_up, out_of_remit and bureau_triage
    joining_organs: list[dict[str, str]]
    where_to_go: str | None
    basis: str
    rule_id: str
    rules_version: str

    @property
    def organ_code(self) -> str | None:
        return self.organ["code"] if self.organ else None


class RoutingRules:
    def __init__(self, table: RulesTable) -> None:
        self.table = table
        self._organ_names = {o.code: o.name for o in table.organs}

    @property
    def version(self) -> str:
        return self.table.version

    def decide(self, *, category: str, topic: str | None, place_code: str, flags: tuple[str, ...] = (),
               excluding: frozenset[str] = frozenset(), rerouting: bool = False) -> RoutingDecision:
        """The first rule that holds. Re-routing after an upheld objection (异议成立) passes over the rules leading
        to an `excluding` organ (and drops those from the joining organs), and over report-up rules: an item is
        reported up once, and re-routing must find it an organ."""
        petition = PetitionFacts(category, topic, place_code, tuple(flags))
        for rule in self.table.rules:
            if rule.organ in excluding or (rerouting and rule.disposition == "report_up"):
                continue
            if not rule.when.hold(petition):
                continue
            return RoutingDecision(
                disposition=rule.disposition, organ=self._organ(rule.organ) if rule.organ else None,
                joining_organs=[self._organ(code) for code in rule.joining if code not in excluding],
                where_to_go=rule.where_to_go, basis=rule.basis, rule_id=rule.id, rules_version=self.table.version)
        # Every rule's organ objected (or is accused): the bureau triages it by hand.
        last = self.table.rules[-1]
        return RoutingDecision(disposition="bureau_triage", organ=None, joining_organs=[], where_to_go=None,
                               basis=last.basis, rule_id=last.id, rules_version=self.table.version)

    def _organ(self, code: str) -> dict[str, str]:
        return {"code": code, "name": self._organ_names[code]}


def load_rules(path: Path | None = None) -> RoutingRules:
    """Load and check a rules file (the bundled demonstration table when `path` is None)."""
    try:
        if path is not None:
            document, origin = read_yaml(path, "", what="routing rules")
        else:  # the demonstration county: its organs (shared) and routing's own rules
            organs, _ = read_organ_file()
            rules, origin = read_yaml(None, "services.routing.data", "routing-rules.yaml", what="routing rules")
            document = {**organs, **rules}
    except DataFileError as error:
        raise RulesFileError(str(error)) from None
    try:
        return RoutingRules(RulesTable.model_validate(document))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in error.errors())
        raise RulesFileError(f"routing rules in {origin} are invalid: {problems}") from None
