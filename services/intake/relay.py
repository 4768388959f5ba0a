"""intake's outbox relay process: `python -m services.intake.relay`."""

from __future__ import annotations

from services.intake.bootstrap import build_application
from services.intake.settings import IntakeSettings
from services.intake.translate import to_integration_event
from shared.outbox import OutboxRelay
from shared.workers import run_workers


def main() -> None:
    settings = IntakeSettings().for_follower()
    application = build_application(settings)
    try:
        run_workers("intake-relay", settings,
                    lambda: [OutboxRelay(settings, "intake", application, to_integration_event)])
    finally:
        application.close()


if __name__ == "__main__":
    main()
