"""End-to-end fixtures: demo servers over real HTTP on loopback and a way to run the real CLI.

Nothing of our own is mocked here; faults come from the demo servers.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from app.cli.main import main
from app.demo import DemoConfig, DemoServer, start_demo_server

REPO = Path(__file__).resolve().parents[2]
# The documented keys of a track in `tracks --json` (docs/CLI.md "JSON output").
TRACK_FIELDS = frozenset(
    {
        "server",
        "library",
        "id",
        "title",
        "artist",
        "album",
        "album_artist",
        "genres",
        "year",
        "rating",
        "duration_ms",
        "track_no",
        "is_live",
        "added_at",
    }
)

# Fast retries for fault tests; the CLI reads these through Settings.load.
FAST_ENV = {
    "ZONDARR_RETRY_BACKOFF_S": "0.01",
    "ZONDARR_REQUEST_TIMEOUT_S": "5",
    "ZONDARR_CONNECT_TIMEOUT_S": "2",
}


class MemoryKeyring(KeyringBackend):
    """An in-process keychain so tests never touch a real one (PLATFORM-NOTES: keyring headless)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


@pytest.fixture(scope="session", autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """One in-memory keychain for the whole session (module fixtures add servers that later tests use)."""
    ring = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    saved = {name: os.environ.get(name) for name in FAST_ENV}
    os.environ.update(FAST_ENV)
    yield ring
    keyring.set_keyring(previous)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


def run_cli(
    data_dir: Path,
    *args: str,
    stdin: str = "",
    env: dict[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> CliResult:
    """Runs the real CLI in this process (same code path as the `zondarr` script); ``clock`` is the time its
    services and stores see (a test moves it forward instead of sleeping)."""
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    old_env = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--data-dir", str(data_dir), *args], clock=clock)
    finally:
        sys.stdin = old_stdin
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return CliResult(code, out.getvalue(), err.getvalue())


def spawn_cli(
    data_dir: Path, *args: str, env: dict[str, str] | None = None, **kw: object
) -> subprocess.Popen[str]:
    """Starts `python -m app` in a child process (for kill and concurrency tests). File-backed secrets there."""
    full_env = {
        **os.environ,
        **FAST_ENV,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir), *args],
        cwd=REPO,
        env=full_env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kw,  # type: ignore[arg-type]
    )


@dataclass
class DemoPair:
    plex: DemoServer
    jellyfin: DemoServer

    def add_both(self, data_dir: Path) -> None:
        r = run_cli(data_dir, "settings", "set", "plex_tv_url", self.plex.url)
        assert r.code == 0, r.err
        r = run_cli(
            data_dir,
            "server",
            "add",
            "--kind",
            "plex",
            "--name",
            "Plex",
            "--url",
            self.plex.url,
            "--token-stdin",
            stdin="demo-plex-token\n",
        )
        assert r.code == 0, r.err
        r = run_cli(
            data_dir,
            "server",
            "add",
            "--kind",
            "jellyfin",
            "--name",
            "Jelly",
            "--url",
            self.jellyfin.url,
            "--token-stdin",
            stdin="demo-jellyfin-key\n",
        )
        assert r.code == 0, r.err


@contextlib.contextmanager
def demo_pair(tracks: int, **kw: object) -> Iterator[DemoPair]:
    plex = start_demo_server(DemoConfig(kind="plex", tracks=tracks, **kw))  # type: ignore[arg-type]
    jellyfin = start_demo_server(DemoConfig(kind="jellyfin", tracks=tracks, **kw))  # type: ignore[arg-type]
    try:
        yield DemoPair(plex, jellyfin)
    finally:
        plex.stop()
        jellyfin.stop()
