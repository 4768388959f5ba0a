"""The audit entry of one stored event: the exact bytes that are hashed into the Merkle log (docs/audit.md,
"The entry").

    payload_hash = SHA-256("petition-audit/payload/v1\\n" || state)          the stored bytes, never re-serialised
    entry = "petition-audit/entry/v1\\n" || u64 leaf_index || uuid16 originator_id || u64 originator_version
          || u64 prev_leaf_index (2^64-1: none) || prev_leaf_hash (32 zero bytes: none)
          || u16 len(topic) || topic (UTF-8) || payload_hash || u64 recorded_at (µs since the epoch, UTC)
    leaf_hash = SHA-256(0x00 || entry)                                          RFC 9162 leaf

The PostgreSQL sealing trigger (shared/audit/sealing.py) writes the same bytes; the tests check both agree. This
module is what the offline verifier uses: standard library only.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from uuid import UUID

TAG_PAYLOAD = b"petition-audit/payload/v1\n"
TAG_ENTRY = b"petition-audit/entry/v1\n"
NO_PREVIOUS_INDEX = 2**64 - 1
NO_PREVIOUS_HASH = bytes(32)
_FIXED = struct.Struct(">Q16sQQ32s")


def payload_hash(state: bytes) -> bytes:
    return hashlib.sha256(TAG_PAYLOAD + state).digest()


@dataclass(frozen=True)
class Entry:
    leaf_index: int
    originator_id: UUID
    originator_version: int
    prev_leaf_index: int
    prev_leaf_hash: bytes
    topic: str
    payload_hash: bytes
    recorded_at_us: int

    def encode(self) -> bytes:
        topic = self.topic.encode("utf-8")
        return (TAG_ENTRY
                + _FIXED.pack(self.leaf_index, self.originator_id.bytes, self.originator_version,
                              self.prev_leaf_index, self.prev_leaf_hash)
                + struct.pack(">H", len(topic)) + topic + self.payload_hash + struct.pack(">Q", self.recorded_at_us))

    @classmethod
    def decode(cls, data: bytes) -> Entry:
        """Raises ValueError for bytes that are not an entry of this version."""
        if not data.startswith(TAG_ENTRY):
            raise ValueError("not a petition-audit/entry/v1 entry")
        offset = len(TAG_ENTRY)
        try:
            leaf_index, originator, version, prev_index, prev_hash = _FIXED.unpack_from(data, offset)
            offset += _FIXED.size
            (topic_length,) = struct.unpack_from(">H", data, offset)
            offset += 2
            topic = data[offset:offset + topic_length].decode("utf-8")
            offset += topic_length
            payload = data[offset:offset + 32]
            (recorded_at,) = struct.unpack_from(">Q", data, offset + 32)
        except (struct.error, UnicodeDecodeError) as error:
            raise ValueError(f"malformed entry: {error}") from None
        if offset + 40 != len(data) or len(payload) != 32:
            raise ValueError("malformed entry: wrong length")
        return cls(leaf_index, UUID(bytes=originator), version, prev_index, prev_hash, topic, payload, recorded_at)
