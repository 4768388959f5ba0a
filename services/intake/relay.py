"""intake's outbox relay process: `python -m services.intake.relay`."""

from services.intake import translate
from services.intake.bootstrap import build_application
from services.intake.settings import IntakeSettings
from shared.runtime.outbox import run_relay

if __name__ == "__main__":
    run_relay("intake", IntakeSettings(), build_application, translate)
