"""routing's outbox relay process: `python -m services.routing.relay`."""

from __future__ import annotations

from services.routing.bootstrap import build_application
from services.routing.settings import RoutingSettings
from services.routing.translate import to_integration_event
from shared.outbox import OutboxRelay
from shared.workers import run_workers


def main() -> None:
    settings = RoutingSettings().for_follower()
    application = build_application(settings)
    try:
        run_workers("routing-relay", settings,
                    lambda: [OutboxRelay(settings, "routing", application, to_integration_event)])
    finally:
        application.close()


if __name__ == "__main__":
    main()
