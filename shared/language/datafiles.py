"""Versioned data files (YAML) that ship with the code and that a county may replace by pointing an environment
variable at its own copy: routing rules and organs, deadline rules, the holiday table."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml


class DataFileError(ValueError):
    pass


def read_yaml(path: Path | None, package: str, *parts: str, what: str) -> tuple[Any, str]:
    """(the parsed document, where it came from): the county's file at `path`, or the bundled one in `package`.
    An unreadable file raises DataFileError naming `what` and the file."""
    origin = f"bundled {parts[-1]}" if path is None else str(path)
    try:
        text = (resources.files(package).joinpath(*parts).read_text("utf-8") if path is None
                else Path(path).read_text(encoding="utf-8"))
        return yaml.safe_load(text), origin
    except (OSError, yaml.YAMLError) as error:
        raise DataFileError(f"cannot read {what} from {origin}: {error}") from None
