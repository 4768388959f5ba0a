"""The offline verifier: checks a full-log export against the log's published public key, on the auditor's own
machine (standard library plus `cryptography`; it never talks to the platform).

    python -m shared.audit.verifier EXPORT.jsonl --public-key HEX [--origin ORIGIN] [--witness NAME=HEX ...]
    python -m shared.audit.verifier --bundle CASE.json --key ORIGIN=HEX [--key ...] [--witness NAME=HEX ...]

It checks the checkpoint's signature, that the leaves the checkpoint covers hash to its root (nothing sealed
before it was changed, removed or reordered — even if someone re-sealed the ledger afterwards), and then every
leaf and event as shared/audit/verify.py does. It prints a verdict naming the first event that fails; exit 0 only
when everything verifies.
"""

from __future__ import annotations

import argparse
import binascii
import contextlib
import gc
import json
import sys
from binascii import a2b_base64
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from uuid import UUID

from shared.audit import heads as case_heads
from shared.audit.checkpoint import CheckpointError
from shared.audit.checkpoint import verify as verify_note
from shared.audit.entries import NO_PREVIOUS_HASH, NO_PREVIOUS_INDEX, Entry, payload_hash
from shared.audit.merkle import leaf_hash, verify_inclusion
from shared.audit.verify import Leaf, StoredEvent, Verdict, verify_ledger
from shared.audit.witness import verify_cosignature

EXPORT_FORMAT = "petition-audit/export/v1"


MALFORMED = (ValueError, KeyError, TypeError, AttributeError, IndexError, binascii.Error)


def verify_export(lines: Iterable[str], public_key: bytes, origin: str | None = None,
                  witnesses: dict[str, bytes] | None = None, quorum: int | None = None,
                  allow_unanchored: bool = False, case_heads: Sequence[str] = ()) -> Verdict:
    """`witnesses`: name -> public key of the witnesses the auditor trusts (from the provincial authority, never
    from the export); `quorum`: how many of them must have cosigned the checkpoint (default: all).
    `allow_unanchored`: accept leaves recorded after the checkpoint (only their ledger consistency is checked).
    `case_heads`: signed case heads of this log (from case bundles), checked against the export: a bundle that
    left an event out and came with heads signed to match is refuted here."""
    try:
        with _cyclic_gc_paused():
            verdict = _verify_export(lines, public_key, origin, witnesses or {}, quorum, case_heads)
    except MALFORMED as error:  # whatever the file holds, the answer is a verdict, never a crash
        return Verdict(problems=[f"malformed export: {error!r}"])
    if verdict.ok and verdict.unanchored and not allow_unanchored:
        verdict.problems.append(f"{verdict.unanchored} leaves were recorded after the signed checkpoint and are not "
                                "anchored by it (export after a fresh checkpoint, or pass --allow-unanchored)")
    return verdict


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The verifier keeps a record per event until the end and makes no reference cycles; left on, the cyclic
    collector walks all of them again and again as they pile up (measured: a quarter to a third of the time,
    varying from run to run)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _verify_export(lines: Iterable[str], public_key: bytes, origin: str | None, witnesses: dict[str, bytes],
                   quorum: int | None, case_heads: Sequence[str]) -> Verdict:
    records = iter(lines)
    try:
        header = json.loads(next(records))
    except (StopIteration, json.JSONDecodeError):
        return Verdict(problems=["not an export: no header line"])
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        return Verdict(problems=[f"not a {EXPORT_FORMAT} export"])
    origin = origin or str(header.get("origin"))
    if not isinstance(header.get("checkpoint"), str):
        return Verdict(problems=["the export carries no signed checkpoint"])
    try:
        checkpoint = verify_note(header["checkpoint"], origin, public_key)
    except CheckpointError as error:
        return Verdict(problems=[f"checkpoint: {error}"])
    cosigned = {name: t for name, key in witnesses.items()
                if (t := verify_cosignature(header["checkpoint"], name, key)) is not None}
    needed = len(witnesses) if quorum is None else quorum
    if len(cosigned) < needed:
        missing = sorted(set(witnesses) - set(cosigned))
        return Verdict(problems=[f"the checkpoint is cosigned by {len(cosigned)} of the {needed} witnesses required "
                                 f"(missing: {', '.join(missing)}): it may show a log the witnesses never saw"])
    leaves: list[Leaf] = []
    events: list[StoredEvent] = []
    # The tuples are built without the named tuples' Python-level constructors: an export holds millions.
    leaf, event = partial(tuple.__new__, Leaf), partial(tuple.__new__, StoredEvent)
    loads, fromhex = json.loads, bytes.fromhex
    for number, line in enumerate(records, start=2):
        try:
            record = loads(line)
            if "leaf" in record:
                leaves.append(leaf((_integer(record["leaf"]), a2b_base64(record["entry"]), None)))  # hashed below
            else:
                events.append(event((fromhex(record["event"].replace("-", "")), _integer(record["version"]),
                                     str(record["topic"]), a2b_base64(record["state"]))))
        except MALFORMED as error:
            return Verdict(problems=[f"line {number}: unreadable ({error!r})"])
    verdict = verify_ledger(leaves, events, covered=checkpoint.size)
    if verdict.ok and verdict.covered_root != checkpoint.root:
        verdict.problems.append(f"the first {checkpoint.size} leaves do not match the signed checkpoint: the ledger "
                                "was rewritten or cut after it was signed")
    verdict.anchored = min(checkpoint.size, verdict.checked)
    verdict.unanchored = max(verdict.checked - checkpoint.size, 0)
    verdict.cosigned = cosigned
    for note in case_heads if verdict.ok else ():
        problem = _refute_case_heads(note, origin, public_key, leaves, verdict.checked)
        if problem:
            verdict.problems.append(problem)
            break
    return verdict


