"""`make run`'s Procfile: honcho runs each line with `sh -c`, and dash forks for a command rather than becoming it.
Honcho would then signal and wait for the shell, which dies at once on SIGTERM while the process it started goes
on stopping (or hangs) unseen, holding its ports; the next `make run` could not bind them. So every line `exec`s:
the process is the one honcho signals, waits for, and kills after its grace period."""

from __future__ import annotations

from tests.support.platform import procfile_commands


def test_every_process_is_the_one_honcho_starts():
    commands = procfile_commands()

    assert {"mailsink", "intake", "notification", "gateway"} <= set(commands)
    assert [name for name, command in commands.items() if not command.startswith("exec ")] == []
