"""supervision's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from shared.settings import PlatformSettings


class SupervisionSettings(PlatformSettings):
    pass
