"""JellyfinClient against a scriptable loopback server: connect paths, paging, mapping and the library traps."""

from __future__ import annotations

import json
import time

import pytest

from app.core.errors import AuthFailed, BadServerResponse, ServerError, ServerUnreachable
from app.core.live import is_live
from app.core.models import AuthMethod, Credentials, NewServer, Server, ServerKind
from app.servers import JellyfinClient, ServerRegistry
from tests.servers.fakes import (
    JF_ACCESS,
    JF_KEY,
    JF_PASSWORD,
    JF_SERVER_ID,
    JF_USER,
    JSON,
    FakeJellyfin,
    FakePlex,
    Reply,
    fast_settings,
    fixture_bytes,
)


def connect(server, user_id: str | None = None, **settings) -> JellyfinClient:  # type: ignore[no-untyped-def]
    return JellyfinClient.connect("Attic", server.url, JF_KEY, user_id, fast_settings(**settings))


def test_api_key_connect_identity_libraries_and_counts(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakeJellyfin(n_tracks=12))
    client = connect(srv)
    assert client.identity().machine_id == JF_SERVER_ID and client.identity().kind == ServerKind.JELLYFIN
    assert [(lib.key, lib.title) for lib in client.music_libraries()] == [("lib-music", "Music")]
    assert client.count_tracks("lib-music") == 12
    req = srv.requests[-1]
    assert req.path == "/Items" and req.query["Limit"] == "0" and req.query["ParentId"] == "lib-music"
    assert req.query["IncludeItemTypes"] == "Audio" and req.query["Recursive"] == "True"
    assert f'Token="{JF_KEY}"' in req.headers["authorization"]
    assert client.needs_album_pass is False


