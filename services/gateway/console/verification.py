"""The verification result on the auditor's case page: the case bundle the API gives an auditor
(GET /api/v1/audit/petitions/{id}/bundle, recorded as a view of personal data like any download of it), checked by
the offline verifier's own function (shared/audit/verifier.py verify_bundle) against the logs' published public
keys (GATEWAY_AUDIT_PUBLIC_KEYS_DIR: the `<service>.pub` files the checkpointer publishes; make run's
var/audit-keys).

It is a convenience, not the auditor's independent check: keys read from the platform's own folder prove only that
the logs agree with the keys the platform publishes. The page names the keys it used (to compare with the published
ones) and the offline command that proves the same bundle on the auditor's own machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.audit.verifier import verify_bundle


@dataclass
class Result:
    ok: bool
    summary: str
    problems: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # log origin -> public key (hex) used
    checked: int = 0
    unanchored: int = 0
    cosigned: list[str] = field(default_factory=list)


def public_keys(folder: Path, bundle: dict[str, Any]) -> dict[str, bytes]:
    """Each log's published key, by the service whose log it is (`<service>.pub`, 64 hex digits)."""
    keys = {}
    for log in bundle.get("logs", []):
        path = folder / f"{log.get('service')}.pub"
        if path.is_file():
            keys[str(log["origin"])] = bytes.fromhex(path.read_text(encoding="ascii").strip())
    return keys


def verify(bundle: dict[str, Any], folder: Path) -> Result:
    keys = public_keys(folder, bundle)
    if not keys:
        return Result(False, f"未找到审计日志的公钥（{folder}），无法核验")
    verdict = verify_bundle(bundle, keys)
    used = {origin: key.hex() for origin, key in keys.items()}
    if verdict.ok:
        summary = f"核验通过：{verdict.checked}个事件均在已签名的审计日志中，内容与封存时一致，事件链完整"
        if verdict.unanchored:
            summary += f"；另有{verdict.unanchored}个事件记录于最近的检查点之后，将由下一个检查点证明"
        return Result(True, summary, keys=used, checked=verdict.checked, unanchored=verdict.unanchored,
                      cosigned=sorted(verdict.cosigned))
    # The verifier's own words (English, as its offline command prints them), below a lead the auditor reads first.
    return Result(False, "核验未通过：审计证据包与已签名的审计日志检查点不一致，或者证据包不完整。以下为核验程序的原文说明，"
                  "请保存证据包并报告系统运维人员和上级信访部门", problems=list(verdict.problems), keys=used,
                  checked=verdict.checked)
