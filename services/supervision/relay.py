"""supervision's outbox relay process: `python -m services.supervision.relay`."""

from services.supervision import translate
from services.supervision.bootstrap import build_application
from services.supervision.settings import SupervisionSettings
from shared.runtime.outbox import run_relay

if __name__ == "__main__":
    run_relay("supervision", SupervisionSettings(), build_application, translate)
