"""supervision's composition roots."""

from __future__ import annotations

from services.supervision.application import SupervisionApplication
from services.supervision.settings import SupervisionSettings


def build_application(settings: SupervisionSettings | None = None) -> SupervisionApplication:
    return SupervisionApplication(settings or SupervisionSettings())
