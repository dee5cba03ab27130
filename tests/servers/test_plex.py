"""PlexClient against a scriptable loopback server serving recorded (tests/fixtures) and generated bodies."""

from __future__ import annotations

import time
from xml.etree.ElementTree import fromstring

import pytest

from app.core.errors import (
    AuthFailed,
    BadServerResponse,
    ConfigurationError,
    ServerError,
    ServerUnreachable,
    ValidationError,
)
from app.core.live import is_live
from app.core.models import AuthMethod, Credentials, NewServer, Server, ServerKind
from app.servers import PlexClient, ServerRegistry
from tests.servers.fakes import (
    PLEX_MACHINE,
    PLEX_TOKEN,
    XML,
    FakePlex,
    Reply,
    fast_settings,
    fixture_bytes,
    plex_container,
    plex_track_attrs,
)


def connect(server, **settings) -> PlexClient:  # type: ignore[no-untyped-def]
    return PlexClient.connect(
        "Den", server.url, PLEX_TOKEN, fast_settings(plex_tv_url=server.url, **settings)
    )


def test_identity_libraries_and_counts_from_recorded_bodies(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakePlex(n_tracks=0))
    srv.route.overrides["/library/sections/3/all"] = Reply(
        200, fixture_bytes("plex/ha-core/library_music_size.xml"), XML
    )
    client = connect(srv)
    ident = client.identity()
    assert (ident.machine_id, ident.name, ident.kind) == (PLEX_MACHINE, "Den Plex", ServerKind.PLEX)
    assert ident.version.startswith("1.20.4")
    assert [(lib.key, lib.title) for lib in client.music_libraries()] == [
        ("3", "Music")
    ]  # movie/show skipped
    assert client.count_tracks("3") == 1  # totalSize of the recorded answer
    count_req = srv.requests[-1]
    assert count_req.query["type"] == "10"
    assert count_req.headers["x-plex-container-size"] == "0"
    assert client.needs_album_pass is True
    client.close()


