"""PROCESS_NICENESS: a process stands back on a shared machine, every thread of it, and its session with it when it
leads one (Linux shares CPU between sessions first where autogroups are on)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = textwrap.dedent("""
    import os, threading
    from shared.runtime.priority import lower_priority
    from tests.unit.shared.test_priority import autogroup_niceness
    started = threading.Event(); done = threading.Event()
    worker = threading.Thread(target=lambda: (started.set(), done.wait()))
    worker.start(); started.wait()
    lower_priority(int(os.environ["LEVEL"]))
    later = threading.Thread(target=lambda: print("later", os.getpriority(os.PRIO_PROCESS, 0)))
    later.start(); later.join()
    print("worker", os.getpriority(os.PRIO_PROCESS, worker.native_id))
    print("main", os.getpriority(os.PRIO_PROCESS, 0))
    print("autogroup", autogroup_niceness())
    done.set()
""")
ROOT = Path(__file__).resolve().parents[3]


def autogroup_niceness() -> str:
    """The niceness of this process's autogroup, or "none". The file is missing where the kernel has no
    autogroups, and empty where the process sits in a cgroup of its own (a container), so no autogroup applies."""
    autogroup = Path("/proc/self/autogroup")
    fields = autogroup.read_text().split() if autogroup.exists() else []
    return fields[-1] if fields else "none"


def run_child(level: int, *, own_session: bool) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env={"LEVEL": str(level), "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, check=True, start_new_session=own_session).stdout
    return dict(line.split() for line in out.splitlines())


def test_every_thread_and_the_session_it_leads_stand_back():
    seen = run_child(7, own_session=True)
    assert (seen["main"], seen["worker"], seen["later"]) == ("7", "7", "7")
    assert seen["autogroup"] in ("7", "none")


def test_a_process_in_someone_elses_session_leaves_that_session_alone():
    before = autogroup_niceness()
    seen = run_child(7, own_session=False)
    assert seen["main"] == "7"
    assert seen["autogroup"] == before  # the test runner's session is not slowed down


def test_niceness_zero_changes_nothing():
    assert run_child(0, own_session=True)["main"] == str(os.getpriority(os.PRIO_PROCESS, 0))
