"""The verifiable audit log (docs: ../shared/reference/verifiable-audit-log.md in the design notes; docs/audit.md)."""