def test_paging_sums_to_total_and_maps_fields(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakeJellyfin(n_tracks=23)
    srv = serve(fake)
    client = connect(srv)
    seen = []
    for start in range(0, 23, 5):
        page = client.fetch_tracks("lib-music", start, 5)
        assert page.total == 23 and page.failed == 0
        seen += page.items
        q = srv.requests[-1].query
        assert (q["StartIndex"], q["Limit"], q["EnableTotalRecordCount"]) == (str(start), "5", "True")
        assert "Genres" in q["Fields"] and "DateCreated" in q["Fields"]
        assert "userId" not in q  # API key: no user context
    assert [t.remote_id for t in seen] == [item["Id"] for item in fake.tracks]
    for rec, item in zip(seen, fake.tracks, strict=True):
        assert rec.title == item["Name"] and rec.album == item.get("Album")
        assert rec.album_artist == item.get("AlbumArtist") and rec.album_remote_id == item.get("AlbumId")
        artists = item.get("Artists") or []
        assert rec.artist == (artists[0] if artists else item.get("AlbumArtist"))
        assert rec.duration_ms == item["RunTimeTicks"] // 10_000  # type: ignore[operator]
        assert rec.track_no == item.get("IndexNumber") and rec.disc_no == item.get("ParentIndexNumber")
        assert rec.year == item.get("ProductionYear")
        assert rec.genres == tuple(item.get("Genres", ()))  # type: ignore[arg-type]
        assert rec.rating == item.get("CommunityRating")
        assert rec.is_live == is_live(rec.title, rec.album)
    dated = [t for t in seen if t.added_at is not None]
    assert dated and all(t.added_at == pytest.approx(1702296640.76075) for t in dated)


def test_user_rating_wins_over_community_rating_and_user_id_is_sent(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakeJellyfin(n_tracks=2)
    fake.tracks[1]["UserData"] = {"Rating": 9.0}
    srv = serve(fake)
    page = connect(srv, user_id=JF_USER).fetch_tracks("lib-music", 0, 10)
    assert [t.rating for t in page.items] == [None, 9.0]
    assert srv.requests[-1].query["userId"] == JF_USER


def test_bad_items_are_counted_and_skipped(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakeJellyfin()
    srv = serve(fake)
    items = [
        json.loads(fixture_bytes("jellyfin/music-assistant-tests/tracks_zombie_christmas.json")),
        {"Id": "bad-ticks", "Name": "x", "RunTimeTicks": "long"},
        {"Name": "no id"},
        {"Id": "bad-genres", "Genres": "Rock"},
        {"Id": "bad-date", "DateCreated": "yesterday"},
        "not an object",
    ]
    fake.overrides["/items"] = fake._json({"Items": items, "TotalRecordCount": 6})
    page = connect(srv).fetch_tracks("lib-music", 0, 10)
    assert [t.title for t in page.items] == ["Zombie Christmas"]
    assert page.failed == 5 and page.failed_ids == ("bad-ticks", "bad-genres", "bad-date")


def test_users_map_policy(serve) -> None:  # type: ignore[no-untyped-def]
    users = connect(serve(FakeJellyfin())).users()
    assert [(u.username, u.is_admin, u.is_disabled, u.library_keys) for u in users] == [
        ("admin", True, False, None),
        ("kid", False, True, ("lib-music",)),
    ]


def test_password_login_returns_token_and_user_id_and_never_the_password(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakeJellyfin(n_tracks=3)
    srv = serve(fake)
    reg = ServerRegistry(fast_settings())
    new = NewServer("Attic", ServerKind.JELLYFIN, srv.url + "/", AuthMethod.PASSWORD)
    result = reg.authenticate(new, Credentials(username="admin", password=JF_PASSWORD))
    assert (result.token, result.remote_user_id, result.identity.machine_id) == (
        JF_ACCESS,
        JF_USER,
        JF_SERVER_ID,
    )
    assert JF_PASSWORD not in repr(result)
    login = [r for r in srv.requests if r.path.lower() == "/users/authenticatebyname"]
    assert len(login) == 1 and json.loads(login[0].body)["Pw"] == JF_PASSWORD
    # later connects use the token like an API key, with the user context
    server = Server(1, "Attic", ServerKind.JELLYFIN, srv.url, AuthMethod.PASSWORD, remote_user_id=JF_USER)
    client = reg.connect(server, Credentials(token=result.token))
    assert client.count_tracks("lib-music") == 3
    assert srv.requests[-1].query["userId"] == JF_USER
    assert all(JF_PASSWORD not in json.dumps(r.headers) for r in srv.requests)


def test_wrong_password_is_auth_failed(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakeJellyfin())
    with pytest.raises(AuthFailed) as info:
        JellyfinClient.login("Attic", srv.url, "admin", "wrong-password", fast_settings())
    assert "wrong-password" not in str(info.value) + info.value.detail
    assert info.value.service_name == "Attic"


def test_wrong_api_key_is_auth_failed_without_the_key(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakeJellyfin())
    with pytest.raises(AuthFailed) as info:
        JellyfinClient.connect("Attic", srv.url, "not-the-key-123", None, fast_settings())
    assert "not-the-key-123" not in str(info.value) + info.value.detail


def test_401_mid_sync_is_auth_failed_after_one_request(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakeJellyfin(n_tracks=3)
    srv = serve(fake)
    client = connect(srv)
    fake.overrides["/items"] = fake._json({"error": "revoked"}, 401)
    before = len(srv.requests)
    with pytest.raises(AuthFailed) as info:
        client.fetch_tracks("lib-music", 0, 10)
    assert len(srv.requests) == before + 1
    assert JF_KEY not in str(info.value) + info.value.detail


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_server_error_without_library_retries(serve, status: int) -> None:  # type: ignore[no-untyped-def]
    fake = FakeJellyfin(n_tracks=3)
    srv = serve(fake)
    client = connect(srv)
    fake.overrides["/items"] = Reply(status, b"", JSON)
    before = len(srv.requests)
    start = time.monotonic()
    with pytest.raises(ServerError):
        client.fetch_tracks("lib-music", 0, 10)
    assert len(srv.requests) == before + 1 and time.monotonic() - start < 0.9  # no 1 s retry sleeps


def test_connection_refused_fails_fast(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakeJellyfin())
    url = srv.url
    srv.stop()
    start = time.monotonic()
    with pytest.raises(ServerUnreachable):
        JellyfinClient.connect("Attic", url, JF_KEY, None, fast_settings())
    assert time.monotonic() - start < 0.9


def test_missing_date_header_is_fine(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakeJellyfin(n_tracks=4)
    fake.date = False
    assert connect(serve(fake)).count_tracks("lib-music") == 4


@pytest.mark.parametrize(
    "body",
    [
        b"<html>not json</html>",
        b'{"Items": 5, "TotalRecordCount": 1}',
        b'{"Items": []}',
        b"[1,2]",
        b'{"Items":[{"Id":',
    ],
)
def test_malformed_pages_are_bad_server_response(serve, body: bytes) -> None:  # type: ignore[no-untyped-def]
    fake = FakeJellyfin(n_tracks=3)
    srv = serve(fake)
    client = connect(srv)
    fake.overrides["/items"] = Reply(200, body, JSON)
    with pytest.raises(BadServerResponse):
        client.fetch_tracks("lib-music", 0, 10)


def test_drip_hits_the_deadline(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakeJellyfin(n_tracks=3)
    srv = serve(fake)
    client = connect(srv, request_timeout_s=1.0)
    fake.overrides["/items"] = Reply(200, b'{"Items": [], "TotalRecordCount": 0}' * 10, JSON, drip_s=0.05)
    start = time.monotonic()
    with pytest.raises(ServerUnreachable):
        client.count_tracks("lib-music")
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("method", [AuthMethod.API_KEY, AuthMethod.PASSWORD])
def test_a_plex_url_added_as_jellyfin_says_pick_plex(serve, method: AuthMethod) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakePlex())
    reg = ServerRegistry(fast_settings())
    creds = Credentials(token=JF_KEY, username="admin", password=JF_PASSWORD)
    with pytest.raises(BadServerResponse) as info:
        reg.authenticate(NewServer("Attic", ServerKind.JELLYFIN, srv.url, method), creds)
    assert "Plex" in info.value.remedy


def test_server_error_on_public_info_is_server_error(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakeJellyfin()
    fake.overrides["/system/info/public"] = Reply(503, b"maintenance", {"Content-Type": "text/plain"})
    with pytest.raises(ServerError):
        connect(serve(fake))


def test_registry_api_key_authenticate(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakeJellyfin())
    reg = ServerRegistry(fast_settings())
    new = NewServer("Attic", ServerKind.JELLYFIN, srv.url, AuthMethod.API_KEY)
    result = reg.authenticate(new, Credentials(token=JF_KEY))
    assert (result.token, result.remote_user_id, result.identity.name) == (JF_KEY, None, "Attic Jellyfin")
