"""routing's outbox relay process: `python -m services.routing.relay`."""

from services.routing import translate
from services.routing.bootstrap import build_application
from services.routing.settings import RoutingSettings
from shared.runtime.outbox import run_relay

if __name__ == "__main__":
    run_relay("routing", RoutingSettings(), build_application, translate)
