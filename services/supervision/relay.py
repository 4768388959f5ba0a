"""supervision's outbox relay process: `python -m services.supervision.relay`."""

from __future__ import annotations

from services.supervision.bootstrap import build_application
from services.supervision.settings import SupervisionSettings
from services.supervision.translate import to_integration_event
from shared.outbox import OutboxRelay
from shared.workers import run_workers


def main() -> None:
    settings = SupervisionSettings().for_follower()
    application = build_application(settings)
    try:
        run_workers("supervision-relay", settings,
                    lambda: [OutboxRelay(settings, "supervision", application, to_integration_event)])
    finally:
        application.close()


if __name__ == "__main__":
    main()
