"""The county's places: its towns (乡镇, 9-digit 统计用区划代码) and their villages or communities (村、社区, 12
digits), from PLACES_FILE or the bundled demonstration list shared/language/data/places.yaml.

Served as reference data (GET /api/v1/reference/places) and used by the work lists' `town` filter, which takes a
town listed here (a misspelt code is refused, not answered with an empty list).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.language.datafiles import DataFileError, read_yaml

PLACES_FILE_VARIABLE = "PLACES_FILE"
TOWN_DIGITS, VILLAGE_DIGITS = 9, 12


class PlaceDirectoryError(ValueError):
    pass


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    villages: tuple[Place, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"code": self.code, "name": self.name}
        if len(self.code) == TOWN_DIGITS:
            shown["villages"] = [village.as_dict() for village in self.villages]
        return shown


def _place(entry: Any, digits: int, within: str) -> Place:
    code, name = str(entry["code"]), str(entry["name"])
    if len(code) != digits or not (code.isascii() and code.isdigit()) or not code.startswith(within):
        raise PlaceDirectoryError(f"place {code!r}: expected {digits} digits beginning with {within}")
    villages = tuple(_place(v, VILLAGE_DIGITS, code) for v in entry.get("villages") or ()) if digits == TOWN_DIGITS else ()
    return Place(code, name, villages)


class PlaceDirectory:
    def __init__(self, county: Place, towns: list[Place]) -> None:
        self.county = county
        self.towns = towns
        self._by_code = {town.code: town for town in towns} | {v.code: v for t in towns for v in t.villages}

    def get(self, code: str) -> Place | None:
        return self._by_code.get(code)

    def is_town(self, code: str) -> bool:
        return len(code) == TOWN_DIGITS and code in self._by_code

    def name_of(self, code: str | None) -> str | None:
        """The place's name with its town's (e.g. 城关镇解放街社区), or None for a code not listed."""
        if not code:
            return None
        town = self._by_code.get(code[:TOWN_DIGITS])
        if town is None:
            return None
        place = self._by_code.get(code)
        return town.name if place is None or place is town else f"{town.name}{place.name}"

    @classmethod
    def load(cls, path: Path | None = None) -> PlaceDirectory:
        """The county's places (PLACES_FILE when `path` is not given and it is set), or the bundled list."""
        if path is None and os.environ.get(PLACES_FILE_VARIABLE):
            path = Path(os.environ[PLACES_FILE_VARIABLE])
        try:
            document, origin = read_yaml(path, "shared.language.data", "places.yaml", what="places")
        except DataFileError as error:
            raise PlaceDirectoryError(str(error)) from None
        try:
            county = Place(str(document["county"]["code"]), str(document["county"]["name"]))
            towns = [_place(t, TOWN_DIGITS, county.code) for t in document["towns"]]
        except (KeyError, TypeError) as error:
            raise PlaceDirectoryError(f"cannot read the places from {origin}: {error!r}") from None
        return cls(county, towns)
