"""Case bundles: everything an auditor needs to verify one petition offline (design §2.9).

For each service's log: its latest checkpoint (with the witnesses' cosignatures) and, for every event of the case
that checkpoint covers, the stored event, its ledger entry and its inclusion proof. Events recorded after the
checkpoint are listed as such: they are proven by the next checkpoint. The verifier (shared/audit/verifier.py)
takes the logs' public keys from the auditor, never from the bundle.
"""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from shared.audit.checkpoint import CheckpointError, parse
from shared.audit.ledger import Ledger, origin
from shared.audit.merkle import inclusion_proof, subtree_of
from shared.audit.replay import case_aggregates

BUNDLE_FORMAT = "petition-audit/case-bundle/v1"


def case_bundle(ledgers: dict[str, Ledger], county_code: str, petition_id: UUID) -> dict[str, Any]:
    """`ledgers`: each service's ledger (shared/audit/cli.ledger_of)."""
    logs = []
    for service, aggregate_ids in case_aggregates(petition_id).items():
        logs.append(_log(ledgers[service], origin(county_code, service), service, aggregate_ids))
    return {"format": BUNDLE_FORMAT, "petition_id": str(petition_id), "logs": logs}


def _log(ledger: Ledger, log_origin: str, service: str, aggregate_ids: list[UUID]) -> dict[str, Any]:
    note = ledger.latest_checkpoint() if ledger.exists() else None
    if note is None:
        return {"service": service, "origin": log_origin, "checkpoint": None, "entries": [], "not_yet_covered": 0}
    try:
        size = parse(note.partition("\n\n")[0] + "\n", log_origin).size
    except CheckpointError:
        size = 0
    rows = ledger.case_rows(aggregate_ids)
    covered = [row for row in rows if row[0] < size]
    subtree = subtree_of([leaf.leaf_hash for leaf in ledger.leaves(upto=size)]) if covered else None
    entries = [{"leaf_index": index, "entry": _b64(entry), "topic": topic, "state": _b64(state),
                "proof": [_b64(h) for h in inclusion_proof(index, size, subtree)]}
               for index, entry, topic, state in covered]
    return {"service": service, "origin": log_origin, "checkpoint": note, "entries": entries,
            "not_yet_covered": len(rows) - len(covered)}


def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode()
