"""Delta refresh (DESIGN §4.2), end to end through the real CLI and client libraries against an in-process demo
server whose clock the test moves: after every refresh the cache equals what a complete listing gives.

Two data folders sync the same server: ``delta`` with plain ``sync`` (a refresh asks only for what changed),
``full`` with ``sync --full``. Their tracks and albums must be equal after each step of random edits.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.demo import DemoConfig, DemoServer, start_demo_server
from app.demo.words import GENRES
from tests.e2e.conftest import run_cli

START = 1_800_000_000.0
STEP_S = 500.0  # the server's clock moves this much between edits (more than the refresh's safety margin)
PAGE = {"ZONDARR_PAGE_SIZE": "10"}  # small pages: a 40-track library takes several

Edit = tuple[str, int, int]
edits = st.tuples(
    st.sampled_from(["edit", "rate", "add", "delete", "album", "identity"]),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@contextmanager
def _world(kind: str) -> Iterator[tuple[DemoServer, Clock, Path, Path]]:
    clock = Clock()
    with (
        start_demo_server(DemoConfig(kind=kind, tracks=40, users=1, seed=5)) as server,
        tempfile.TemporaryDirectory(prefix="zondarr-delta-") as tmp,
    ):
        server.edits.clock = clock
        delta, full = Path(tmp, "delta"), Path(tmp, "full")
        for data in (delta, full):
            _add(data, server)
        yield server, clock, delta, full


def _add(data: Path, server: DemoServer) -> None:
    kind = server.config.kind
    run_cli(data, "settings", "set", "plex_tv_url", server.url)
    r = run_cli(
        data, "server", "add", "--kind", kind, "--name", "S", "--url", server.url, "--token-stdin",
        stdin=server.config.effective_token + "\n",
    )  # fmt: skip
    assert r.code == 0, r.err


def _sync_libraries(data: Path, *extra: str, page: str = "10") -> list[dict[str, object]]:
    r = run_cli(data, "sync", "--json", *extra, env={"ZONDARR_PAGE_SIZE": page})
    assert r.code == 0, (r.out, r.err)
    (server,) = r.json()["servers"]  # type: ignore[index]
    return list(server["libraries"])


def _sync(data: Path, *extra: str) -> dict[str, str]:
    return {str(lib["key"]): str(lib["mode"]) for lib in _sync_libraries(data, *extra)}


def _cache(data: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    conn = sqlite3.connect(data / "cache.sqlite3")
    try:
        tracks = conn.execute(
            "SELECT l.key, t.remote_id, t.title, t.artist, t.album, t.album_artist, t.album_remote_id, t.genre, "
            "t.genres, t.year, t.rating, t.duration_ms, t.track_no, t.disc_no, t.is_live, t.added_at "
            "FROM tracks t JOIN libraries l ON l.id = t.library_id ORDER BY t.remote_id"
        ).fetchall()
        albums = conn.execute(
            "SELECT l.key, a.remote_id, a.title, a.artist, a.year, a.genres "
            "FROM albums a JOIN libraries l ON l.id = a.library_id ORDER BY a.remote_id"
        ).fetchall()
    finally:
        conn.close()
    return tracks, albums


def _apply(server: DemoServer, edit: Edit) -> str:
    """Applies one edit; returns what a refresh must do: "delta", "full" (identity changed) or "deleted"."""
    op, a, b = edit
    lib, ed = server.library, server.edits
    live, _ = ed.track_slice(range(lib.libraries), 0, None)
    i = live[a % len(live)]
    if op == "edit":
        ed.edit_track(i, title=f"Edited {b}")
    elif op == "rate":
        ed.rate_track(i, None if b % 5 == 0 else (b % 21) / 2)
    elif op == "add":
        ed.add_track(a % lib.album_count, f"Added {b}")
    elif op == "delete" and len(live) > 2:
        ed.delete_track(i)
        return "deleted"
    elif op == "album":
        ed.edit_album(a % lib.album_count, genres=(GENRES[b % len(GENRES)],), year=1950 + b % 70)
    elif op == "identity":  # another installation answers at the URL (or the first one again)
        server.set_faults("" if server.fault_rules else "identity:identity-change")
        return "full"
    return "delta"


@settings(
    max_examples=100,
    deadline=None,
    # Each example runs real syncs: shrinking a failure would take many minutes, the printed example is enough.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(["plex", "jellyfin"]),
    steps=st.lists(st.lists(edits, max_size=3), min_size=1, max_size=3),
)
def test_after_each_refresh_the_cache_equals_a_complete_listing(kind: str, steps: list[list[Edit]]) -> None:
    with _world(kind) as (server, clock, delta, full):
        assert set(_sync(delta).values()) == {"full"}  # the first sync lists everything
        for step in steps:
            outcomes, identity = set(), server.machine_id
            for edit in step:
                clock.now += STEP_S
                outcomes.add(_apply(server, edit))
            clock.now += STEP_S
            outcomes.discard("full")  # two identity changes may cancel out: what counts is the one synced
            if server.machine_id != identity:
                outcomes.add("full")
            modes = _sync(delta)
            _sync(full, "--full")
            assert _cache(delta) == _cache(full)
            if outcomes <= {"delta", "deleted"}:  # a deletion is found without listing the library again
                assert set(modes.values()) == {"delta"}, (step, modes)
            if "full" in outcomes:
                assert set(modes.values()) == {"full"}


def test_a_refresh_is_complete_again_after_full_sync_days(tmp_path: Path) -> None:
    with _world("plex") as (server, clock, delta, _):
        assert set(_sync(delta).values()) == {"full"}
        assert set(_sync(delta).values()) == {"delta"}
        r = run_cli(delta, "settings", "set", "full_sync_days", "0")
        assert r.code == 0, r.err
        assert set(_sync(delta).values()) == {"full"}


def test_a_failed_refresh_leaves_the_cache_and_its_mark_as_they_were() -> None:
    with _world("plex") as (server, clock, delta, _):
        _sync(delta)
        before = _cache(delta)
        clock.now += STEP_S
        edited = server.edits.edit_track(3, title="Edited later")
        server.set_faults("tracks:500")
        r = run_cli(delta, "sync", "--json", env={**PAGE, "ZONDARR_RETRIES": "0"})
        server.set_faults("")
        assert r.code == 1 and _cache(delta) == before
        clock.now += STEP_S
        assert set(_sync(delta).values()) == {"delta"}  # still asks from the last good listing on
        titles = {row[1]: row[2] for row in _cache(delta)[0]}
        assert titles[edited.plex_id] == "Edited later"


@pytest.mark.parametrize("kind", ["plex", "jellyfin"])
def test_an_edit_an_add_and_a_delete_per_library_cost_a_handful_of_requests(kind: str) -> None:
    """3,000 tracks in 2 libraries, pages of 100: a complete listing is 15+ pages per library. After one edit,
    one add and one delete in each, the refresh stays a delta, finds the deletion with count-only probes and a
    single id request, and leaves the cache equal to a complete listing."""
    clock = Clock()
    config = DemoConfig(kind=kind, tracks=3000, libraries=2, users=1, seed=9)
    with start_demo_server(config) as server, tempfile.TemporaryDirectory(prefix="zondarr-delta-") as tmp:
        server.edits.clock = clock
        delta, full = Path(tmp, "delta"), Path(tmp, "full")
        for data in (delta, full):
            _add(data, server)
        assert {lib["mode"] for lib in _sync_libraries(delta, page="100")} == {"full"}
        lib, ed = server.library, server.edits
        clock.now += STEP_S
        for n in range(lib.libraries):
            lo, hi = lib.track_range(n)
            ed.edit_track(lo + 7, title=f"Edited {n}")
            ed.add_track(lib.album_range(n)[0] + 3, f"Added {n}")
            ed.delete_track(lo + (hi - lo) // 2)
        clock.now += STEP_S
        libraries = _sync_libraries(delta, page="100")
        _sync(full, "--full")
        assert _cache(delta) == _cache(full)
        for info in libraries:
            assert (info["mode"], info["deleted"]) == ("delta", 1), info
            # counts + the changed pages + about log2(1500 / 100) probes + one id request
            assert int(info["requests"]) <= 16, info  # type: ignore[call-overload]
            assert int(info["fetched"]) <= 110, info  # type: ignore[call-overload]
