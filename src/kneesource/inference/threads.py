"""When compiled work runs on worker threads, and one launch of it at a time.

numba runs a parallel function on its threading layer: OpenMP or TBB when the machine has
their runtime, otherwise its own work queue, which aborts the process when two threads launch
parallel work at once (a server scoring two requests in its thread pool). A launch already uses
every core, so waiting for the one before it costs no throughput; serial compiled functions
need no lock (they release the GIL and share nothing).

A process can also give up worker threads for good (``single_threaded``): a batch's worker
processes each have a core of their own, and numba terminates a process forked from one that
has used GNU OpenMP as soon as it launches parallel work.
"""

from __future__ import annotations

import threading

PARALLEL_LAUNCH = threading.Lock()
_allowed = True


def single_threaded() -> None:
    """From now on this process runs every compiled function on its own thread."""
    global _allowed
    _allowed = False


def allowed() -> bool:
    """Whether this process may run compiled work on worker threads."""
    return _allowed
