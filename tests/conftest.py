"""The whole test session: the user's profile is never touched, secrets registered by one test do not leak into
the next, and hypothesis runs every property at least 100 times unless asked for a quick local run.

Qt (QSettings, QStandardPaths) and platformdirs read the XDG folders when they first need them, so they are
pointed at a temporary folder here, when pytest loads this file, before any test imports Qt.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from app.core.errors import KNOWN_SECRETS

SESSION_HOME = Path(tempfile.mkdtemp(prefix="zondarr-test-session-"))
XDG_DIRS = {
    "XDG_CONFIG_HOME": SESSION_HOME / "config",
    "XDG_DATA_HOME": SESSION_HOME / "data",
    "XDG_CACHE_HOME": SESSION_HOME / "cache",
    "XDG_STATE_HOME": SESSION_HOME / "state",
}
for _name, _path in XDG_DIRS.items():
    _path.mkdir(parents=True, exist_ok=True)
    os.environ[_name] = str(_path)

# What a test run used to write in the real profile; the session checks at the end that none of it changed.
REAL_HOME = Path.home()
WATCHED = (REAL_HOME / ".config" / "Zondarr", REAL_HOME / ".config" / "QtProject.conf")


def _state(path: Path) -> tuple[bool, int]:
    try:
        return True, path.stat().st_mtime_ns
    except OSError:
        return False, 0


HOME_BEFORE = {p: _state(p) for p in WATCHED}

# Every property runs at least 100 examples (the CI default); ZONDARR_HYPOTHESIS_PROFILE=quick runs 20 for a
# quick local loop. Tests leave max_examples to the profile.
settings.register_profile("ci", max_examples=100)
settings.register_profile("quick", max_examples=20)
settings.load_profile(os.environ.get("ZONDARR_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _reset_known_secrets() -> Iterator[None]:
    """A test's registered secrets end with it (those of wider fixtures, set up before, are kept)."""
    before = KNOWN_SECRETS.values()
    yield
    KNOWN_SECRETS.clear()
    for value in before:
        KNOWN_SECRETS.register(value)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A warning, not a failure: on a shared machine another process may write there meanwhile.
    changed = [str(p) for p in WATCHED if _state(p) != HOME_BEFORE[p]]
    if changed:
        print(
            f"\nWarning: {', '.join(changed)} changed during the test session (this run or another process)."
        )
    shutil.rmtree(SESSION_HOME, ignore_errors=True)
