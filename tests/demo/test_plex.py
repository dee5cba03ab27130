"""The demo Plex server through the real plexapi over HTTP (and raw requests for exact XML)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import requests
from plexapi.exceptions import Unauthorized
from plexapi.myplex import MyPlexAccount
from plexapi.server import PlexServer

from app.demo import DEFAULT_PLEX_TOKEN, DemoConfig, DemoServer, start_demo_server
from tests.demo.conftest import FIXTURES


class RedirectSession(requests.Session):
    """Sends plexapi's hard-coded https://plex.tv calls to the demo server (test-only)."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        return super().request(method, url.replace("https://plex.tv", self.base), *args, **kwargs)


def _get(server: DemoServer, path: str, **headers: str) -> requests.Response:
    return requests.get(
        server.url + path, headers={"X-Plex-Token": DEFAULT_PLEX_TOKEN, **headers}, timeout=10
    )


def test_server_identity_and_sections(plex: DemoServer) -> None:
    ps = PlexServer(plex.url, DEFAULT_PLEX_TOKEN)
    assert ps.machineIdentifier == plex.machine_id and ps.friendlyName and ps.version
    assert ps.myPlexUsername == plex.library.users[0].email
    identity = ET.fromstring(_get(plex, "/identity").content)
    assert identity.get("machineIdentifier") == plex.machine_id
    sections = ps.library.sections()
    music = [(s.key, s.title) for s in sections if s.type == "artist"]
    assert {s.type for s in sections} == {"artist", "movie"}
    assert music == [(int(k), t) for k, t, _ in plex.library.music_libraries()]


def test_search_tracks_paging_returns_every_track_with_its_fields(plex: DemoServer) -> None:
    ps = PlexServer(plex.url, DEFAULT_PLEX_TOKEN)
    lib = plex.library
    for (key, _, count), n in zip(lib.music_libraries(), range(lib.libraries), strict=True):
        section = ps.library.sectionByID(int(key))
        assert section.totalViewSize(libtype="track") == count
        tracks = section.searchTracks(container_size=17)
        lo, hi = lib.track_range(n)
        assert [t.ratingKey for t in tracks] == [int(lib.track(i).plex_id) for i in range(lo, hi)]
        for t, i in zip(tracks, range(lo, hi), strict=True):
            want = lib.track(i)
            attrs = t._data.attrib  # raw attributes: reading absent ones through plexapi reloads the item
            assert t.title == want.title and t.parentTitle == want.album
            assert attrs.get("grandparentTitle") == want.album_artist
            artist = attrs.get("originalTitle") or attrs.get("grandparentTitle")
            assert artist == want.artist
            assert attrs.get("userRating") == (None if want.rating is None else f"{want.rating:.1f}")
            assert attrs.get("duration") == (None if want.duration_ms is None else str(want.duration_ms))
            assert attrs.get("index") == (None if want.track_no is None else str(want.track_no))
            assert t.parentRatingKey == int(want.album_plex_id) and t.librarySectionID == int(key)
            assert "year" not in attrs and not t._data.findall("Genre")


def test_albums_carry_genres_and_year(plex: DemoServer) -> None:
    ps = PlexServer(plex.url, DEFAULT_PLEX_TOKEN)
    lib = plex.library
    key = lib.music_libraries()[0][0]
    albums = ps.library.sectionByID(int(key)).searchAlbums(container_size=7)
    lo, hi = lib.album_range(0)
    assert len(albums) == hi - lo
    for album, j in zip(albums, range(lo, hi), strict=True):
        want = lib.album(j)
        assert album.title == want.title and album.ratingKey == int(want.plex_id)
        assert [g.tag for g in album.genres] == list(want.genres)
        assert album._data.attrib.get("year") == (None if want.year is None else str(want.year))
    count = ET.fromstring(_get(plex, f"/library/sections/{key}/all?type=9&X-Plex-Container-Size=0").content)
    assert count.get("totalSize") == str(hi - lo) and count.get("size") == "0"
    artists = ET.fromstring(_get(plex, f"/library/sections/{key}/all?type=8").content)
    assert int(artists.get("totalSize") or 0) == len(range(*lib.artist_range(0)))


def test_nasty_unicode_is_escaped_and_round_trips(plex: DemoServer) -> None:
    key = plex.library.music_libraries()[0][0]
    body = _get(plex, f"/library/sections/{key}/all?type=10").content
    root = ET.fromstring(body)  # would raise on a bad escape
    titles = [t.get("title") for t in root.findall("Track")]
    assert titles == [plex.library.track(i).title for i in range(*plex.library.track_range(0))]
    assert b"&amp;" in body and b"&lt;" in body and b"&quot;" in body


def test_wrong_or_missing_token_is_401_and_query_token_works(plex: DemoServer) -> None:
    with pytest.raises(Unauthorized):
        PlexServer(plex.url, "wrong-token")
    assert requests.get(plex.url + "/library/sections", timeout=5).status_code == 401
    assert (
        requests.get(plex.url + f"/identity?X-Plex-Token={DEFAULT_PLEX_TOKEN}", timeout=5).status_code == 200
    )


