"""audit: the auditors' context — a petition's history replayed from the services' event stores, case bundles
with their proofs, the ledger reader, the checkpointer and the operator's commands (docs/audit.md). It reads the
stores generically and read-only, and asks each service for its own part of a case over RPC; the pure audit-log
code it builds on (sealing, entries, Merkle trees, checkpoints, the offline verifier) is shared/audit."""
