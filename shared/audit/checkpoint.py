"""Checkpoints: a log's size and Merkle root, signed with Ed25519 in the C2SP signed-note format (docs/audit.md).

    body = origin "\\n" size "\\n" base64(root) "\\n"
    note = body "\\n" "— " origin " " base64(key_id || signature(body)) "\\n"
    key_id = SHA-256(origin || 0x0A || 0x01 || public key)[:4]

Witnesses add cosignature lines of their own (shared/audit/witness.py).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNATURE_PREFIX = "— "  # an em dash and a space


class CheckpointError(ValueError):
    pass


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def key_id(origin: str, public_key: bytes) -> bytes:
    return hashlib.sha256(origin.encode() + b"\n\x01" + public_key).digest()[:4]


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(checkpoint: Checkpoint, private_key: Ed25519PrivateKey) -> str:
    return sign_note(checkpoint.body(), checkpoint.origin, private_key)


def verify(note: str, origin: str, public_key: bytes) -> Checkpoint:
    """The checkpoint in `note` if `public_key` signed it for `origin`; raises CheckpointError otherwise."""
    return parse(signed_body(note, origin, public_key, "checkpoint"), origin)


def sign_note(body: str, key_name: str, private_key: Ed25519PrivateKey) -> str:
    """A signed note (C2SP signed-note) of `body`, which ends with a newline, by the log's key `key_name`."""
    signature = private_key.sign(body.encode())
    stamp = key_id(key_name, raw_public_key(private_key.public_key())) + signature
    return f"{body}\n{SIGNATURE_PREFIX}{key_name} {base64.b64encode(stamp).decode()}\n"


def signed_body(note: str, key_name: str, public_key: bytes, what: str) -> str:
    """The body of `note` if `public_key` (named `key_name`) signed it; raises CheckpointError naming `what`."""
    body, separator, signatures = note.partition("\n\n")
    if not separator:
        raise CheckpointError("not a signed note: no blank line before the signatures")
    body += "\n"
    wanted = key_id(key_name, public_key)
    for line in signatures.splitlines():
        name, _, stamp = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
        if not line.startswith(SIGNATURE_PREFIX) or name != key_name:
            continue
        try:
            raw = base64.b64decode(stamp, validate=True)
        except ValueError:
            continue
        if raw[:4] != wanted:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(raw[4:], body.encode())
        except InvalidSignature:
            raise CheckpointError(f"the signature on the {what} does not verify (note changed or wrong key)") from None
        return body
    raise CheckpointError(f"no signature by the key of {key_name} on the {what}")


def parse(body: str, origin: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[0] != origin:
        raise CheckpointError(f"the checkpoint is not for {origin}")
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", lines[1]):
        raise CheckpointError("malformed checkpoint size")
    try:
        tree_root = base64.b64decode(lines[2], validate=True)
    except ValueError:
        raise CheckpointError("malformed checkpoint root") from None
    if len(tree_root) != 32:
        raise CheckpointError("malformed checkpoint root")
    return Checkpoint(origin, int(lines[1]), tree_root)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} does not hold an Ed25519 private key")
    return key


def generate_key(path: Path) -> bytes:
    """Write a new Ed25519 private key (PEM, mode 0600) to `path`; returns the raw public key."""
    key = Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return raw_public_key(key.public_key())
