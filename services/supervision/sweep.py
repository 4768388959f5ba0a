"""The deadline sweep: finalize cases whose review (re-review) window passed unused (终结; 2022 Regulations
Arts. 35-36) — never one whose opinion still awaits the post (`opinions_awaiting_post`) — and recount provisional
deadlines once the holiday table covers their year.

Candidates come from supervision's own read model (cases with an opinion out, or with a provisional deadline);
the decision is the aggregate's, on its own history, so a stale read model can only delay a step, never make a
wrong one. Run by a nameko timer in the supervision service (SUPERVISION_SWEEP_INTERVAL) and, for ops, once from
the command line: `python -m services.supervision.sweep`.
"""

from __future__ import annotations

import json
import logging

from mongoengine.queryset.visitor import Q
from prometheus_client import Counter

from services.supervision.application import SupervisionApplication
from services.supervision.case.receipt import WINDOWS
from shared.language.contracts.lifecycle import AWAITING_REVIEW_REQUEST, TERMINAL

log = logging.getLogger(__name__)

SWEPT = Counter("xinfang_deadline_sweep_total", "Cases changed by the deadline sweep", ["change"])
DEFAULT_INTERVAL = 3600.0  # seconds; windows are whole days, an hour's delay is invisible


def sweep_candidates(limit: int = 10_000) -> list[str]:
    from shared.language.readmodels import CaseView  # noqa: PLC0415 - the read side where it is used (no Mongo at import)

    open_with_provisional = Q(deadlines__provisional=True) & Q(status__nin=[s.value for s in TERMINAL])
    awaiting_request = Q(status__in=[s.value for s in AWAITING_REVIEW_REQUEST])
    found = CaseView.objects(awaiting_request | open_with_provisional).only("petition_id")
    return [view.petition_id for view in found.order_by("registered_at").limit(limit)]  # oldest first


def opinions_awaiting_post() -> frozenset[str]:
    """The cases with an opinion (处理意见书, 复查意见书) still awaiting the post, as notification's notice records
    say: they are not finalized. The window counts provisionally from the issuing day until the opinion is posted
    (then from its presumed receipt) or received, but a petitioner reached only by post has not had it yet, so it
    cannot pass unused (docs/domain.md §"Deadlines"). Read-model lag cannot matter: a notice record is written
    seconds after the opinion is issued, 30 days before its window can pass."""
    from shared.language.readmodels import NoticeRecord  # noqa: PLC0415 - no Mongo at import

    kinds = list(WINDOWS)  # the written answers a window counts from
    return frozenset(NoticeRecord.objects(awaiting_post=True, kind__in=kinds).distinct("petition_id"))


def run_sweep(app: SupervisionApplication) -> dict[str, int]:
    done = app.sweep(sweep_candidates(), awaiting_post=opinions_awaiting_post())
    for change, count in done.items():
        SWEPT.labels(change).inc(count)
    if any(done.values()):
        log.info("deadline sweep: %s", done)
    return done


if __name__ == "__main__":
    from services.supervision.bootstrap import build_application
    from services.supervision.settings import SupervisionSettings
    from shared.language.readmodels import connect_read_models
    from shared.runtime.observability import configure_logging

    configure_logging("supervision-sweep")
    settings = SupervisionSettings()
    connect_read_models(settings.mongodb_uri)
    application = build_application(settings)
    try:
        print(json.dumps(run_sweep(application)))
    finally:
        application.close()
