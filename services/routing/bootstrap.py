"""routing's composition roots."""

from __future__ import annotations

from services.routing.application import RoutingApplication
from services.routing.rules import load_rules
from services.routing.settings import RoutingSettings


def build_application(settings: RoutingSettings | None = None) -> RoutingApplication:
    settings = settings or RoutingSettings()
    return RoutingApplication(settings, load_rules(settings.rules_file))
