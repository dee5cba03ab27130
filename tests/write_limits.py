"""Running a snippet of Python in a child process whose files cannot grow past a few bytes (``RLIMIT_FSIZE``).

That is how a full disk looks to the code that writes: ``write()`` fails with ``EFBIG`` (SIGXFSZ is ignored so the
child is not killed). Root ignores permission bits, so a read-only folder cannot simulate it in CI; the limit
works for every user. POSIX only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_PRELUDE = """
import json, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
def limit_file_size(n):
    resource.setrlimit(resource.RLIMIT_FSIZE, (n, resource.RLIM_INFINITY))
def report(**kw):
    print("RESULT " + json.dumps(kw))
"""

needs_rlimit = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")


def run_limited(code: str, *args: str, timeout: float = 60) -> tuple[dict[str, object], str]:
    """Runs ``code`` (which may call ``limit_file_size(n)`` and must call ``report(**values)``) in a child
    Python with ``args`` as ``sys.argv[1:]``; returns the reported values and the child's stderr."""
    script = _PRELUDE + textwrap.dedent(code)
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"child reported nothing (exit {proc.returncode}):\n{proc.stderr}"
    return json.loads(lines[-1][len("RESULT ") :]), proc.stderr
