"""routing's settings (environment variables; see docs/configuration.md).

The rules table is ROUTING_RULES_FILE (shared.runtime.settings.PlatformSettings.routing_rules_file): supervision reads the
same file's organ list.
"""

from __future__ import annotations

from shared.runtime.settings import PlatformSettings


class RoutingSettings(PlatformSettings):
    pass
