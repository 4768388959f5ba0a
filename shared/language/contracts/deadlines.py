"""The kinds of deadline and their Chinese names, as the bundled deadline rules name them
(services/supervision/rules/deadlines.yaml, each rule's `label`).

A step records the deadlines it stopped by their kind alone (`closed: {kind: "met" | "late" | "stopped"}`), and the
pages that show such a record — the auditors' history in the gateway's console — may not load supervision's rules
(tests/unit/gateway/test_gateway_imports.py): they name a kind from here. A deadline a step opened carries the
label it was computed with (a county's own rules file, DEADLINE_RULES_FILE, may word it differently), which those
pages prefer. tests/unit/gateway/test_console.py keeps this table equal to the bundled rules file.
"""

from __future__ import annotations

DEADLINE_LABELS: dict[str, str] = {
    "triage": "转送交办期限",
    "major_report": "重大紧急事项报告期限",
    "acceptance": "受理告知期限",
    "objection": "异议期限",
    "handling": "办理期限",
    "extension": "延长办理期限",
    "simplified_acceptance": "简易办理受理期限",
    "simplified_handling": "简易办理期限",
    "assignment_report": "交办事项办结报告期限",
    "review_request": "申请复查期限",
    "review": "复查期限",
    "re_review_request": "申请复核期限",
    "re_review": "复核期限",
    "supervision_response": "督办答复期限",
    "leader_ownership": "包案化解期限",
    "province_report": "上级交办事项报告期限",
}

# How a deadline ended. A duty done after its day is recorded `late` (with by how many days, the step's
# `details.late_days`), not refused: the organ must still handle the matter (《信访工作条例》第四十四条 holds it to
# account for the delay; it does not excuse it from the duty). A deadline still open after its day is overdue.
DEADLINE_OUTCOMES = ("met", "late", "stopped")

# The deadlines that are someone's duty, and who holds each: the case's key naming the organ that must act by it,
# or None for the bureau's own (triage, the report of a major matter). The platform reminds the holder before the
# day and records the breach after it (services/supervision/watch.py). The others are rights that lapse unused —
# the organ's objection (5 working days), the petitioner's review and re-review requests — and are never late.
DEADLINE_HOLDERS: dict[str, str | None] = {
    "triage": None,
    "major_report": None,
    "acceptance": "organ",
    "simplified_acceptance": "organ",
    "handling": "organ",
    "simplified_handling": "organ",
    "assignment_report": "organ",
    "review": "review_organ",
    "re_review": "re_review_organ",
    "supervision_response": "supervised_organ",  # the organ a supervision order is addressed to
    "leader_ownership": None,  # the bureau watches the leader's own day
    "province_report": None,  # the bureau reports to the province that assigned the matter, by the province's day
}
