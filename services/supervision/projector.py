"""supervision's read-model projector process: `python -m services.supervision.projector [--rebuild]`.

Five projections, each a worker with its own position: the case views (the status and officer views), the work
lists' rows (services/supervision/worklists.py), the assessment facts (services/supervision/assessment.py), the
early warnings (services/supervision/warnings.py) and the circulars (services/supervision/circulars.py).
`--rebuild` drops and replays them all.
"""

from __future__ import annotations

from services.supervision.assessment import AssessmentProjection
from services.supervision.bootstrap import build_application
from services.supervision.circulars import CircularProjection
from services.supervision.projections import CaseViewProjection
from services.supervision.settings import SupervisionSettings
from services.supervision.warnings import WarningProjection
from services.supervision.worklists import CaseRowProjection
from shared.runtime.projector import main

if __name__ == "__main__":
    settings = SupervisionSettings().for_follower()
    main("supervision-projector", settings, "supervision", build_application,
         lambda application: [CaseViewProjection(application, recent_views=settings.recent_cases),
                              CaseRowProjection(application, recent_cases=settings.recent_cases),
                              AssessmentProjection(application, recent_cases=settings.recent_cases),
                              WarningProjection(application), CircularProjection(application)])
