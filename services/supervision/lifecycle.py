"""The lifecycle as supervision enforces it: who may take which step from which states, and the refusals.

The steps are declared once, in the platform's language (shared/language/contracts/lifecycle.py, docs/domain.md
§"Lifecycle"); the Case aggregate (domainmodel.py, case/) enforces this table, the gateway shows it to officers
(allowed actions per case), and an illegal step is refused with the current state and what is allowed, in Chinese.
"""

from __future__ import annotations

from shared.language.contracts.lifecycle import (
    AWAITING_REVIEW_REQUEST,
    NOT_TERMINAL,
    STATUS_TEXT,
    STEPS,
    TERMINAL,
    TRIAGE,
    UNDER_HANDLING,
    Party,
    Status,
    Step,
)

__all__ = [
    "ACTIONS", "AWAITING_REVIEW_REQUEST", "NOT_TERMINAL", "STATUS_TEXT", "TERMINAL", "TRIAGE", "UNDER_HANDLING",
    "CaseError", "IllegalTransition", "InvalidCommand", "NotPermitted", "Party", "RuleViolation", "Status",
    "allowed_actions",
]

# The steps someone takes (a party's decision, checked); the facts the platform records are not among them.
ACTIONS: dict[str, Step] = {name: step for name, step in STEPS.items() if step.parties}


def allowed_actions(status: Status) -> list[str]:
    """The actions open in `status`, for people (automatic ones left out)."""
    return [name for name, action in ACTIONS.items()
            if status in action.allowed_from and action.parties != {Party.SYSTEM}]


class CaseError(Exception):
    """A command the case refuses; `code` for machines, `message` in Chinese for people."""

    http_status = 409

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def as_problem(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message, **self.details}


class IllegalTransition(CaseError):
    """A step not open in the case's state. `allowed`: the actions the caller may take now (the Case's `can`), which
    the refusal lists; None: every action open in the state, whoever takes it."""

    def __init__(self, action: str, status: Status, allowed: list[str] | None = None) -> None:
        allowed = allowed_actions(status) if allowed is None else allowed
        texts = "、".join(ACTIONS[a].text for a in allowed) or (
            "无（办理已结束）" if status in TERMINAL else "无（待其他机关或者信访部门办理）")
        super().__init__(
            "illegal_transition",
            f"当前状态为“{STATUS_TEXT[status]}”，不能{ACTIONS[action].text}。您当前可以：{texts}",
            status=status.value, action=action, allowed_actions=allowed)


class NotPermitted(CaseError):
    http_status = 403


class RuleViolation(CaseError):
    """The step is legal in this state but breaks a statutory rule (a window passed, a limit exceeded): 409."""


class InvalidCommand(CaseError):
    http_status = 422
