"""What a sync may never do to the cache, over real HTTP against the demo servers (DESIGN §4.1, §4.6):
an identity change is replaced only by a successful listing, a listing that would remove most of a library (or
a library that vanished) is held, and the summaries say what happened to each server. After every failed or
held run, ``tracks --json`` is exactly what it was before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.demo.server import DemoConfig, DemoServer, start_demo_server
from tests.e2e.conftest import DemoPair, demo_pair, run_cli

PAGE_ENV = {"ZONDARR_PAGE_SIZE": "50"}


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DemoPair]]:
    data = tmp_path_factory.mktemp("safety")
    with demo_pair(400) as pair:
        pair.add_both(data)
        r = run_cli(data, "sync", env=PAGE_ENV)
        assert r.code == 0, r.err
        yield data, pair


def _tracks(data: Path) -> object:
    return run_cli(data, "tracks", "--json").json()


def _sync_json(data: Path, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = run_cli(data, "sync", *args, "--json", env=PAGE_ENV)
    assert "Traceback" not in r.err, r.err
    return r.code, r.json()  # type: ignore[return-value]


def test_identity_change_with_a_failing_listing_keeps_the_old_rows_and_says_so(synced) -> None:  # type: ignore[no-untyped-def]
    data, pair = synced
    before = _tracks(data)
    pair.plex.set_faults("identity:identity-change;tracks:500@1")
    try:
        code, out = _sync_json(data, "Plex")
        assert code == 1 and out["status"] == "failed"
        assert "different installation" in out["servers"][0]["message"]
        assert _tracks(data) == before
        pair.plex.set_faults("identity:identity-change")
        code, out = _sync_json(data, "Plex")
        # plex.tv does not know the new machine, so its users may not be read: the tracks are what counts here
        assert code in (0, 3) and out["servers"][0]["status"] in ("succeeded", "partial"), out
        assert "old cached data was replaced" in out["servers"][0]["message"]
        assert out["servers"][0]["added"] == 400  # the old rows went in the same commit as the new listing
    finally:
        pair.plex.set_faults("")
    code, out = _sync_json(data, "Plex")  # back to the first installation: replaced again
    assert code in (0, 3) and "replaced" in out["servers"][0]["message"], out


def test_a_vanished_library_is_held_and_its_tracks_kept(synced) -> None:  # type: ignore[no-untyped-def]
    data, pair = synced
    before = _tracks(data)
    pair.jellyfin.set_faults("libraries:empty")
    try:
        code, out = _sync_json(data, "Jelly")
    finally:
        pair.jellyfin.set_faults("")
    assert code == 3 and out["status"] == "held", out
    [server] = out["servers"]
    assert server["status"] == "held"
    assert "is no longer on Jelly; its 200 cached tracks were kept" in server["message"], server
    assert _tracks(data) == before


def test_unreadable_users_only_is_said_in_one_phrase_and_cached_users_kept(synced) -> None:  # type: ignore[no-untyped-def]
    data, pair = synced
    users_before = run_cli(data, "users", "--json").json()
    pair.plex.set_faults("users:drop")
    try:
        r = run_cli(data, "sync", "Plex", env=PAGE_ENV)
    finally:
        pair.plex.set_faults("")
    assert r.code == 3, r.out + r.err
    assert "tracks synced; users of Plex not refreshed:" in r.out and "could not be reached" in r.out, r.out
    assert "0 failed" not in r.out
    assert run_cli(data, "users", "--json").json() == users_before


def test_a_sync_failing_on_every_server_says_why_for_each(synced) -> None:  # type: ignore[no-untyped-def]
    data, pair = synced
    before = _tracks(data)
    pair.plex.set_faults("tracks:401")
    pair.jellyfin.set_faults("tracks:500")
    try:
        r = run_cli(data, "sync", env=PAGE_ENV)
    finally:
        pair.plex.set_faults("")
        pair.jellyfin.set_faults("")
    assert r.code == 1
    lines = r.out.strip().splitlines()
    assert lines[0] == "Sync failed on all 2 servers.", r.out
    plex = next(line for line in lines if line.startswith("Plex"))
    jelly = next(line for line in lines if line.startswith("Jelly"))
    assert "refused the credentials" in plex and "(ref " in plex
    assert "answered with an error" in jelly and "(ref " in jelly
    assert _tracks(data) == before


def _plex(port: int, tracks: int) -> DemoServer:
    return start_demo_server(DemoConfig(kind="plex", port=port, tracks=tracks, libraries=1))


def _add_and_sync_home_plex(data: Path, server: DemoServer) -> None:
    assert run_cli(data, "settings", "set", "plex_tv_url", server.url).code == 0  # the demo is plex.tv too
    r = run_cli(
        data, "server", "add", "--kind", "plex", "--name", "Home Plex", "--url", server.url, "--token-stdin",
        stdin="demo-plex-token\n",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert run_cli(data, "sync", env=PAGE_ENV).code == 0


def test_a_near_empty_complete_listing_is_held_until_allowed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    big = _plex(0, 3000)
    port = big.config.port or int(big.url.rsplit(":", 1)[1].split("/")[0])
    try:
        _add_and_sync_home_plex(data, big)
    finally:
        big.stop()
    before = _tracks(data)
    assert isinstance(before, list) and len(before) == 3000
    small = _plex(port, 1)  # the same server, its library now holds one track
    try:
        code, out = _sync_json(data)
        assert code == 3 and out["status"] == "held", out
        [server] = out["servers"]
        assert server["status"] == "held"
        assert "ould remove 2,999 of 3,000 tracks from " in server["message"], server
        assert "on Home Plex" in server["message"]
        assert _tracks(data) == before
        code, out = _sync_json(data, "--allow-removals")
        assert code == 0 and out["servers"][0]["removed"] == 2999, out
        after = _tracks(data)
        assert isinstance(after, list) and len(after) == 1
    finally:
        small.stop()


@pytest.mark.parametrize("full", [False, True], ids=["refresh", "full"])
def test_a_library_answering_0_tracks_is_held_until_allowed(tmp_path: Path, full: bool) -> None:
    """The extreme case of the floor: every cached track would go; held like any other mass removal."""
    data = tmp_path / "data"
    plex = _plex(0, 3000)
    try:
        _add_and_sync_home_plex(data, plex)
        before = _tracks(data)
        assert isinstance(before, list) and len(before) == 3000
        plex.set_faults("tracks:empty")  # the library is still listed, but answers 0 tracks
        args = ("--full",) if full else ()
        code, out = _sync_json(data, *args)
        assert code == 3 and out["status"] == "held", out
        [server] = out["servers"]
        assert server["status"] == "held"
        assert "ould remove 3,000 of 3,000 tracks from Music on Home Plex" in server["message"], server
        assert _tracks(data) == before
        code, out = _sync_json(data, *args, "--allow-removals")
        assert code == 0 and out["servers"][0]["status"] == "succeeded", out
        assert out["servers"][0]["removed"] == 3000, out
        assert _tracks(data) == []
    finally:
        plex.stop()
