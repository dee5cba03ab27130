"""Real processes: SIGKILL in the middle of a sync, and two syncs at once on one data dir."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from app.core.filters import TrackFilter, TrackSort
from app.demo import DemoConfig, start_demo_server
from app.storage import open_cache
from tests.e2e.conftest import spawn_cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and fcntl locks")
SLOW = {"ZONDARR_PAGE_SIZE": "100"}
# Seconds after the child printed "fetching": early fetch, late fetch, around the merge, after the commit.
KILL_DELAYS = (0.0, 0.3, 0.6, 0.8, 1.0, 1.2, 1.6)


def add_plex(data: Path, url: str) -> None:
    p = spawn_cli(data, "settings", "set", "plex_tv_url", url)
    assert p.wait(60) == 0, p.stderr.read() if p.stderr else ""
    p = spawn_cli(
        data,
        "server",
        "add",
        "--kind",
        "plex",
        "--name",
        "Plex",
        "--url",
        url,
        "--token-stdin",
        stdin=__import__("subprocess").PIPE,
    )
    out, err = p.communicate("demo-plex-token\n", timeout=60)
    assert p.returncode == 0, err


def cached_ids(data: Path) -> frozenset[str]:
    cache = open_cache(data)
    try:
        assert cache.integrity_check() == "ok"
        return frozenset(t.remote_id for t in cache.tracks.query(TrackFilter(), TrackSort()))
    finally:
        cache.close()


def wait_for_line(proc, needle: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if needle in line:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"process ended before {needle!r}")
    raise AssertionError(f"no {needle!r} within {timeout}s")


def test_sigkill_mid_sync_leaves_one_complete_library(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_demo_server(DemoConfig(kind="plex", tracks=3000))
    port = int(first.url.rsplit(":", 1)[1])
    try:
        add_plex(data, first.url)
        p = spawn_cli(data, "sync", env=SLOW)
        assert p.wait(120) == 0, p.stderr.read() if p.stderr else ""
        old = cached_ids(data)
        assert len(old) == 3000
    finally:
        first.stop()
    second = start_demo_server(DemoConfig(kind="plex", tracks=4000, port=port, faults="any:latency=0.01"))
    try:
        outcomes: list[frozenset[str]] = []
        for delay in KILL_DELAYS:
            proc = spawn_cli(data, "sync", env=SLOW)
            wait_for_line(proc, "fetching")
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            outcomes.append(cached_ids(data))  # integrity_check() == "ok" is asserted inside
        proc = spawn_cli(data, "sync", env=SLOW)
        assert proc.wait(180) == 0, proc.stderr.read() if proc.stderr else ""
        new = cached_ids(data)
        assert len(new) == 4000 and new != old
        for delay, ids in zip(KILL_DELAYS, outcomes, strict=True):
            assert ids in (old, new), f"a mix after a kill at +{delay}s: {len(ids)} tracks"
            print(f"kill at +{delay}s: {'new' if ids == new else 'old'} library")
    finally:
        second.stop()


def test_two_syncs_at_once_one_says_already_syncing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with start_demo_server(DemoConfig(kind="plex", tracks=2000, faults="tracks:latency=0.05")) as server:
        add_plex(data, server.url)
        a = spawn_cli(data, "sync", env=SLOW)
        b = spawn_cli(data, "sync", env=SLOW)
        out_a, err_a = a.communicate(timeout=180)
        out_b, err_b = b.communicate(timeout=180)
        codes = sorted([a.returncode, b.returncode])
        assert codes == [0, 1], (err_a, err_b)
        loser_err = err_a if a.returncode == 1 else err_b
        assert "already syncing" in loser_err.lower()
        assert len(cached_ids(data)) == 2000
