"""A witness: a small process a provincial authority runs, so that the operator cannot rewrite a log it has
already shown (docs/audit.md, "Witnesses"; the C2SP tlog-witness protocol's `add-checkpoint`).

It keeps, per log, the last checkpoint it cosigned. It cosigns a new checkpoint only when the log's own key signed
it and a consistency proof shows it extends that last one; otherwise it refuses — 409 with the size it holds (the
checkpointer re-syncs), 422 when the proof fails (a rewritten or forked log: the checkpointer raises an alert), 403
for a log it does not know or a bad signature.

    python -m shared.audit.witness --port 8600 --state witness.json --key witness.key --name province.witness \\
        --log xinfang.330106/intake/audit/v1=<log public key hex>

Cosignature line: "— <name> base64(key_id || u64 time || Ed25519(b"cosignature/v1\\ntime <t>\\n" || body))",
key_id = SHA-256(name || 0x0A || 0x04 || public key)[:4].
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.audit.checkpoint import SIGNATURE_PREFIX, CheckpointError, load_private_key, raw_public_key, verify
from shared.audit.merkle import verify_consistency


class WitnessRefusal(Exception):
    def __init__(self, status: int, reason: str, size: int | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.size = status, reason, size


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n\x04" + public_key).digest()[:4]


def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()


def verify_cosignature(note: str, name: str, public_key: bytes) -> int | None:
    """The time at which witness `name` cosigned the checkpoint in `note`, or None if it did not."""
    body = note.partition("\n\n")[0] + "\n"
    wanted = cosignature_key_id(name, public_key)
    for line in note.partition("\n\n")[2].splitlines():
        if not line.startswith(f"{SIGNATURE_PREFIX}{name} "):
            continue
        try:
            raw = base64.b64decode(line.rsplit(" ", 1)[1], validate=True)
        except ValueError:
            continue
        if raw[:4] != wanted or len(raw) != 4 + 8 + 64:
            continue
        (timestamp,) = struct.unpack(">Q", raw[4:12])
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(raw[12:], cosigned_message(body, timestamp))
        except InvalidSignature:
            return None
        return timestamp
    return None


class Witness:
    def __init__(self, name: str, key: Ed25519PrivateKey, logs: dict[str, bytes], state_file: Path) -> None:
        self.name, self._key, self.logs, self._state_file = name, key, logs, state_file
        self._lock = threading.Lock()
        self._state: dict[str, dict[str, object]] = (
            json.loads(state_file.read_text()) if state_file.exists() else {})

    def _save(self) -> None:
        """Atomically: a witness that lost its state would cosign a forked log."""
        temporary = self._state_file.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as file:
            json.dump(self._state, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self._state_file)

    @property
    def public_key(self) -> bytes:
        return raw_public_key(self._key.public_key())

    def add_checkpoint(self, old_size: int, proof: list[bytes], note: str) -> str:
        """Cosign `note` if it extends what this witness holds for its log; returns the cosignature line."""
        origin = note.split("\n", 1)[0]
        if origin not in self.logs:
            raise WitnessRefusal(403, f"unknown log {origin}")
        try:
            checkpoint = verify(note, origin, self.logs[origin])
        except CheckpointError as error:
            raise WitnessRefusal(403, str(error)) from None
        with self._lock:
            held = self._state.get(origin)
            held_size = int(held["size"]) if held else 0
            if held_size == 0:
                held = None  # nothing held yet: any first checkpoint (C2SP: old size 0, empty proof)
            if old_size != held_size:
                raise WitnessRefusal(409, f"this witness holds size {held_size}", size=held_size)
            if checkpoint.size < held_size:
                raise WitnessRefusal(409, "the checkpoint is smaller than the one held", size=held_size)
            if held and not verify_consistency(held_size, checkpoint.size, base64.b64decode(str(held["root"])),
                                               checkpoint.root, proof):
                raise WitnessRefusal(422, "the checkpoint does not extend the one held: the log was rewritten")
            self._state[origin] = {"size": checkpoint.size, "root": base64.b64encode(checkpoint.root).decode()}
            self._save()
        timestamp = int(time.time())
        body = note.partition("\n\n")[0] + "\n"  # the body as received, extension lines included
        signature = self._key.sign(cosigned_message(body, timestamp))
        stamp = cosignature_key_id(self.name, self.public_key) + struct.pack(">Q", timestamp) + signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(stamp).decode()}\n"


def request_body(old_size: int, proof: list[bytes], note: str) -> bytes:
    """The add-checkpoint request: "old <size>", the proof hashes in base64, a blank line, the signed note."""
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


def parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    head, _, note = body.decode().partition("\n\n")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise WitnessRefusal(400, "the request must start with 'old <size>'")
    return int(lines[0][4:]), [base64.b64decode(line, validate=True) for line in lines[1:] if line], note


def serve(witness: Witness, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server interface
            if self.path != "/add-checkpoint":
                self._answer(404, "not found\n")
                return
            try:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                cosignature = witness.add_checkpoint(*parse_request(body))
            except WitnessRefusal as refusal:
                answer = f"{refusal.size}\n" if refusal.status == 409 and refusal.size is not None else \
                    f"{refusal.reason}\n"
                self._answer(refusal.status, answer,
                             "text/x.tlog.size" if refusal.status == 409 else "text/plain; charset=utf-8")
                return
            except ValueError as error:
                self._answer(400, f"{error}\n")
                return
            self._answer(200, cosignature)

        def _answer(self, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="witness").start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A witness that cosigns checkpoints that extend the last one.")
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--key", type=Path, required=True, help="this witness's Ed25519 private key (PEM)")
    parser.add_argument("--name", required=True)
    parser.add_argument("--log", action="append", required=True, help="ORIGIN=PUBLIC_KEY_HEX, once per log")
    parser.add_argument("--init", action="store_true", help="start with no state (first run only)")
    args = parser.parse_args(argv)
    if not args.state.exists() and not args.init:
        parser.error(f"{args.state} does not exist: a witness without its state would trust any log (use --init "
                     "on the first run only)")
    logs = {origin: bytes.fromhex(key) for origin, key in (item.split("=", 1) for item in args.log)}
    witness = Witness(args.name, load_private_key(args.key), logs, args.state)
    server = serve(witness, args.port, args.host)
    print(f"witness {args.name} ({witness.public_key.hex()}) on {args.host}:{args.port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
