"""The case file (案卷) in the case view: what each lifecycle step said, and the opinions addressed to the petitioner.

Every step's details are kept as recorded (the opinion, the reasons, the explanation, who approved an extension, the
hearing's dates, the handling step's summary ...), with who took it, when and under which basis: the officers' case
file, which the gateway shows each role as docs/security.md §"What each role sees" allows. The opinions (处理意见,
复查意见, 复核意见) are also kept apart, with the organ that issued them: the petitioner reads them in the status view.
None of it leaves supervision on the events exchange (translate.py publishes an allow-list without free text).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.language.chinatime import local_date
from shared.language.contracts.lifecycle import STEPS
from shared.language.contracts.registration import CHANNEL_LABELS, Channel, received_day
from shared.language.readmodels import CaseFileEntry, CaseView, Opinion, Organ

OPINION_LABELS = {"reply": "处理意见", "review": "复查意见", "re_review": "复核意见"}
# Which step named the organ that issues an opinion of each level (the reply's is the organ handling the case).
ISSUING_ORGAN = {"review": ("open_review", "review_organ"), "re_review": ("open_re_review", "re_review_organ")}


def registered_text(channel: str, received_at: str | None) -> str:
    """The first line of the petitioner's timeline: how the item came, and when it was received if the counter
    said (a letter registered days after it arrived)."""
    how = CHANNEL_LABELS[Channel(channel)]
    if not received_at:
        return f"信访事项已登记（{how}）"
    day = received_day(received_at)
    return f"信访事项已登记（{how}，{day.year}年{day.month}月{day.day}日收到）"


def _issuing_organ(view: CaseView, level: str) -> Organ | None:
    if level not in ISSUING_ORGAN:
        return view.organ
    step, key = ISSUING_ORGAN[level]
    opened = next((e for e in reversed(view.case_file) if e.step == step and e.said.get(key)), None)
    return Organ(code=opened.said[key]["code"], name=opened.said[key]["name"]) if opened else None


def file_step(view: CaseView, event: Any) -> None:
    """Add one lifecycle step (a Case.Transitioned event) to the view's case file, and its opinion if it issued one.
    Call it after the view took the step's organ, so that a reply is filed under the organ that gave it."""
    step = STEPS.get(event.action)
    at = datetime.fromisoformat(event.at)
    view.case_file.append(CaseFileEntry(at=at, step=event.action, text=step.text if step else event.action,
                                        status=event.status, actor=dict(event.actor), basis=event.basis,
                                        said=dict(event.details)))
    d = event.details
    level = d.get("level")
    if level in OPINION_LABELS and "opinion" in d:  # a rating names the level it rates, but has no opinion
        view.opinions.append(Opinion(level=level, label=OPINION_LABELS[level], organ=_issuing_organ(view, level),
                                     outcome=d["outcome"], outcome_text=d.get("outcome_text") or d["outcome"],
                                     opinion=d["opinion"], on=d.get("on") or local_date(at).isoformat(), at=at))