def test_system_accounts_honour_container_headers(plex: DemoServer) -> None:
    ps = PlexServer(plex.url, DEFAULT_PLEX_TOKEN)
    accounts = ps.systemAccounts()
    assert [a.name for a in accounts] == ["", *(u.username for u in plex.library.users)]
    page = ET.fromstring(
        _get(plex, "/accounts", **{"X-Plex-Container-Start": "2", "X-Plex-Container-Size": "2"}).content
    )
    assert page.get("size") == "2" and page.get("totalSize") == str(len(accounts))


def test_plex_tv_account_users_and_sharing() -> None:
    with start_demo_server(DemoConfig(kind="plex", tracks=20, users=4, seed=3)) as plex:
        session = RedirectSession(plex.url)
        account = MyPlexAccount(token=DEFAULT_PLEX_TOKEN, session=session)
        assert account.username == "admin" and account.authToken == DEFAULT_PLEX_TOKEN
        users = account.users()
        assert [u.title for u in users] == [u.username for u in plex.library.users[1:]]
        assert all(u.servers[0].machineIdentifier == plex.machine_id for u in users)
        assert MyPlexAccount("admin", "demo-password", session=session).authToken == DEFAULT_PLEX_TOKEN
        ps = PlexServer(plex.url, DEFAULT_PLEX_TOKEN, session=session)
        music = [s for s in ps.library.sections() if s.type == "artist"]
        account.inviteFriend("new.friend@example.com", ps, sections=music[:1])
        invites = account.pendingInvites(includeReceived=False)
        assert [i.email for i in invites] == ["new.friend@example.com"]
        shares = ET.fromstring(
            session.get(
                f"https://plex.tv/api/servers/{plex.machine_id}/shared_servers",
                headers={"X-Plex-Token": DEFAULT_PLEX_TOKEN},
                timeout=5,
            ).content
        )
        invited = [s for s in shares.findall("SharedServer") if s.get("email") == "new.friend@example.com"]
        assert [x.get("key") for x in invited[0].findall("Section") if x.get("shared") == "1"] == [
            str(music[0].key)
        ]


def _attr_names(path: str, tag: str) -> set[str]:
    root = ET.parse(FIXTURES / path).getroot()
    return {a for el in root.iter(tag) for a in el.attrib}


def test_shapes_match_real_recordings(plex: DemoServer) -> None:
    root = ET.fromstring(_get(plex, "/").content)
    real_root = set(ET.parse(FIXTURES / "plex/ha-core/plex_server_base.xml").getroot().attrib)
    assert set(root.attrib) <= real_root and {
        "machineIdentifier",
        "version",
        "friendlyName",
        "myPlexUsername",
    } <= set(root.attrib)
    sections = ET.fromstring(_get(plex, "/library/sections").content)
    assert {a for d in sections.iter("Directory") for a in d.attrib} <= _attr_names(
        "plex/ha-core/library_sections.xml", "Directory"
    )
    key = plex.library.music_libraries()[0][0]
    tracks = ET.fromstring(_get(plex, f"/library/sections/{key}/all?type=10").content)
    ours = {a for t in tracks.iter("Track") for a in t.attrib}
    assert ours - _attr_names("plex/ha-core/grandchildren_300.xml", "Track") == {
        "originalTitle",
        "userRating",
        "lastRatedAt",  # with userRating on rated tracks (the recording has no rated track)
    }
    real_albums = json.loads(
        (
            FIXTURES / "plex/lukehagar-plex-api-spec-tests/GET_library_sections_X_all_type9_music_albums.json"
        ).read_text()
    )
    real_album_keys = {k for m in real_albums["MediaContainer"]["Metadata"] for k in m}
    albums = ET.fromstring(_get(plex, f"/library/sections/{key}/all?type=9").content)
    assert {a for d in albums.iter("Directory") for a in d.attrib} - real_album_keys <= {"leafCount"}
    accounts = ET.fromstring(_get(plex, "/accounts").content)
    assert {a for d in accounts.iter("Account") for a in d.attrib} == _attr_names(
        "plex/ha-core/plex_server_accounts.xml", "Account"
    )
    session = RedirectSession(plex.url)
    user = ET.fromstring(
        session.get(
            "https://plex.tv/api/v2/user", headers={"X-Plex-Token": DEFAULT_PLEX_TOKEN}, timeout=5
        ).content
    )
    real_user = ET.parse(FIXTURES / "plex/plexapi-tests/plextv_api_v2_user.xml").getroot()
    assert set(user.attrib) == set(real_user.attrib) and [c.tag for c in user] == [c.tag for c in real_user]
    shared = ET.fromstring(
        session.get(
            "https://plex.tv/api/users/", headers={"X-Plex-Token": DEFAULT_PLEX_TOKEN}, timeout=5
        ).content
    )
    assert {a for u in shared.iter("User") for a in u.attrib} <= _attr_names(
        "plex/ha-core/plextv_shared_users.xml", "User"
    ) | {"home"}
    assert {a for u in shared.iter("Server") for a in u.attrib} == _attr_names(
        "plex/ha-core/plextv_shared_users.xml", "Server"
    )
