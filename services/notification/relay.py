"""notification's outbox relay process: `python -m services.notification.relay`."""

from __future__ import annotations

from services.notification.bootstrap import build_application
from services.notification.settings import NotificationSettings
from services.notification.translate import to_integration_event
from shared.outbox import OutboxRelay
from shared.workers import run_workers


def main() -> None:
    settings = NotificationSettings().for_follower()
    application = build_application(settings)
    try:
        run_workers("notification-relay", settings,
                    lambda: [OutboxRelay(settings, "notification", application, to_integration_event)])
    finally:
        application.close()


if __name__ == "__main__":
    main()
