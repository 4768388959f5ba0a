"""What notification refuses of an officer (a re-send, a posting): `code` for machines, `message` in Chinese for
people. The RPCs answer it as supervision's `perform` answers a refused command (services/supervision/service.py):
{"ok": false, "http_status": 4xx, "problem": {"error": code, "message": 中文}}, so the gateway can show it."""

from __future__ import annotations

from typing import Any


class NoticeError(Exception):
    http_status = 409

    def __init__(self, code: str, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if http_status is not None:
            self.http_status = http_status

    def as_problem(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}

    def as_refusal(self) -> dict[str, Any]:
        """The RPC's answer (not a remote error: a refusal is the caller's to show)."""
        return {"ok": False, "http_status": self.http_status, "problem": self.as_problem()}


class UnknownNotice(NoticeError):
    http_status = 404

    def __init__(self, message: str = "没有这份告知") -> None:
        super().__init__("unknown_notice", message)
