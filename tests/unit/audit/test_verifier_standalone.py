"""An auditor runs the verifier on their own machine: it needs the standard library and `cryptography` only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PLATFORM = ("psycopg", "eventsourcing", "pydantic", "nameko", "kombu", "eventlet", "mongoengine", "fastapi", "yaml")


def test_the_verifier_imports_nothing_of_the_platform() -> None:
    probe = ("import json, sys; import shared.audit.verifier; "
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                                       check=True).stdout)

    assert not set(loaded) & set(PLATFORM)
