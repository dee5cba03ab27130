"""A Plex server that moved is found again through plex.tv (same machine identifier): sync and heartbeat switch
to its current address, keep every cached row, and tell the admin. Real CLI, real HTTP, demo plex.tv."""

from __future__ import annotations

from pathlib import Path

from app.demo import DemoConfig, start_demo_server
from app.storage import open_cache
from tests.e2e.conftest import run_cli

DEAD = "http://127.0.0.1:9"  # where the server used to be: nothing answers there now


def _move_away(data: Path) -> int:
    with open_cache(data) as cache:
        [server] = cache.servers.list()
        cache.servers.set_url(server.id, DEAD)
        return server.id


def _state(data: Path) -> tuple[str, int, int]:
    with open_cache(data) as cache:
        [server] = cache.servers.list()
        tracks = sum(cache.tracks.library_track_counts(server.id).values())
        return server.url, tracks, len(cache.users.list(server="Home Plex"))


def test_sync_and_heartbeat_find_a_moved_plex_server_again_and_keep_its_rows(tmp_path: Path) -> None:
    with start_demo_server(DemoConfig(kind="plex", tracks=40)) as plex:
        assert run_cli(tmp_path, "settings", "set", "plex_tv_url", plex.url).code == 0
        added = run_cli(
            tmp_path, "server", "add", "--kind", "plex", "--name", "Home Plex", "--url", plex.url, "--token-stdin",
            stdin="demo-plex-token\n",
        )  # fmt: skip
        assert added.code == 0, added.err
        assert run_cli(tmp_path, "sync").code == 0
        url, tracks, users = _state(tmp_path)
        assert (url, tracks) == (plex.url, 40) and users > 1
        server_id = _move_away(tmp_path)

        synced = run_cli(tmp_path, "sync", "--json")
        assert synced.code == 0, synced.err
        assert _state(tmp_path) == (plex.url, 40, users)  # the new address, every row kept
        with open_cache(tmp_path) as cache:
            assert [s.id for s in cache.servers.list()] == [server_id]
        log = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log*"))
        assert f"Home Plex moved to {plex.url}" in log

        _move_away(tmp_path)
        health = run_cli(tmp_path, "health", "--check", "--json")
        assert health.code == 0, health.err
        assert _state(tmp_path)[0] == plex.url