def test_recorded_track_elements_map_every_field(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakePlex()
    srv = serve(fake)
    body = fixture_bytes("plex/ha-core/grandchildren_300.xml")
    fake.overrides["/library/sections/3/all"] = Reply(200, body, XML)
    page = connect(srv).fetch_tracks("3", 0, 100)
    elements = fromstring(body).findall("Track")
    assert len(page.items) == len(elements) == 10 and page.failed == 0
    for rec, el in zip(page.items, elements, strict=True):
        assert rec.remote_id == el.get("ratingKey")
        assert rec.title == el.get("title")
        assert rec.album == el.get("parentTitle") and rec.album_remote_id == el.get("parentRatingKey")
        assert rec.artist == (el.get("originalTitle") or el.get("grandparentTitle"))
        assert rec.album_artist == el.get("grandparentTitle")
        assert rec.duration_ms == int(el.get("duration", "0"))
        assert rec.track_no == int(el.get("index", "0")) and rec.disc_no == int(el.get("parentIndex", "0"))
        assert rec.added_at == float(el.get("addedAt", "0"))
    assert page.total == 10  # no totalSize in this recording: size is used


def test_paging_sums_to_total_and_sends_container_headers(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakePlex(n_tracks=53)
    srv = serve(fake)
    client = connect(srv)
    total = client.count_tracks("3")
    seen = []
    for start in range(0, total, 10):
        page = client.fetch_tracks("3", start, 10)
        assert page.total == 53
        seen += page.items
        req = srv.requests[-1]
        assert (req.headers["x-plex-container-start"], req.headers["x-plex-container-size"]) == (
            str(start),
            "10",
        )
        assert req.query["type"] == "10"
    assert len(seen) == total == 53
    assert len({t.remote_id for t in seen}) == 53
    for n, rec in enumerate(seen):
        attrs = plex_track_attrs(n)
        assert rec.rating == (float(attrs["userRating"]) if "userRating" in attrs else None)
        assert rec.year == (int(attrs["year"]) if "year" in attrs else None)
        assert rec.artist == attrs.get("originalTitle", attrs["grandparentTitle"])
        assert rec.is_live == is_live(attrs["title"], attrs["parentTitle"])
    assert any(t.is_live for t in seen) and any(t.rating is None for t in seen)


def test_albums_carry_year_and_genres(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakePlex())
    client = connect(srv)
    assert client.count_albums("3") == 4
    page = client.fetch_albums("3", 0, 10)
    assert srv.requests[-1].query["type"] == "9"
    assert [a.genres for a in page.items] == [("Jazz", "Bebop"), (), ("Jazz", "Bebop"), ()]
    assert {a.year for a in page.items} == {1999}


def test_unparseable_elements_are_counted_and_skipped(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakePlex()
    srv = serve(fake)
    good = '<Track ratingKey="1" title="ok"/>'
    no_key = '<Track title="no key"/>'
    bad_number = '<Track ratingKey="77" title="x" duration="long"/>'
    bad_rating = '<Track ratingKey="78" title="y" userRating="many"/>'
    fake.overrides["/library/sections/3/all"] = Reply(
        200, plex_container([good, no_key, bad_number, bad_rating], total=4), XML
    )
    page = connect(srv).fetch_tracks("3", 0, 10)
    assert [t.remote_id for t in page.items] == ["1"]
    assert page.failed == 3 and page.failed_ids == ("77", "78")


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(500, b"<html>boom</html>"), ServerError),
        (Reply(503, b""), ServerError),
        (Reply(403, b"<html>forbidden</html>"), AuthFailed),
        (Reply(200, b"<MediaContainer><Track ratingKey='1'"), BadServerResponse),  # truncated
        (Reply(200, b"\x00\xff not xml at all"), BadServerResponse),
        (Reply(200, b'{"MediaContainer": {}}', {"Content-Type": "application/json"}), BadServerResponse),
    ],
)
def test_page_failures_map_to_core_errors(serve, reply: Reply, error: type) -> None:  # type: ignore[no-untyped-def]
    fake = FakePlex(n_tracks=5)
    srv = serve(fake)
    client = connect(srv)
    fake.overrides["/library/sections/3/all"] = reply
    with pytest.raises(error) as info:
        client.fetch_tracks("3", 0, 10)
    assert info.value.service_name == "Den"
    assert PLEX_TOKEN not in str(info.value) and PLEX_TOKEN not in info.value.detail


def test_wrong_token_is_auth_failed_without_the_token(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakePlex(token="the-right-one"))
    with pytest.raises(AuthFailed) as info:
        connect(srv)
    err = info.value
    assert err.service_name == "Den" and "Den" in str(err)
    assert PLEX_TOKEN not in str(err) + err.detail + repr(err.to_dict())


def test_a_jellyfin_url_added_as_plex_says_pick_the_other_kind(serve) -> None:  # type: ignore[no-untyped-def]
    html = b"<!DOCTYPE html><html><head><title>Jellyfin</title></head><body><div></body></html>"
    srv = serve(lambda req: Reply(200, html, {"Content-Type": "text/html"}))
    with pytest.raises(BadServerResponse) as info:
        connect(srv)
    assert "Jellyfin" in info.value.remedy


def test_connection_refused_is_unreachable(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakePlex())
    url = srv.url
    srv.stop()
    with pytest.raises(ServerUnreachable) as info:
        PlexClient.connect("Den", url, PLEX_TOKEN, fast_settings())
    assert info.value.service_name == "Den"


@pytest.mark.parametrize(
    "reply", [Reply(200, b"<MediaContainer/>" * 50, XML, drip_s=0.05), Reply(200, b"x", stall_s=5)]
)
def test_a_dripping_or_stalled_server_fails_within_the_deadline(serve, reply: Reply) -> None:  # type: ignore[no-untyped-def]
    fake = FakePlex(n_tracks=3)
    srv = serve(fake)
    client = connect(srv, request_timeout_s=1.0)
    fake.overrides["/library/sections/3/all"] = reply
    start = time.monotonic()
    with pytest.raises(ServerUnreachable) as info:
        client.fetch_tracks("3", 0, 10)
    assert time.monotonic() - start < 2.0
    assert "1 seconds" in info.value.user_message
    assert client.identity().machine_id == PLEX_MACHINE  # the client is still usable afterwards


