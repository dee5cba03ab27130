"""Crash safety: a real fatal error in a child process leaves its stack in crash.log; the next start reports
it once, and the start after says nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app import crashlog
from app.services.bundle import latest_crash_report


def test_a_crash_is_written_and_mentioned_once(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    child = (
        "import ctypes, sys; from pathlib import Path; from app import crashlog; "
        f"crashlog.arm(Path({str(logs)!r})); ctypes.string_at(0)"  # reads address 0: SIGSEGV
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=60)
    assert done.returncode != 0
    assert "Fatal Python error" in (logs / "crash.log").read_text()

    report = crashlog.arm(logs)  # the next start
    assert report is not None and report.name.startswith("crash-") and "Segmentation" in report.read_text()
    assert latest_crash_report(logs) == report  # what the diagnostics bundle includes
    assert crashlog.arm(logs) is None  # mentioned once: this run did not crash
