"""supervision's composition roots."""

from __future__ import annotations

from services.supervision.application import Clock, SupervisionApplication
from services.supervision.deadlines import load_deadline_rules
from services.supervision.settings import SupervisionSettings
from shared.language.organs import OrganDirectory


def build_application(settings: SupervisionSettings | None = None, clock: Clock | None = None) -> SupervisionApplication:
    settings = settings or SupervisionSettings()
    rules = load_deadline_rules(settings.holiday_table_file, settings.deadline_rules_file)
    return SupervisionApplication(settings, rules, OrganDirectory.load(settings.routing_rules_file), clock=clock,
                                  recent_cases=settings.recent_cases,
                                  postal_receipt_presumed_days=settings.postal_receipt_presumed_days)
