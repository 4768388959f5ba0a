"""Whatever an export or bundle file holds, the verifier answers with a verdict, never a crash."""

from __future__ import annotations

import json

import pytest

from shared.audit.verifier import verify_bundle, verify_export

HEADER = json.dumps({"format": "petition-audit/export/v1", "origin": "o", "checkpoint": "o\n1\nAAAA\n\n— o x\n"})


@pytest.mark.parametrize("lines", [
    [], ["not json"], ["[1, 2]"], [json.dumps({"format": "petition-audit/export/v1"})],
    [json.dumps({"format": "petition-audit/export/v1", "origin": "o", "checkpoint": 5})],
    [HEADER, json.dumps({"event": 5, "version": [], "topic": None, "state": 7})],
    [HEADER, json.dumps({"leaf": "x", "entry": "!!"})],
])
def test_a_malformed_export_gets_a_failed_verdict(lines: list[str]) -> None:
    verdict = verify_export(lines, bytes(32), "o")

    assert not verdict.ok and str(verdict).startswith("FAILED")


@pytest.mark.parametrize("bundle", [
    None, [], {"format": "petition-audit/case-bundle/v1"},
    {"format": "petition-audit/case-bundle/v1", "petition_id": "x", "logs": 3},
    {"format": "petition-audit/case-bundle/v1", "petition_id": "00000000-0000-0000-0000-000000000000", "logs": []},
    {"format": "petition-audit/case-bundle/v1", "petition_id": "00000000-0000-0000-0000-000000000000",
     "logs": [{"origin": "o", "service": "intake", "checkpoint": None, "entries": [{"leaf_index": None}]}]},
])
def test_a_malformed_or_empty_bundle_gets_a_failed_verdict(bundle: object) -> None:
    verdict = verify_bundle(bundle, {"o": bytes(32)})  # type: ignore[arg-type]

    assert not verdict.ok and str(verdict).startswith("FAILED")
