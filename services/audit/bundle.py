"""Case bundles: everything an auditor needs to verify one petition offline (docs/audit.md, "Case bundles").

For each service's log: its latest checkpoint (with the witnesses' cosignatures) and, for every event of the case
that checkpoint covers, the stored event, its ledger entry and its inclusion proof; and the case heads, signed with
the log's key: each aggregate's last event as of that checkpoint (shared/audit/heads.py), so that an event left out
after the last one shows. Events recorded after the checkpoint are counted as such: the next checkpoint proves
them. Each log names the public key it was signed with, for the record; the verifier (shared/audit/verifier.py)
takes the logs' public keys from the auditor, never from the bundle, and says so when the two differ.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit.ledger import Ledger, origin
from shared.audit import heads
from shared.audit.checkpoint import CheckpointError, parse, raw_public_key
from shared.audit.entries import Entry
from shared.audit.merkle import inclusion_proof, leaf_hash, subtree_of

BUNDLE_FORMAT = "petition-audit/case-bundle/v2"  # v2: with signed case heads


# Fields of stored events that show a person. A bundle holds the case's stored events whole (the verifier hashes
# them), so it names those it carries: the gateway records an auditor's download as a view of personal data.
PERSONAL = ("query_code", "petitioner", "accused", "representatives", "joint_signers", "similar_petitions",
            "recipient", "body", "note")  # note: the counter's, which may describe the petitioner


class BundleProvesNothing(CheckpointError):
    """No signed checkpoint covers any event of the case yet: a bundle would prove nothing. `recorded`: how many
    events of the case the logs hold (0: no service knows the petition)."""

    def __init__(self, message: str, recorded: int = 0) -> None:
        super().__init__(message)
        self.recorded = recorded


def case_bundle(ledgers: dict[str, Ledger], county_code: str, petition_id: UUID,
                aggregates: dict[str, list[UUID]], signing_keys: dict[str, Ed25519PrivateKey]) -> dict[str, Any]:
    """`ledgers`: each service's ledger (services/audit/ledger.ledger_of); `aggregates`: the case's aggregates per
    service (services/audit/replay.case_aggregates); `signing_keys`: each service log's key, which signs the case
    heads (a log without a checkpoint needs none)."""
    logs = []
    for service, aggregate_ids in aggregates.items():
        logs.append(_log(ledgers[service], origin(county_code, service), service, petition_id, aggregate_ids,
                         signing_keys.get(service)))
    if not any(log["entries"] for log in logs):
        recorded = sum(len(ledgers[service].case_rows(ids)) for service, ids in aggregates.items()
                       if ids and ledgers[service].exists())
        raise BundleProvesNothing(
            f"no signed checkpoint covers any event of petition {petition_id} yet, so a bundle would prove nothing; "
            "the platform's checkpointer (python -m services.audit.cli checkpoint-all) signs every log each "
            "AUDIT_CHECKPOINT_INTERVAL seconds: try again after its next checkpoint",
            recorded=recorded)
    return {"format": BUNDLE_FORMAT, "petition_id": str(petition_id), "logs": logs}


def personal_fields(bundle: dict[str, Any]) -> list[str]:
    """The personal fields (PERSONAL) that the bundle's stored events carry, as "<service>.<field>"."""
    shown = set()
    for log in bundle["logs"]:
        for item in log["entries"]:
            try:
                state = json.loads(base64.b64decode(item["state"]))
            except (ValueError, binascii.Error):  # not the plain JSON the services store: count it as personal
                shown.add(f"{log['service']}.state")
                continue
            shown.update(f"{log['service']}.{name}" for name in PERSONAL if state.get(name))
    return sorted(shown)


def _log(ledger: Ledger, log_origin: str, service: str, petition_id: UUID, aggregate_ids: list[UUID],
         key: Ed25519PrivateKey | None) -> dict[str, Any]:
    note = ledger.latest_checkpoint() if ledger.exists() else None
    if note is None:
        return {"service": service, "origin": log_origin, "checkpoint": None, "heads": None, "entries": [],
                "not_yet_covered": 0}
    if key is None:
        raise CheckpointError(f"the {service} log's signing key is needed to sign the case heads")
    try:
        size = parse(note.partition("\n\n")[0] + "\n", log_origin).size
    except CheckpointError:
        size = 0
    rows = ledger.case_rows(aggregate_ids) if aggregate_ids else []
    covered = [row for row in rows if row[0] < size]
    subtree = subtree_of([leaf.leaf_hash for leaf in ledger.leaves(upto=size)]) if covered else None
    entries = [{"leaf_index": index, "entry": _b64(entry), "topic": topic, "state": _b64(state),
                "proof": [_b64(h) for h in inclusion_proof(index, size, subtree)]}
               for index, entry, topic, state in covered]
    last: dict[UUID, tuple[int, bytes | None]] = dict.fromkeys(aggregate_ids, (0, None))
    for _index, entry, _topic, _state in covered:  # in leaf order: the last one of each aggregate stays
        decoded = Entry.decode(entry)
        last[decoded.originator_id] = (decoded.originator_version, leaf_hash(entry))
    signed_heads = heads.sign(heads.CaseHeads(log_origin, size, petition_id, last), key)
    return {"service": service, "origin": log_origin, "public_key": raw_public_key(key.public_key()).hex(),
            "checkpoint": note, "heads": signed_heads, "entries": entries, "not_yet_covered": len(rows) - len(covered)}


def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode()
