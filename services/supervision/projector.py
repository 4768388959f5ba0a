"""supervision's read-model projector process: `python -m services.supervision.projector [--rebuild]`."""

from __future__ import annotations

from services.supervision.bootstrap import build_application
from services.supervision.projections import CaseViewProjection
from services.supervision.settings import SupervisionSettings
from shared.runtime.projector import main

if __name__ == "__main__":
    settings = SupervisionSettings().for_follower()
    main("supervision-projector", settings, "supervision", build_application,
         lambda application: CaseViewProjection(application, recent_views=settings.recent_cases))
