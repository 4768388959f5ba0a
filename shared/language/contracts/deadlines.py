"""The kinds of deadline and their Chinese names, as the bundled deadline rules name them
(services/supervision/rules/deadlines.yaml, each rule's `label`).

A step records the deadlines it stopped by their kind alone (`closed: {kind: "met" | "stopped"}`), and the pages
that show such a record — the auditors' history in the gateway's console — may not load supervision's rules
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
}
