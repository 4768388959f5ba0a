"""The import rules of docs/architecture.md, checked on every module's source (imports inside functions too):

- shared/language (the published language) imports nothing else of ours;
- shared/audit (what every store writes, what the offline verifier reads) imports nothing else of ours;
- shared/runtime may use both; nothing under shared/ imports a service;
- a service imports only itself and shared/: each context is reached over the broker or by RPC, never by loading
  another's code (so none can open another's store or build another's aggregates).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists())


def imports(package: str) -> Iterator[tuple[str, str]]:
    """(module file, imported module) for every import in `package` (a dotted path under the root)."""
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            for name in names:
                yield str(path.relative_to(ROOT)), name


def offending(package: str, allowed: tuple[str, ...]) -> list[str]:
    """Imports of our own modules (services, shared) from `package` that fall outside `allowed` prefixes."""
    ours = ("services", "shared")
    return sorted({f"{where}: {name}" for where, name in imports(package)
                   if name.split(".")[0] in ours and not name.startswith(allowed)
                   and name not in ours})


def test_the_published_language_depends_on_nothing_of_ours() -> None:
    assert offending("shared.language", ("shared.language",)) == []


def test_the_audit_log_core_depends_on_nothing_of_ours_so_the_verifier_runs_alone() -> None:
    assert offending("shared.audit", ("shared.audit",)) == []


def test_the_runtime_kernel_uses_the_language_and_the_audit_core_but_no_service() -> None:
    assert offending("shared.runtime", ("shared.",)) == []


def test_nothing_under_shared_imports_a_service() -> None:
    assert offending("shared", ("shared.",)) == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_only_itself_and_shared(service: str) -> None:
    assert offending(f"services.{service}", (f"services.{service}", "shared.")) == []


def test_the_rules_fail_on_an_import_across_the_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself: a module of the language that reaches into the runtime is caught."""
    (tmp_path / "shared" / "language").mkdir(parents=True)
    (tmp_path / "shared" / "language" / "leak.py").write_text(
        "def f():\n    from shared.runtime.settings import PlatformSettings\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert offending("shared.language", ("shared.language",)) == [
        "shared/language/leak.py: shared.runtime.settings",
        "shared/language/leak.py: shared.runtime.settings.PlatformSettings"]
