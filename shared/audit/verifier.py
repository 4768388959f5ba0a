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
import binascii
from binascii import a2b_base64
import json
import sys
from collections.abc import Iterable

from shared.audit.checkpoint import CheckpointError, verify as verify_note
from shared.audit.witness import verify_cosignature
from shared.audit.verify import Leaf, StoredEvent, Verdict, verify_ledger

EXPORT_FORMAT = "petition-audit/export/v1"


def verify_export(lines: Iterable[str], public_key: bytes, origin: str | None = None,
                  witnesses: dict[str, bytes] | None = None, quorum: int | None = None) -> Verdict:
    """`witnesses`: name -> public key of the witnesses the auditor trusts (from the provincial authority, never
    from the export); `quorum`: how many of them must have cosigned the checkpoint (default: all)."""
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
    witnesses = witnesses or {}
    cosigned = [name for name, key in witnesses.items() if verify_cosignature(header["checkpoint"], name, key)]
    needed = len(witnesses) if quorum is None else quorum
    if len(cosigned) < needed:
        missing = sorted(set(witnesses) - set(cosigned))
        return Verdict(problems=[f"the checkpoint is cosigned by {len(cosigned)} of the {needed} witnesses required "
                                 f"(missing: {', '.join(missing)}): it may show a log the witnesses never saw"])
    leaves: list[Leaf] = []
    events: list[StoredEvent] = []
    for number, line in enumerate(records, start=2):
        try:
            record = json.loads(line)
            if "leaf" in record:
                leaves.append(Leaf(record["leaf"], a2b_base64(record["entry"]), None))  # hashed by the check
            else:
                events.append(StoredEvent(bytes.fromhex(record["event"].replace("-", "")), record["version"],
                                          record["topic"], a2b_base64(record["state"])))
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            return Verdict(problems=[f"line {number}: unreadable ({error})"])
    verdict = verify_ledger(leaves, events, covered=checkpoint.size)
    if verdict.ok and verdict.covered_root != checkpoint.root:
        verdict.problems.append(f"the first {checkpoint.size} leaves do not match the signed checkpoint: the ledger "
                                "was rewritten or cut after it was signed")
    return verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a petition platform audit export offline.")
    parser.add_argument("export", help="the JSON-lines export file")
    parser.add_argument("--public-key", required=True, help="the log's Ed25519 public key (64 hex digits)")
    parser.add_argument("--origin", help="the log's origin, as published (default: the one the export names)")
    parser.add_argument("--witness", action="append", default=[], metavar="NAME=PUBLIC_KEY_HEX",
                        help="a witness whose cosignature is required (repeat for several)")
    parser.add_argument("--quorum", type=int, help="how many of the witnesses must have cosigned (default: all)")
    args = parser.parse_args(argv)
    witnesses = {name: bytes.fromhex(key) for name, key in (item.split("=", 1) for item in args.witness)}
    with open(args.export, encoding="utf-8") as lines:
        verdict = verify_export(lines, bytes.fromhex(args.public_key), args.origin, witnesses, args.quorum)
    print(verdict)
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
