"""End to end: the adapters, through the real client libraries over real HTTP, against the demo servers
(``app.demo``), compared with the demo's own ground truth (``server.library``) and under injected faults."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from app.core.errors import AuthFailed, BadServerResponse, ServerError, ServerUnreachable
from app.core.models import AuthMethod, Credentials, NewServer, Server, ServerKind
from app.core.ports import MediaServerClient
from app.core.settings import Settings
from app.demo import DemoConfig, DemoServer, start_demo_server
from app.servers import ServerRegistry

N_TRACKS = 1200
PAGE = 250


@pytest.fixture(scope="module", params=["plex", "jellyfin"])
def demo(request: pytest.FixtureRequest) -> Iterator[DemoServer]:
    server = start_demo_server(DemoConfig(kind=request.param, tracks=N_TRACKS, users=4))
    yield server
    server.stop()


@pytest.fixture
def reg(demo: DemoServer) -> Iterator[ServerRegistry]:
    demo.set_faults("")
    yield ServerRegistry(Settings(plex_tv_url=demo.url, request_timeout_s=1.5, connect_timeout_s=1.0))
    demo.set_faults("")


def _server(demo: DemoServer, **kw: object) -> Server:
    kind = ServerKind(demo.config.kind)
    method = AuthMethod.TOKEN if kind == ServerKind.PLEX else AuthMethod.API_KEY
    return Server(1, f"Demo {kind.value}", kind, demo.url, method, **kw)  # type: ignore[arg-type]


def _client(reg: ServerRegistry, demo: DemoServer, token: str | None = None) -> MediaServerClient:
    return reg.connect(_server(demo), Credentials(token=token or demo.config.effective_token))


def _is_plex(demo: DemoServer) -> bool:
    return demo.config.kind == "plex"


def test_paging_sums_equal_totals_and_every_field_is_mapped(reg: ServerRegistry, demo: DemoServer) -> None:
    client = _client(reg, demo)
    lib = demo.library
    truth = {(t.plex_id if _is_plex(demo) else t.jellyfin_id): t for t in map(lib.track, range(lib.tracks))}
    libraries = client.music_libraries()
    assert len(libraries) == 2
    seen = 0
    for library in libraries:
        total = client.count_tracks(library.key)
        got = []
        for start in range(0, total, PAGE):
            page = client.fetch_tracks(library.key, start, PAGE)
            assert page.failed == 0 and page.total == total
            got += page.items
        assert len(got) == total and len({t.remote_id for t in got}) == total
        seen += total
        for rec in got:
            t = truth[rec.remote_id]
            assert (rec.title, rec.album) == (t.title, t.album)
            # Plex: grandparentTitle = album artist, originalTitle = the track artist when it differs;
            # Jellyfin: AlbumArtist and Artists[0]. Both fall back to the album artist.
            assert (rec.album_artist, rec.artist) == (t.album_artist, t.artist or t.album_artist)
            assert rec.album_remote_id == (t.album_plex_id if _is_plex(demo) else t.album_jellyfin_id)
            assert (rec.duration_ms, rec.track_no, rec.disc_no) == (t.duration_ms, t.track_no, t.disc_no)
            assert rec.rating == t.rating and rec.added_at == t.added_at and rec.is_live == t.is_live
            if not _is_plex(demo):  # Plex tracks carry no genre/year: the album pass provides them
                assert (rec.genres, rec.year) == (t.genres, t.year)
        albums = client.count_albums(library.key)
        album_ids = set()
        for start in range(0, albums, PAGE):
            album_page = client.fetch_albums(library.key, start, PAGE)
            assert album_page.failed == 0
            album_ids |= {a.remote_id for a in album_page.items}
        assert len(album_ids) == albums
        assert {t.album_remote_id for t in got} <= album_ids
    assert seen == N_TRACKS
    client.close()


def test_users_match_the_server(reg: ServerRegistry, demo: DemoServer) -> None:
    users = _client(reg, demo).users()
    expected = {u.username: u for u in demo.library.users}
    assert {u.username for u in users} == set(expected)
    for user in users:
        assert user.is_admin == expected[user.username].is_admin
        assert user.library_keys == expected[user.username].library_keys


@pytest.mark.parametrize("status", ["401", "403"])
def test_auth_failure_names_the_server_and_hides_the_token(
    reg: ServerRegistry, demo: DemoServer, status: str
) -> None:
    client = _client(reg, demo)
    key = client.music_libraries()[0].key
    demo.set_faults(f"tracks:{status}")
    with pytest.raises(AuthFailed) as info:
        client.fetch_tracks(key, 0, PAGE)
    err = info.value
    assert err.service_name == f"Demo {demo.config.kind}" and err.service_name in str(err)
    assert demo.config.effective_token not in str(err) + err.detail + repr(err.to_dict())


def test_wrong_token_is_auth_failed(reg: ServerRegistry, demo: DemoServer) -> None:
    with pytest.raises(AuthFailed) as info:
        _client(reg, demo, token="wrong-token-123")
    assert "wrong-token-123" not in str(info.value) + info.value.detail


def test_500_on_a_later_page_is_server_error(reg: ServerRegistry, demo: DemoServer) -> None:
    client = _client(reg, demo)
    key = client.music_libraries()[0].key
    demo.set_faults("tracks:500@1")
    assert len(client.fetch_tracks(key, 0, PAGE).items) == PAGE
    with pytest.raises(ServerError):
        client.fetch_tracks(key, PAGE, PAGE)


def test_transient_502_is_reported_not_retried_by_the_library(reg: ServerRegistry, demo: DemoServer) -> None:
    client = _client(reg, demo)
    key = client.music_libraries()[0].key
    demo.set_faults("tracks:502x1")
    start = time.monotonic()
    with pytest.raises(ServerError):
        client.fetch_tracks(key, 0, PAGE)
    assert time.monotonic() - start < 0.9  # the caller's backoff decides, not hidden 1 s sleeps
    assert len(client.fetch_tracks(key, 0, PAGE).items) == PAGE


@pytest.mark.parametrize("fault", ["drip", "timeout"])
def test_drip_and_timeout_fail_within_the_deadline(reg: ServerRegistry, demo: DemoServer, fault: str) -> None:
    client = _client(reg, demo)
    key = client.music_libraries()[0].key
    demo.set_faults(f"tracks:{fault}")
    start = time.monotonic()
    with pytest.raises(ServerUnreachable):
        client.fetch_tracks(key, 0, PAGE)
    assert time.monotonic() - start < 1.5 + 1.0


def test_malformed_is_bad_server_response(reg: ServerRegistry, demo: DemoServer) -> None:
    client = _client(reg, demo)
    key = client.music_libraries()[0].key
    demo.set_faults("tracks:malformed")
    with pytest.raises(BadServerResponse):
        client.fetch_tracks(key, 0, PAGE)


@pytest.mark.parametrize("fault", ["truncate", "drop"])
def test_truncated_or_dropped_pages_fail_cleanly(reg: ServerRegistry, demo: DemoServer, fault: str) -> None:
    client = _client(reg, demo)
    key = client.music_libraries()[0].key
    demo.set_faults(f"tracks:{fault}")
    with pytest.raises((BadServerResponse, ServerUnreachable)):
        client.fetch_tracks(key, 0, PAGE)


def test_identity_change_is_visible(reg: ServerRegistry, demo: DemoServer) -> None:
    client = _client(reg, demo)
    before = client.identity().machine_id
    demo.set_faults("identity:identity-change")
    assert client.identity().machine_id != before


def test_authenticate_with_the_demo_credentials(reg: ServerRegistry, demo: DemoServer) -> None:
    server = _server(demo)
    new = NewServer(server.name, server.kind, demo.url, server.auth_method)
    result = reg.authenticate(new, Credentials(token=demo.config.effective_token))
    assert result.identity.machine_id == demo.machine_id and result.token == demo.config.effective_token


def test_jellyfin_password_login_then_token_connect(reg: ServerRegistry, demo: DemoServer) -> None:
    if _is_plex(demo):
        pytest.skip("user/password login is the Jellyfin path")
    new = NewServer("Demo jellyfin", ServerKind.JELLYFIN, demo.url, AuthMethod.PASSWORD)
    result = reg.authenticate(new, Credentials(username="admin", password="demo-password"))
    assert result.remote_user_id and result.token not in ("demo-password", demo.config.effective_token)
    client = reg.connect(_server(demo, remote_user_id=result.remote_user_id), Credentials(token=result.token))
    key = client.music_libraries()[0].key
    assert client.count_tracks(key) > 0
    with pytest.raises(AuthFailed) as info:
        reg.authenticate(new, Credentials(username="admin", password="not-the-password"))
    assert "not-the-password" not in str(info.value) + info.value.detail


def test_the_other_kind_is_refused_with_a_remedy(demo: DemoServer) -> None:
    reg = ServerRegistry(Settings(plex_tv_url=demo.url, request_timeout_s=2.0))
    other = ServerKind.JELLYFIN if _is_plex(demo) else ServerKind.PLEX
    method = AuthMethod.API_KEY if other == ServerKind.JELLYFIN else AuthMethod.TOKEN
    with pytest.raises((BadServerResponse, AuthFailed)) as info:
        reg.authenticate(
            NewServer("Wrong", other, demo.url, method), Credentials(token=demo.config.effective_token)
        )
    if isinstance(info.value, BadServerResponse):
        assert ("Plex" if other == ServerKind.JELLYFIN else "Jellyfin") in info.value.remedy


def test_plex_tv_sign_in_exchanges_the_password_for_a_token(reg: ServerRegistry, demo: DemoServer) -> None:
    if not _is_plex(demo):
        pytest.skip("plex.tv sign-in is the Plex path")
    new = NewServer("Demo plex", ServerKind.PLEX, demo.url, AuthMethod.PASSWORD)
    result = reg.authenticate(new, Credentials(username="admin", password="demo-password"))
    assert result.token == demo.config.effective_token and result.identity.machine_id == demo.machine_id
    with pytest.raises(AuthFailed) as info:
        reg.authenticate(new, Credentials(username="admin", password="not-the-password"))
    assert "not-the-password" not in str(info.value) + info.value.detail
