"""notification's composition roots."""

from __future__ import annotations

from services.notification.application import NotificationApplication
from services.notification.settings import NotificationSettings


def build_application(settings: NotificationSettings | None = None) -> NotificationApplication:
    return NotificationApplication(settings or NotificationSettings())
