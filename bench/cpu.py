"""CPU time per process group on this machine (Linux /proc), to attribute a run's cost to components."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def component(command: str, name: str) -> str:
    if name.startswith("postgres"):
        return "postgresql"
    if name == "beam.smp":
        return "rabbitmq"
    if "secantusd" in command:
        return "read models (SecantusDB)"
    if "aiosmtpd" in command:
        return "mail server (aiosmtpd)"
    if "services." in command:
        return command.split("services.")[-1].split()[0].removesuffix(":create_app")
    if "python" in command:
        return "load generator"
    return "other"


def snapshot() -> dict[str, float]:
    """CPU seconds used so far, by component, over every process on the machine."""
    used: dict[str, float] = {}
    listing = subprocess.run(["ps", "-eo", "pid=,comm=,args="], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        pid, name, command = (line.split(None, 2) + ["", ""])[:3]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        key = component(command, name)
        used[key] = used.get(key, 0.0) + (int(fields[11]) + int(fields[12])) / TICKS
    return used


def per_item(before: dict[str, float], after: dict[str, float], items: int) -> dict[str, float]:
    """Milliseconds of CPU per item, by component, largest first."""
    spent = {k: (after[k] - before.get(k, 0.0)) * 1000 / max(items, 1) for k in after}
    return dict(sorted(((k, v) for k, v in spent.items() if v >= 0.05), key=lambda kv: -kv[1]))
