"""The offline verifier: checks a full-log export against the log's published public key, on the auditor's own
machine (standard library plus `cryptography`; it never talks to the platform).

    python -m shared.audit.verifier EXPORT.jsonl --public-key HEX [--origin ORIGIN]

It checks the checkpoint's signature, that the leaves the checkpoint covers hash to its root (nothing sealed
before it was changed, removed or reordered — even if someone re-sealed the ledger afterwards), and then every
leaf and event as shared/audit/verify.py does. It prints a verdict naming the first event that fails; exit 0 only
when everything verifies.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Iterable
from uuid import UUID

from shared.audit.checkpoint import CheckpointError, verify as verify_note
from shared.audit.merkle import root
from shared.audit.verify import Leaf, StoredEvent, Verdict, verify_ledger

EXPORT_FORMAT = "petition-audit/export/v1"


def verify_export(lines: Iterable[str], public_key: bytes, origin: str | None = None) -> Verdict:
    records = iter(lines)
    try:
        header = json.loads(next(records))
    except (StopIteration, json.JSONDecodeError):
        return Verdict(problems=["not an export: no header line"])
    if header.get("format") != EXPORT_FORMAT:
        return Verdict(problems=[f"not a {EXPORT_FORMAT} export"])
    origin = origin or header["origin"]
    if header.get("checkpoint") is None:
        return Verdict(problems=["the export carries no signed checkpoint"])
    try:
        checkpoint = verify_note(header["checkpoint"], origin, public_key)
    except CheckpointError as error:
        return Verdict(problems=[f"checkpoint: {error}"])
    leaves: list[Leaf] = []
    events: list[StoredEvent] = []
    for number, line in enumerate(records, start=2):
        try:
            record = json.loads(line)
            if "leaf" in record:
                leaves.append(Leaf(record["leaf"], base64.b64decode(record["entry"]), bytes.fromhex(record["leaf_hash"])))
            else:
                events.append(StoredEvent(UUID(record["event"]), record["version"], record["topic"],
                                          base64.b64decode(record["state"])))
        except (ValueError, KeyError, TypeError) as error:
            return Verdict(problems=[f"line {number}: unreadable ({error})"])
    leaves.sort(key=lambda leaf: leaf.leaf_index)
    covered = [leaf.leaf_hash for leaf in leaves[:checkpoint.size]]
    if len(covered) < checkpoint.size or root(covered) != checkpoint.root:
        return Verdict(problems=[f"the first {checkpoint.size} leaves do not match the signed checkpoint: the ledger "
                                 "was rewritten or cut after it was signed"])
    return verify_ledger(leaves, events)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a petition platform audit export offline.")
    parser.add_argument("export", help="the JSON-lines export file")
    parser.add_argument("--public-key", required=True, help="the log's Ed25519 public key (64 hex digits)")
    parser.add_argument("--origin", help="the log's origin, as published (default: the one the export names)")
    args = parser.parse_args(argv)
    with open(args.export, encoding="utf-8") as lines:
        verdict = verify_export(lines, bytes.fromhex(args.public_key), args.origin)
    print(verdict)
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
