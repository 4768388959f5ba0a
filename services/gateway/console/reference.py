"""Reference data the console's forms offer as choices: organs, places, topics, categories, decline reasons,
diversion items — the same lists, from the same modules of the shared language, as the reference API answers
(GET /api/v1/reference/organs|places|topics|categories|decline-reasons|diversions; routes/reference.py): the county's
organs (shared/language/organs.py), its places (shared/language/places.py) and the labelled codes
(shared/language/contracts/reference.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway import worklists
from shared.language.contracts import reference
from shared.language.organs import OrganDirectory
from shared.language.places import PlaceDirectory


@dataclass
class Reference:
    organs: OrganDirectory
    place_directory: PlaceDirectory

    @classmethod
    def load(cls, routing_rules_file: object = None) -> Reference:
        # The API's own cached copies (its filters and /api/v1/reference read them): loaded once per process.
        return cls(worklists.organs(routing_rules_file), worklists.places())  # type: ignore[arg-type]

    def organ_name(self, code: str | None) -> str:
        organ = self.organs.get(code) if code else None
        return organ.name if organ else (code or "")

    def organ_options(self) -> list[tuple[str, str]]:
        return [(code, self.organ_name(code)) for code in self.organs.codes]

    def places(self) -> list[tuple[str, str]]:
        """The county's towns and their villages or communities, then the county itself (somewhere else in it)."""
        county = self.place_directory.county
        options = []
        for town in self.place_directory.towns:
            options.append((town.code, f"{county.name}{town.name}"))
            options += [(village.code, f"{county.name}{town.name}{village.name}") for village in town.villages]
        return [*options, (county.code, f"{county.name}（其他地方或者不确定）")]

    def place_name(self, code: str | None) -> str:
        """A place's name (城关镇解放街社区); the county's own code (the form's 其他地方或者不确定) names the county."""
        county = self.place_directory.county
        if code == county.code:
            return county.name
        return self.place_directory.name_of(code) or (code or "")

    @staticmethod
    def topics() -> list[tuple[str, str]]:
        return [(str(t["code"]), str(t["label"])) for t in reference.topics()]

    @staticmethod
    def categories() -> list[tuple[str, str]]:
        return [(str(c["code"]), str(c["label"])) for c in reference.categories()]

    def options(self, step: str, field: str) -> list[tuple[str, str]] | None:
        """The choices of a lifecycle command's field that takes reference data, or None (a free input)."""
        if field in ("organ_code", "suggested_organ_code", "joining_organ_codes"):
            return self.organ_options()
        if field == "reason_code":
            again = step == "decline_again"
            return [(str(r["code"]), f"{r['label']}（{r['basis']}）") for r in reference.decline_reasons()
                    if r["again"] is again]
        if field == "item" and step == "divert":
            return [(str(d["item"]), f"{d['label']}（{d['basis']}）") for d in reference.diversions()]
        return None
