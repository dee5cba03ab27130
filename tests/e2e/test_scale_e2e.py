"""The issue's scale check: 100,000 Plex + 100,000 Jellyfin tracks through the real CLI over HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import TRACK_FIELDS, demo_pair, run_cli

N = 100_000


@pytest.mark.slow
def test_sync_of_100k_plus_100k_tracks(tmp_path: Path) -> None:
    with demo_pair(N) as pair:
        pair.add_both(tmp_path)
        started = time.monotonic()
        r = run_cli(tmp_path, "sync", "--json")
        took = time.monotonic() - started
        assert r.code == 0, r.err
        assert r.json()["added"] == 2 * N  # type: ignore[index]
        tracks = run_cli(tmp_path, "tracks", "--json").json()
    assert isinstance(tracks, list) and len(tracks) == 2 * N
    ids = {(t["server"], t["id"]) for t in tracks}
    assert len(ids) == 2 * N
    assert all(TRACK_FIELDS <= t.keys() for t in tracks)
    assert {t["server"] for t in tracks} == {"Plex", "Jelly"}
    print(f"synced {2 * N:,} tracks in {took:.1f} s")
