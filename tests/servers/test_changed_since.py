"""The adapters' "changed since" listings and lean pages, through the real client libraries over HTTP against
the demo servers (edited in-process with a fixed server clock)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.core.models import AuthMethod, Change, Credentials, Server, ServerKind
from app.core.ports import MediaServerClient
from app.core.settings import Settings
from app.demo import DemoConfig, DemoServer, start_demo_server
from app.servers import ServerRegistry

NOW = 1_800_000_000


@pytest.fixture(params=["plex", "jellyfin"])
def demo(request: pytest.FixtureRequest) -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind=request.param, tracks=300, users=1, seed=11)) as server:
        server.edits.clock = lambda: NOW
        yield server


@pytest.fixture
def client(demo: DemoServer) -> Iterator[MediaServerClient]:
    kind = ServerKind(demo.config.kind)
    method = AuthMethod.TOKEN if kind == ServerKind.PLEX else AuthMethod.API_KEY
    server = Server(1, "Demo", kind, demo.url, method)
    out = ServerRegistry(Settings(plex_tv_url=demo.url)).connect(
        server, Credentials(token=demo.config.effective_token)
    )
    yield out
    out.close()


def _rid(demo: DemoServer, t: object) -> str:
    return str(getattr(t, "plex_id" if demo.config.kind == "plex" else "jellyfin_id"))


def test_server_time_comes_from_the_date_header(client: MediaServerClient) -> None:
    client.identity()
    assert client.server_time() == NOW  # the demo's Date header follows its (moved) clock


def test_changed_listings_return_exactly_the_edited_items(
    demo: DemoServer, client: MediaServerClient
) -> None:
    lib, edits = demo.library, demo.edits
    key = client.music_libraries()[0].key
    for change in client.track_changes:
        assert client.count_changed_tracks(key, change, NOW) == 0
    lo, _ = lib.track_range(0)
    edited = edits.edit_track(lo + 1, title="Renamed")
    rated = edits.rate_track(lo + 2, 7.0)
    added = edits.add_track(lib.album_of(lo), "Bonus")
    meta = client.fetch_changed_tracks(key, 0, 50, change=Change.METADATA, since=NOW)
    assert {t.remote_id for t in meta.items} == {_rid(demo, edited), _rid(demo, added)} and meta.total == 2
    assert {t.title for t in meta.items} == {"Renamed", "Bonus"}
    ratings = client.fetch_changed_tracks(key, 0, 50, change=Change.USER_DATA, since=NOW)
    assert [(t.remote_id, t.rating) for t in ratings.items] == [(_rid(demo, rated), 7.0)]
    assert client.count_changed_tracks(key, Change.USER_DATA, NOW) == 1
    assert client.count_changed_tracks(key, Change.METADATA, NOW + 1) == 0


def test_album_changes_are_listed_with_the_tracks_that_inherit_them(
    demo: DemoServer, client: MediaServerClient
) -> None:
    lib, edits = demo.library, demo.edits
    key = client.music_libraries()[0].key
    j = lib.album_of(lib.track_range(0)[0] + 40)
    edits.edit_album(j, genres=("Polka",), year=1977)
    album = lib.album(j)
    tracks = [lib.track(i) for i in range(album.first_track, album.first_track + album.track_count)]
    if client.needs_album_pass:
        assert client.count_changed_albums(key, NOW) == 1
        page = client.fetch_changed_albums(key, 0, 50, since=NOW)
        assert [(a.remote_id, a.genres, a.year) for a in page.items] == [(album.plex_id, ("Polka",), 1977)]
        listed = client.fetch_changed_tracks(key, 0, 50, change=Change.ALBUM, since=NOW)
    else:
        listed = client.fetch_changed_tracks(key, 0, 50, change=Change.METADATA, since=NOW)
        assert {t.genres for t in listed.items} == {("Polka",)}
    assert {t.remote_id for t in listed.items} == {_rid(demo, t) for t in tracks}
