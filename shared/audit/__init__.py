"""The verifiable audit log's core: what every store writes and what the offline verifier reads (docs/audit.md)."""