def _refute_case_heads(note: str, origin: str, public_key: bytes, leaves: list[Leaf], size: int) -> str | None:
    try:
        signed = case_heads.verify(note, origin, public_key)
    except CheckpointError as error:
        return f"case heads: {error}"
    if signed.size > size:
        return f"the case heads of {signed.petition_id} are for size {signed.size}; the export holds {size} leaves"
    last: dict[bytes, tuple[int, bytes]] = {}
    for index, entry, _hash in leaves:  # verified above: gapless, chained, so versions only grow with the index
        if index < signed.size:
            decoded = Entry.decode(entry)
            last[decoded.originator_id.bytes] = (decoded.originator_version, leaf_hash(entry))
    refuted = case_heads.refutation(signed, last)
    return f"the case heads of {signed.petition_id} signed by the log's key are false: {refuted}" if refuted else None


def _integer(value: object) -> int:
    if type(value) is not int:
        raise TypeError(f"expected an integer, got {value!r}")
    return value


BUNDLE_FORMAT = "petition-audit/case-bundle/v2"  # as services/audit/bundle.py writes it (with case heads)


def verify_bundle(bundle: dict, log_keys: dict[str, bytes], witnesses: dict[str, bytes] | None = None,
                  quorum: int | None = None) -> Verdict:
    """One case from every service: each log's checkpoint is signed by that log's key (given by the auditor) and
    cosigned by the required witnesses; each event is in the signed log (inclusion proof), is the event its entry
    sealed, and chains on the previous event of its aggregate from version 1."""
    verdict = Verdict()
    try:
        if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
            verdict.problems.append(f"not a {BUNDLE_FORMAT} bundle")
            return verdict
        petition = bytes.fromhex(str(bundle["petition_id"]).replace("-", ""))
        logs = {log["origin"]: log for log in bundle["logs"]}
        absent = sorted(set(log_keys) - set(logs))
        if absent:
            verdict.problems.append(f"the bundle leaves out the log(s) {', '.join(absent)}")
            return verdict
        for log in logs.values():
            if not log["entries"] and log["checkpoint"] is None:
                continue  # this service has nothing of the case
            problem = _verify_log(log, log_keys, witnesses or {}, quorum, verdict, petition)
            if problem:
                verdict.problems.append(f"{log['service']}: {problem}")
                return verdict
            verdict.unanchored += _integer(log.get("not_yet_covered", 0))
        if verdict.checked == 0:
            verdict.problems.append("the bundle proves no event of the case")
    except MALFORMED as error:
        verdict.problems.append(f"malformed bundle: {error!r}")
    verdict.anchored = verdict.checked
    return verdict


