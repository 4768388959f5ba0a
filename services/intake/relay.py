"""intake's follower process: `python -m services.intake.relay`.

Two workers on intake's store, each with its own position and single-active lock: the outbox relay (publishes
`petition.registered`) and the search index (services/intake/search.py: the keyed hashes by which the bureau finds
a petitioner's petitions). One process, so a deployment runs nothing new for the search.
"""

from services.intake import translate
from services.intake.bootstrap import build_application
from services.intake.search import SearchIndexProjection
from services.intake.settings import IntakeSettings
from shared.language.readmodels import connect_read_models
from shared.runtime.outbox import OutboxRelay
from shared.runtime.projector import Projector
from shared.runtime.workers import run_workers

if __name__ == "__main__":
    settings = IntakeSettings().for_follower()
    connect_read_models(settings.mongodb_uri)
    application = build_application(settings)
    try:
        run_workers("intake-relay", settings, lambda: [
            OutboxRelay(settings, "intake", application, translate.to_integration_event,
                        translated=translate.TRANSLATED),
            Projector(settings, "intake", application, SearchIndexProjection(settings.person_key_secret.encode()),
                      topics=SearchIndexProjection.topics),
        ])
    finally:
        application.close()
