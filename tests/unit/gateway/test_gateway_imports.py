"""Issue 15 §1: the gateway opens no service's store and loads no service's model. It used to build a reader of all
four event stores for the auditors' endpoints (now the audit service's, reached over RPC), which imported
supervision's application and Case and notification's Notice and Delivery.

Checked twice: on the source of every gateway module (imports inside functions too), and on what importing the
gateway's composition root actually loads (so an indirect import through another module is caught as well).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists())
# Another context's use cases and aggregates, and the audit context's readers of the stores and ledgers.
FORBIDDEN = re.compile(r"^services\.(?:(?!gateway\.)\w+\.(?:application|domainmodel)|audit(?:\.\w+)*)(\.|$)")
# Whatever reads a store directly: the library's persistence and the platform's store access.
STORE_ACCESS = ("services.audit.stores", "services.audit.replay", "services.audit.ledger", "services.audit.bundle",
                "shared.runtime.eventstore")


def imported_by_gateway_sources() -> set[str]:
    found = set()
    for path in sorted((ROOT / "services" / "gateway").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_gateway_sources_import_no_services_model_and_no_store_reader() -> None:
    imported = imported_by_gateway_sources()
    assert sorted(name for name in imported if FORBIDDEN.match(name)) == []
    assert sorted(name for name in imported if name.startswith(STORE_ACCESS)) == []
    # The check itself: the import the gateway used to have is caught.
    assert FORBIDDEN.match("services.audit.replay") and FORBIDDEN.match("services.supervision.application")
    assert FORBIDDEN.match("services.notification.domainmodel") and not FORBIDDEN.match("services.gateway.views")


def test_loading_the_gateway_loads_no_services_model_and_no_store_reader() -> None:
    program = ("import json, sys; import services.gateway.service; "
               "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('services.', 'shared.')))))")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "services.gateway.routes.audit" in loaded  # the auditors' endpoints are there, through RPC
    services = {name.split(".")[1] for name in loaded if name.startswith("services.")}
    assert services <= {"gateway"}, f"the gateway loads other contexts: {sorted(services - {'gateway'})}"
    assert [name for name in loaded if name.startswith(STORE_ACCESS)] == []
    assert set(SERVICES) > {"gateway", "audit"}
