"""audit's composition root."""

from __future__ import annotations

from services.audit.application import AuditApplication
from services.audit.settings import AuditSettings


def build_application(settings: AuditSettings | None = None) -> AuditApplication:
    return AuditApplication(settings or AuditSettings())