# The services whose aggregates carry the petition's own id (notification's ids are derived from it).
SAME_ID_SERVICES = ("intake", "routing", "supervision")


def _verify_log(log: dict, log_keys: dict[str, bytes], witnesses: dict[str, bytes], quorum: int | None,
                verdict: Verdict, petition: bytes) -> str | None:
    key = log_keys.get(log["origin"])
    if key is None:
        return f"no public key given for the log {log['origin']}"
    if log.get("public_key") not in (None, key.hex()):
        return (f"the bundle says it was signed with the key {log['public_key']}, not the published one "
                f"{key.hex()}")
    try:
        checkpoint = verify_note(log["checkpoint"] or "", log["origin"], key)
    except CheckpointError as error:
        return f"checkpoint: {error}"
    cosigned = {name: t for name, public in witnesses.items()
                if (t := verify_cosignature(log["checkpoint"], name, public)) is not None}
    needed = len(witnesses) if quorum is None else quorum
    if len(cosigned) < needed:
        return f"the checkpoint is cosigned by {len(cosigned)} of the {needed} witnesses required"
    verdict.cosigned.update({f"{name} ({log['service']})": t for name, t in cosigned.items()})
    if log["service"] in SAME_ID_SERVICES and log["entries"]:
        first = Entry.decode(a2b_base64(min(log["entries"], key=lambda e: e["leaf_index"])["entry"]))
        if first.originator_id.bytes != petition or first.originator_version != 1:
            return "the bundle does not start with the case's own first event"
    heads: dict[bytes, tuple[int, int, bytes]] = {}
    for item in sorted(log["entries"], key=lambda e: e["leaf_index"]):
        try:
            entry_bytes = a2b_base64(item["entry"])
            entry = Entry.decode(entry_bytes)
            state = a2b_base64(item["state"])
            proof = [a2b_base64(h) for h in item["proof"]]
        except (ValueError, KeyError, binascii.Error) as error:
            return f"leaf {item.get('leaf_index')}: unreadable ({error})"
        where = f"leaf {item['leaf_index']} (aggregate {entry.originator_id} version {entry.originator_version})"
        if log["service"] in SAME_ID_SERVICES and entry.originator_id.bytes != petition:
            return f"{where}: not an event of this case"
        digest = leaf_hash(entry_bytes)
        if entry.leaf_index != item["leaf_index"] or not verify_inclusion(
                entry.leaf_index, checkpoint.size, digest, proof, checkpoint.root):
            return f"{where}: not in the signed log (its entry or proof was changed)"
        if item["topic"] != entry.topic or payload_hash(state) != entry.payload_hash:
            return f"{where}: the event differs from what was sealed (its bytes were changed)"
        previous = heads.get(entry.originator_id.bytes)
        expected = (NO_PREVIOUS_INDEX, NO_PREVIOUS_HASH, 1) if previous is None else (
            previous[1], previous[2], previous[0] + 1)
        if (entry.prev_leaf_index, entry.prev_leaf_hash, entry.originator_version) != expected:
            return f"{where}: breaks the aggregate's chain (an event is missing or out of order)"
        heads[entry.originator_id.bytes] = (entry.originator_version, entry.leaf_index, digest)
        verdict.checked += 1
    return _check_case_heads(log, key, checkpoint.size, petition, heads)


