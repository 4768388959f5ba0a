"""Case heads: a log's signed statement of where each aggregate of one case stood at a checkpoint (standard library
plus `cryptography`; the offline verifier reads it).

A case bundle proves every event it holds (inclusion proofs) and that none is missing between them (the chain). That
none was left out *after* its last event cannot be proven from a plain Merkle log without the whole log, so the
operator signs, with the log's own key, which event was each aggregate's last as of the checkpoint:

    body = origin "\\n" "case-heads/v1" "\\n" size "\\n" petition id "\\n"
           one line per aggregate, sorted: aggregate id " " version " " base64(leaf hash)   (version 0, "-": none yet)
    note = body "\\n" "— " origin " " base64(key id || Ed25519 signature(body)) "\\n"      (signed note, as checkpoints)

The second line keeps it from ever reading as a checkpoint (whose second line is its size), and a checkpoint from
ever reading as this. A bundle that leaves out a later event then either disagrees with the signed heads — and the
verifier names it — or comes with heads the operator signed falsely, which any full export up to that checkpoint
refutes (`refutation`), signed evidence against the log's key holder.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.audit.checkpoint import CheckpointError, sign_note, signed_body

KIND = "case-heads/v1"
NONE = "-"


@dataclass(frozen=True)
class CaseHeads:
    origin: str
    size: int  # the checkpoint these heads are stated at
    petition_id: UUID
    heads: dict[UUID, tuple[int, bytes | None]]  # aggregate -> (last version before `size`, its leaf hash); 0: none

    def body(self) -> str:
        lines = [self.origin, KIND, str(self.size), str(self.petition_id)]
        for aggregate, (version, digest) in sorted(self.heads.items(), key=lambda item: str(item[0])):
            lines.append(f"{aggregate} {version} {base64.b64encode(digest).decode() if digest else NONE}")
        return "\n".join(lines) + "\n"


def sign(heads: CaseHeads, private_key: Ed25519PrivateKey) -> str:
    return sign_note(heads.body(), heads.origin, private_key)


def verify(note: str, origin: str, public_key: bytes) -> CaseHeads:
    """The case heads in `note` if the log's key signed them; raises CheckpointError otherwise."""
    return parse(signed_body(note, origin, public_key, "case heads"), origin)


def parse(body: str, origin: str) -> CaseHeads:
    lines = body.split("\n")
    if len(lines) < 5 or lines[0] != origin or lines[1] != KIND or lines[-1] != "":
        raise CheckpointError(f"not the case heads of {origin}")
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", lines[2]):
        raise CheckpointError("malformed case heads: size")
    heads: dict[UUID, tuple[int, bytes | None]] = {}
    try:
        petition_id = UUID(lines[3])
        for line in lines[4:-1]:
            aggregate, version, digest = line.split(" ")
            if not re.fullmatch(r"0|[1-9][0-9]{0,19}", version) or (version == "0") != (digest == NONE):
                raise ValueError(line)
            raw = None if digest == NONE else base64.b64decode(digest, validate=True)
            if raw is not None and len(raw) != 32 or UUID(aggregate) in heads:
                raise ValueError(line)
            heads[UUID(aggregate)] = (int(version), raw)
    except (ValueError, binascii.Error):
        raise CheckpointError("malformed case heads") from None
    return CaseHeads(origin, int(lines[2]), petition_id, heads)


def refutation(heads: CaseHeads, last_before_size: dict[bytes, tuple[int, bytes]]) -> str | None:
    """What a full export shows against signed case heads: `last_before_size` maps each aggregate's 16 id bytes to
    its last (version, leaf hash) among the export's first `heads.size` leaves. None: the heads are true."""
    for aggregate, (version, digest) in sorted(heads.heads.items(), key=lambda item: str(item[0])):
        actual = last_before_size.get(aggregate.bytes, (0, None))
        if actual != (version, digest):
            return (f"aggregate {aggregate}: the log's key signed version {version} as its last event at size "
                    f"{heads.size}, the log holds version {actual[0]}")
    return None