def test_users_are_owner_plus_shares_of_this_server_via_plex_tv_setting(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakePlex())
    users = connect(srv).users()
    assert [(u.remote_id, u.username, u.is_admin) for u in users] == [
        ("12345", "User 1", True),
        ("1000", "User 1000", False),
        ("1001", "User 1001", False),
    ]
    assert users[0].library_keys is None
    assert users[1].library_keys == ("3",) and users[2].library_keys == ("1",)  # allLibraries="0" shares
    paths = [r.path for r in srv.requests]
    assert "/api/v2/user" in paths and "/api/users/" in paths  # plex.tv calls went to the setting's URL


def test_users_of_another_server_are_not_listed(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakePlex(machine="some-other-machine"))
    assert [u.is_admin for u in connect(srv).users()] == [True]  # only the owner


def test_plex_tv_failure_raises_instead_of_a_partial_list(serve) -> None:  # type: ignore[no-untyped-def]
    fake = FakePlex()
    srv = serve(fake)
    fake.overrides["/api/users/"] = Reply(502, b"bad gateway")
    with pytest.raises(ServerError):
        connect(srv).users()


def test_registry_validates_urls_and_credentials() -> None:
    reg = ServerRegistry(fast_settings())
    new = NewServer("Den", ServerKind.PLEX, "ftp://media.local", AuthMethod.TOKEN)
    with pytest.raises(ValidationError) as info:
        reg.authenticate(new, Credentials(token="t0k3n"))
    assert "http://" in info.value.user_message and "ftp://" in info.value.user_message
    for bad in ("media.local:32400", "http://", "http://user:pw@host", "http://host:99999"):
        with pytest.raises(ValidationError):
            reg.authenticate(
                NewServer("Den", ServerKind.PLEX, bad, AuthMethod.TOKEN), Credentials(token="t0k3n")
            )
    server = Server(1, "Den", ServerKind.PLEX, "http://127.0.0.1:9", AuthMethod.TOKEN)
    with pytest.raises(ConfigurationError) as missing:  # the one "no credentials" error, before any request
        reg.connect(server, Credentials())
    assert "no credentials are stored" in missing.value.user_message
    assert reg.kinds() == [ServerKind.PLEX, ServerKind.JELLYFIN]


def test_registry_authenticate_and_connect(serve) -> None:  # type: ignore[no-untyped-def]
    srv = serve(FakePlex(n_tracks=3))
    reg = ServerRegistry(fast_settings(plex_tv_url=srv.url))
    result = reg.authenticate(
        NewServer("Den", ServerKind.PLEX, srv.url + "/", AuthMethod.TOKEN), Credentials(PLEX_TOKEN)
    )
    assert result.token == PLEX_TOKEN and result.identity.machine_id == PLEX_MACHINE
    client = reg.connect(
        Server(1, "Den", ServerKind.PLEX, srv.url, AuthMethod.TOKEN), Credentials(PLEX_TOKEN)
    )
    assert client.count_tracks("3") == 3
    client.close()


def test_pages_fetched_from_several_threads_are_each_complete(serve) -> None:  # type: ignore[no-untyped-def]
    """The sync may fetch the next page on another pool thread while it processes the last one."""
    from concurrent.futures import ThreadPoolExecutor

    srv = serve(FakePlex(n_tracks=120))
    client = connect(srv)
    expected = [client.fetch_tracks("3", start, 10).items for start in range(0, 120, 10)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda start: client.fetch_tracks("3", start, 10).items, range(0, 120, 10)))
    assert got == expected
    assert [t.remote_id for page in got for t in page] == [str(1000 + n) for n in range(120)]
