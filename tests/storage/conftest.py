from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.models import (
    AuthMethod,
    ConnectResult,
    NewServer,
    RemoteLibrary,
    Server,
    ServerIdentity,
    ServerKind,
    TrackRecord,
)
from app.storage import Cache, open_cache


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cache(data_dir: Path) -> Iterator[Cache]:
    c = open_cache(data_dir)
    yield c
    c.close()


def add_server(cache: Cache, name: str = "Home", kind: ServerKind = ServerKind.PLEX) -> Server:
    auth = AuthMethod.TOKEN if kind is ServerKind.PLEX else AuthMethod.API_KEY
    return cache.servers.add(
        NewServer(name, kind, "http://127.0.0.1:32400", auth),
        ConnectResult(ServerIdentity(f"machine-{name}", name, "1.0", kind), token="secret-token"),
    )


def track(rid: str, title: str = "Song", **kw: object) -> TrackRecord:
    return TrackRecord(remote_id=rid, title=title, **kw)  # type: ignore[arg-type]


def sync(
    cache: Cache,
    server_id: int,
    libs: dict[str, list[TrackRecord]],
    complete: list[str] | None = None,
    titles: dict[str, str] | None = None,
):
    """Stages and commits ``libs`` (library key -> tracks) the way a sync run does."""
    cache.tracks.begin_staging(server_id)
    for key, tracks in libs.items():
        for i in range(0, len(tracks), 7):
            cache.tracks.stage_tracks(server_id, key, tracks[i : i + 7])
    keys = list(libs)
    remote = [RemoteLibrary(k, (titles or {}).get(k, f"Library {k}")) for k in keys]
    return cache.tracks.commit_staging(server_id, remote, keys, keys if complete is None else complete)
