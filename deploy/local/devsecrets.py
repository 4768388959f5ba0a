"""The secrets `make run` makes for itself: once, kept under the data folder, readable by their owner only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def development_secret(path: Path, size: int = 48) -> str:
    """The secret kept at `path`, made on first use. Created with mode 0600 (never readable by others, not even
    between writing and a chmod), and kept: some may not change once data exists (intake's person key)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(secrets.token_urlsafe(size))
    return path.read_text().strip()
