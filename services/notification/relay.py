"""notification's outbox relay process: `python -m services.notification.relay`."""

from services.notification import translate
from services.notification.bootstrap import build_application
from services.notification.settings import NotificationSettings
from shared.runtime.outbox import run_relay

if __name__ == "__main__":
    run_relay("notification", NotificationSettings(), build_application, translate)
