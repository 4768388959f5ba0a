"""Which of the county's organs a report (检举控告) accuses: the organs it must never be sent to.

2022 Regulations Art. 30 (docs/domain.md §"Privacy"): a report's materials and the reporter's identity must not be
disclosed or passed to the person or unit accused; disclosing them is an accountability ground (Art. 46 item 5).
The petitioner writes the accused's unit as free text, so it is matched against the organ table (the routing
rules file): an organ is accused when its code or its full name appears in what was written about the accused,
or when what was written (four characters or more) is part of its name (e.g. "城关镇人民政府").
"""

from __future__ import annotations

import re
from typing import Any

from shared.language.organs import OrganDirectory

_SPACES = re.compile(r"\s+")
SHORTEST_NAME = 4  # shorter fragments ("县政府", "镇") would match organs the petitioner did not mean


def accused_organs(accused: dict[str, Any] | None, organs: OrganDirectory) -> list[str]:
    """The codes of the organs the accused party belongs to, as far as the organ table can tell."""
    if not accused:
        return []
    written = [_SPACES.sub("", str(accused.get(field) or "")) for field in ("organisation", "name")]
    written = [text for text in written if text]
    found = []
    for code in organs.codes:
        name = _SPACES.sub("", organs.get(code).name)
        if any(code == text or name in text or (len(text) >= SHORTEST_NAME and text in name) for text in written):
            found.append(code)
    return found
