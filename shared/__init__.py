"""The shared kernel: the published language, the event-store and messaging kernel, settings and observability.

Importing it under nameko's eventlet (which monkey-patches the standard library before services are imported)
selects psycopg's `wait_select` wait function. psycopg's C build otherwise waits for the server inside C code,
stalling every green thread of the process for the length of each query (measured: ten concurrent 0.3 s
queries took 3.3 s instead of 0.43 s). It must happen before psycopg is first imported, which is why it lives
here: every service module imports the kernel before anything that imports psycopg.
"""

import os as _os
import sys as _sys


def _running_under_eventlet() -> bool:
    patcher = _sys.modules.get("eventlet.patcher")
    return bool(patcher and patcher.is_monkey_patched("socket"))


if _running_under_eventlet():
    if "psycopg" in _sys.modules and _os.environ.get("PSYCOPG_WAIT_FUNC") != "wait_select":
        raise RuntimeError("psycopg was imported before shared/: set PSYCOPG_WAIT_FUNC=wait_select in the environment")
    _os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
