"""The county's organs (有权处理机关): the `county` and `organs` sections of the county's routing file
(ROUTING_RULES_FILE), or the bundled demonstration list shared/language/data/organs.yaml.

Routing's rules may name only these organs; intake and supervision check the organ codes that officers name
against them (a transfer to a misspelt organ would leave a petition with nobody to handle it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.language.datafiles import DataFileError, read_yaml


class OrganDirectoryError(ValueError):
    pass


def _optional(entry: Any, key: str) -> str | None:
    value = entry.get(key)
    return str(value) if value else None


def read_organ_file(path: Path | None = None) -> tuple[Any, str]:
    """The county's routing file (ROUTING_RULES_FILE), or the bundled demonstration organ list, and its origin."""
    return read_yaml(path, "shared.language.data", "organs.yaml", what="routing rules" if path else "organs")


@dataclass(frozen=True)
class Organ:
    code: str
    name: str
    # The organ one level up (上一级机关), which reviews its opinions (复查, Art. 35); None: none in this table.
    parent: str | None = None
    # The organ's official mailbox, where notification tells it of a new case (None: its inbox only).
    email: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name}


class OrganDirectory:
    def __init__(self, county: Organ, organs: list[Organ]) -> None:
        self.county = county
        self._organs = {organ.code: organ for organ in organs}

    def get(self, code: str) -> Organ | None:
        return self._organs.get(code)

    def parent_of(self, code: str) -> Organ | None:
        """The organ one level up from `code` (上一级机关), if the table names it."""
        organ = self._organs.get(code)
        return self._organs.get(organ.parent) if organ is not None and organ.parent else None

    def __contains__(self, code: object) -> bool:
        return code in self._organs

    @property
    def codes(self) -> list[str]:
        return list(self._organs)

    @classmethod
    def load(cls, path: Path | None = None) -> OrganDirectory:
        try:
            document, origin = read_organ_file(path)
        except DataFileError as error:
            raise OrganDirectoryError(str(error)) from None
        try:
            county = Organ(str(document["county"]["code"]), str(document["county"]["name"]))
            organs = [Organ(str(o["code"]), str(o["name"]), _optional(o, "parent"), _optional(o, "email"))
                      for o in document["organs"]]
        except (KeyError, TypeError) as error:
            raise OrganDirectoryError(f"cannot read the organ list from {origin}: {error!r}") from None
        return cls(county, organs)
