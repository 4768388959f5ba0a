"""audit's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.runtime.settings import PlatformSettings


class AuditSettings(PlatformSettings):
    # The logs' signing keys (<service>.key), the checkpointer's (`cli checkpoint-all --keys`): the audit service
    # signs a bundle's case heads with them. Default: <DATA_DIR>/audit-keys, where `make run` makes them.
    keys_dir: Path | None = Field(None, alias="AUDIT_KEYS_DIR")
    # How often the checkpointer signs (seconds): said to an auditor whose bundle waits for the next checkpoint.
    checkpoint_interval: float = Field(60.0, alias="AUDIT_CHECKPOINT_INTERVAL", gt=0)
    # How long the audit service waits for supervision or notification (nameko's proxies wait forever): under
    # the gateway's GATEWAY_RPC_TIMEOUT (10 s), so an auditor gets this service's 503, not the gateway's.
    peer_timeout: float = Field(8.0, alias="AUDIT_PEER_TIMEOUT", gt=0)

    def keys_folder(self) -> Path:
        return self.keys_dir or self.data_dir / "audit-keys"