def _check_case_heads(log: dict, key: bytes, size: int, petition: bytes,
                      held: dict[bytes, tuple[int, int, bytes]]) -> str | None:
    """The bundle holds each aggregate up to the last event the log's key signed for the checkpoint: nothing was
    left out after it (shared/audit/heads.py)."""
    try:
        signed = case_heads.verify(log.get("heads") or "", log["origin"], key)
    except CheckpointError as error:
        return f"case heads: {error}"
    if signed.size != size or signed.petition_id.bytes != petition:
        return "the signed case heads are for another checkpoint or another case"
    if log["service"] in SAME_ID_SERVICES and UUID(bytes=petition) not in signed.heads:
        return "the signed case heads leave out the case's own aggregate"
    stated = {aggregate.bytes: head for aggregate, head in signed.heads.items()}
    unstated = held.keys() - stated.keys()
    if unstated:
        return f"aggregate {UUID(bytes=min(unstated))} is not in the signed case heads"
    for aggregate, (version, digest) in stated.items():
        version_held, _index, digest_held = held.get(aggregate, (0, 0, None))
        if (version_held, digest_held) != (version, digest):
            return (f"aggregate {UUID(bytes=aggregate)}: the bundle holds its events up to version {version_held}, "
                    f"the log's signed case heads say version {version} is its last (an event was left out)")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a petition platform audit export or case bundle offline.")
    parser.add_argument("export", help="the JSON-lines export file, or with --bundle a case bundle (JSON)")
    parser.add_argument("--bundle", action="store_true", help="the file is a case bundle")
    parser.add_argument("--public-key", help="the log's Ed25519 public key (64 hex digits), for an export")
    parser.add_argument("--key", action="append", default=[], metavar="ORIGIN=PUBLIC_KEY_HEX",
                        help="a log's public key, for a bundle (one per service log)")
    parser.add_argument("--origin", help="the log's origin, as published (required for an export)")
    parser.add_argument("--allow-unanchored", action="store_true",
                        help="accept leaves recorded after the export's checkpoint")
    parser.add_argument("--witness", action="append", default=[], metavar="NAME=PUBLIC_KEY_HEX",
                        help="a witness whose cosignature is required (repeat for several)")
    parser.add_argument("--quorum", type=int, help="how many of the witnesses must have cosigned (default: all)")
    parser.add_argument("--case-heads", action="append", default=[], metavar="CASE.json",
                        help="with an export: check the case heads this log signed in a case bundle against it")
    args = parser.parse_args(argv)
    witnesses = {name: bytes.fromhex(key) for name, key in (item.split("=", 1) for item in args.witness)}
    if args.bundle:
        keys = {log_origin: bytes.fromhex(key) for log_origin, key in (item.split("=", 1) for item in args.key)}
        with open(args.export, encoding="utf-8") as file:
            verdict = verify_bundle(json.load(file), keys, witnesses, args.quorum)
    elif args.public_key is None or args.origin is None:
        parser.error("--public-key and --origin (both as published, never taken from the export) are required")
    else:
        with open(args.export, encoding="utf-8") as lines:
            verdict = verify_export(lines, bytes.fromhex(args.public_key), args.origin, witnesses, args.quorum,
                                    allow_unanchored=args.allow_unanchored,
                                    case_heads=_case_heads_of(args.case_heads, args.origin))
    print(verdict)
    return 0 if verdict.ok else 1


def _case_heads_of(bundle_files: list[str], log_origin: str) -> list[str]:
    notes = []
    for file in bundle_files:
        with open(file, encoding="utf-8") as bundle:
            notes += [log["heads"] for log in json.load(bundle)["logs"] if log["origin"] == log_origin and log["heads"]]
    return notes


if __name__ == "__main__":
    sys.exit(main())
