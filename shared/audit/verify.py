"""Checking a ledger against the stored events it seals: the core of the offline verifier (standard library only).

Given the ledger rows (leaf index, entry bytes, leaf hash) and the stored events (aggregate id, version, topic,
stored bytes), it checks that the leaves are gapless and each hashes its own entry; that each entry names a stored
event whose topic and bytes it commits to; that each aggregate's events chain from version 1 through the previous
leaf's index and hash; that recording times never go back; and that no stored event is left unsealed. The verdict
names the first event that fails and why. The Merkle root over the leaf hashes (shared/audit/merkle.py) then ties
the whole ledger to a signed checkpoint.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple
from uuid import UUID

from shared.audit.entries import NO_PREVIOUS_HASH, NO_PREVIOUS_INDEX, TAG_ENTRY, TAG_PAYLOAD
from shared.audit.merkle import root


class Leaf(NamedTuple):  # tuples: an export holds one per event, and they are built by the million
    leaf_index: int
    entry: bytes
    leaf_hash: bytes | None  # as recorded; None: computed from the entry (an export need not carry it)


class StoredEvent(NamedTuple):
    originator_id: UUID | bytes  # bytes: the 16 raw bytes (what the verifier reads from an export)
    originator_version: int
    topic: str
    state: bytes


@dataclass
class Verdict:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    root: bytes = b""
    covered_root: bytes | None = None  # the root of the first `covered` leaves, when asked for
    anchored: int = 0  # leaves covered by the signed checkpoint
    unanchored: int = 0  # leaves recorded after it
    cosigned: dict[str, int] = field(default_factory=dict)  # witness -> when it cosigned (Unix time)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        if self.ok:
            witnesses = ", ".join(f"{name} at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(at))}"
                                  for name, at in sorted(self.cosigned.items())) or "no witness required"
            return (f"VERIFIED: {self.checked} events, {self.anchored} anchored by the signed checkpoint "
                    f"({witnesses}), {self.unanchored} recorded after it; root {self.root.hex()}")
        return f"FAILED after {self.checked} events: {self.problems[0]}"


_FIXED = struct.Struct(">Q16sQQ32sH")
_TAIL = struct.Struct(">32sQ")
_ENTRY_FIXED_AT = len(TAG_ENTRY)
_ENTRY_TOPIC_AT = _ENTRY_FIXED_AT + _FIXED.size
_FIRST = (NO_PREVIOUS_INDEX, NO_PREVIOUS_HASH, 1)  # an aggregate's first event chains on nothing


def verify_ledger(leaves: Iterable[Leaf], events: Iterable[StoredEvent], *, covered: int | None = None) -> Verdict:
    # Keys are the 16 raw id bytes (building UUID objects per event would cost a fifth of the time).
    # Each stored event is taken out as its leaf is checked: what is left at the end was never sealed.
    unsealed = {(_raw(e.originator_id), e.originator_version): e for e in events}
    verdict = Verdict()
    heads: dict[bytes, tuple[int, int, bytes]] = {}  # aggregate -> (version, leaf index, leaf hash)
    last_at = 0
    hashes: list[bytes] = []  # one per leaf checked, in order
    sha256, take, unpack_fixed, unpack_tail = hashlib.sha256, unsealed.pop, _FIXED.unpack_from, _TAIL.unpack_from
    problem = verdict.problems.append
    for position, (leaf_index, entry, recorded_hash) in enumerate(sorted(leaves, key=itemgetter(0))):
        if leaf_index != position:
            problem(f"leaf {leaf_index}: expected leaf {position} (a leaf is missing or out of order)")
            break
        digest = sha256(b"\x00" + entry).digest()
        if recorded_hash is not None and digest != recorded_hash:
            problem(f"leaf {leaf_index}: the leaf hash does not hash its entry (entry or hash changed)")
            break
        try:
            if not entry.startswith(TAG_ENTRY):
                raise ValueError("not a petition-audit/entry/v1 entry")
            index, originator, version, prev_index, prev_hash, topic_length = unpack_fixed(entry, _ENTRY_FIXED_AT)
            topic_end = _ENTRY_TOPIC_AT + topic_length
            payload, recorded_at = unpack_tail(entry, topic_end)
            if topic_end + _TAIL.size != len(entry):
                raise ValueError("malformed entry: wrong length")
            topic = entry[_ENTRY_TOPIC_AT:topic_end].decode("utf-8")
        except (struct.error, UnicodeDecodeError, ValueError) as error:
            problem(f"leaf {leaf_index}: {error}")
            break
        if index != leaf_index:
            problem(f"{_named(leaf_index, originator, version)}: the entry says leaf {index}")
            break
        event = take((originator, version), None)
        if event is None:
            sealed_before = originator in heads and heads[originator][0] >= version  # a leaf sealing it twice
            problem(f"{_named(leaf_index, originator, version)}: " + (
                "breaks the aggregate's chain (an event was removed, reordered or rewritten)" if sealed_before
                else "the sealed event is missing from the store (deleted)"))
            break
        if event.topic != topic or sha256(TAG_PAYLOAD + event.state).digest() != payload:
            problem(f"{_named(leaf_index, originator, version)}: the stored event differs from what was sealed "
                    "(its bytes were changed)")
            break
        previous = heads.get(originator)
        expected = _FIRST if previous is None else (previous[1], previous[2], previous[0] + 1)
        if (prev_index, prev_hash, version) != expected:
            problem(f"{_named(leaf_index, originator, version)}: breaks the aggregate's chain (an event was removed, "
                    "reordered or rewritten)")
            break
        if recorded_at < last_at:
            problem(f"{_named(leaf_index, originator, version)}: recorded before the leaf preceding it")
            break
        heads[originator] = (version, leaf_index, digest)
        last_at = recorded_at
        hashes.append(digest)
    verdict.checked = len(hashes)
    if verdict.ok:
        if unsealed:
            aggregate, version = min(unsealed)
            problem(f"aggregate {UUID(bytes=aggregate)} version {version}: stored but not sealed "
                    "(inserted around the ledger)")
        verdict.root = root(hashes)
        if covered is not None:
            verdict.covered_root = (verdict.root if covered == len(hashes)
                                    else root(hashes[:covered]) if covered < len(hashes) else None)
    return verdict


def _named(leaf_index: int, originator: bytes, version: int) -> str:
    return f"leaf {leaf_index} (aggregate {UUID(bytes=originator)} version {version})"


def _raw(originator_id: UUID | bytes) -> bytes:
    return originator_id.bytes if isinstance(originator_id, UUID) else originator_id
