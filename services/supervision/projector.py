"""supervision's read-model projector process: `python -m services.supervision.projector [--rebuild]`."""

from __future__ import annotations

from services.supervision.bootstrap import build_application
from services.supervision.projections import CaseViewProjection
from services.supervision.settings import SupervisionSettings
from shared.projector import main

if __name__ == "__main__":
    main("supervision-projector", SupervisionSettings().for_follower(), "supervision", build_application,
         CaseViewProjection)
