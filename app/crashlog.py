"""Crash safety: a hard crash (segfault, abort, a fatal Python error) leaves its stack in the log folder, and the
next start mentions it once.

``faulthandler`` writes the traceback of every thread into ``<logs>/crash.log`` when the process dies of a
fatal signal; Python cannot run anything else then, so the file is the only trace. At the next start
``arm`` finds a non-empty ``crash.log``, renames it ``crash-<UTC time>.log`` (the diagnostics bundle includes
the latest one: ``services.bundle.latest_crash_report``) and returns it: the window tells the admin once,
offering "Save diagnostics bundle"; later starts find the renamed file and say nothing.

Main thread, at start-up, before the window; the handle stays open for the life of the process.
"""

from __future__ import annotations

import faulthandler
import logging
import time
from pathlib import Path
from typing import IO

CRASH_FILE = "crash.log"
log = logging.getLogger(__name__)
_handle: IO[str] | None = None  # faulthandler writes through this descriptor at crash time: keep it open


def arm(log_dir: Path) -> Path | None:
    """Enables ``faulthandler`` into ``log_dir/crash.log``. Returns the report of a crash of the previous run
    (renamed, mentioned once), or None. Never raises: without a writable log folder there is just no report."""
    global _handle
    previous: Path | None = None
    path = log_dir / CRASH_FILE
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > 0:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(path.stat().st_mtime))
            previous = path.with_name(f"crash-{stamp}.log")
            path.replace(previous)
        if _handle is not None:
            _handle.close()
        _handle = path.open("w", encoding="utf-8")
        faulthandler.enable(_handle, all_threads=True)
    except OSError as exc:
        log.warning("crash reports are off: %s", type(exc).__name__)
    return previous
