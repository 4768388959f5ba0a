"""The deadline sweep: finalize cases whose review (re-review) window passed unused (终结; 2022 Regulations
Arts. 35-36) — one whose answer goes to the petitioner by e-mail, SMS or post only once its window counts from the
answer's receipt (`answers_to_receive`) — and recount provisional deadlines once the holiday table covers their
year.

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
from shared.language.contracts.notices import RECEIPT_CHANNELS

log = logging.getLogger(__name__)

SWEPT = Counter("xinfang_deadline_sweep_total", "Cases changed by the deadline sweep", ["change"])
DEFAULT_INTERVAL = 3600.0  # seconds; windows are whole days, an hour's delay is invisible


def sweep_candidates(limit: int = 10_000) -> list[str]:
    from shared.language.readmodels import CaseView  # noqa: PLC0415 - the read side where it is used (no Mongo at import)

    open_with_provisional = Q(deadlines__provisional=True) & Q(status__nin=[s.value for s in TERMINAL])
    awaiting_request = Q(status__in=[s.value for s in AWAITING_REVIEW_REQUEST])
    found = CaseView.objects(awaiting_request | open_with_provisional).only("petition_id")
    return [view.petition_id for view in found.order_by("registered_at").limit(limit)]  # oldest first


RECORDS = "notice_records"  # notification's notice-record projection (services/notification/records.py)


def answers_to_receive() -> frozenset[str] | None:
    """The cases whose written answer (处理意见书, 复查意见书) goes to the petitioner by e-mail, SMS or post, as
    notification's notice records say: such a case is finalized only once its window counts from the answer's
    receipt — delivered, or presumed after posting (Case.finalize_if_window_passed `needs_receipt`) — never on the
    provisional count from the issuing day: a letter not yet posted, an SMS that failed and waits to be re-sent,
    have not reached the petitioner, so the window cannot pass unused (Arts. 35, 36: 自收到之日起). An anonymous
    report's answer (the status page only) is finalized on the provisional count. Which channels an answer goes on
    is fixed when its notice is requested, seconds after it is issued, 30 days before its window can pass; None
    while the records are being rebuilt (their projection has no position yet): then no case is finalized."""
    from shared.language.readmodels import MongoPosition, NoticeRecord  # noqa: PLC0415 - no Mongo at import

    if MongoPosition(RECORDS).get() == 0:
        return None
    return frozenset(NoticeRecord.objects(kind__in=list(WINDOWS), channels__in=list(RECEIPT_CHANNELS))
                     .distinct("petition_id"))


def run_sweep(app: SupervisionApplication) -> dict[str, int]:
    done = app.sweep(sweep_candidates(), to_receive=answers_to_receive())
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
