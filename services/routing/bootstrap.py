"""routing's composition roots."""

from __future__ import annotations

from services.routing.application import RoutingApplication
from services.routing.rules import RulesFileError, load_rules
from services.routing.settings import RoutingSettings


def build_application(settings: RoutingSettings | None = None) -> RoutingApplication:
    settings = settings or RoutingSettings()
    rules = load_rules(settings.routing_rules_file)
    county = rules.table.county
    if county.code != settings.county_code:
        # Another county's table would route this county's petitions to organs that are not its own.
        raise RulesFileError(f"the routing rules are for county {county.code} ({county.name}), "
                             f"but XINFANG_COUNTY_CODE is {settings.county_code}")
    return RoutingApplication(settings, rules)
