"""The demo Jellyfin server through the real jellyfin-apiclient-python, plus raw requests for headers/shapes."""

from __future__ import annotations

import json

import pytest
import requests
from jellyfin_apiclient_python import JellyfinClient
from jellyfin_apiclient_python.connection_manager import CONNECTION_STATE

from app.demo import (
    DEFAULT_JELLYFIN_API_KEY,
    DEFAULT_JELLYFIN_PASSWORD,
    DemoConfig,
    DemoServer,
    start_demo_server,
)
from tests.demo.conftest import FIXTURES
from tests.demo.schema import Schemas

SCHEMAS = Schemas(FIXTURES / "jellyfin/openapi/jellyfin-10.11.11-schemas.json")
KEY = {"Authorization": f'MediaBrowser Token="{DEFAULT_JELLYFIN_API_KEY}"'}


def _client() -> JellyfinClient:
    client = JellyfinClient()
    client.config.app("zondarr-tests", "0.1", "tests", "tests-device")
    client.config.data["auth.ssl"] = False
    return client


def _login(server: DemoServer) -> JellyfinClient:
    client = _client()
    assert client.auth.connect_to_address(server.url)["State"] == CONNECTION_STATE.ServerSignIn
    result = client.auth.login(server.url, "admin", DEFAULT_JELLYFIN_PASSWORD)
    assert result["AccessToken"] and result["User"]["Id"] == server.library.users[0].jellyfin_id
    return client


def test_login_and_api_key_paths(jellyfin: DemoServer) -> None:
    client = _login(jellyfin)
    assert client.config.data["auth.user_id"] == jellyfin.library.users[0].jellyfin_id
    keyed = _client()
    state = keyed.authenticate(
        {"Servers": [{"AccessToken": DEFAULT_JELLYFIN_API_KEY, "address": jellyfin.url}]}, discover=False
    )
    assert state["State"] == CONNECTION_STATE.SignedIn
    bad = _client().authenticate(
        {"Servers": [{"AccessToken": "nope", "address": jellyfin.url}]}, discover=False
    )
    assert bad["State"] == CONNECTION_STATE.Unavailable
    assert _client().auth.login(jellyfin.url, "admin", "wrong") == {}


def test_users_list_and_policy(jellyfin: DemoServer) -> None:
    users = _login(jellyfin).jellyfin.get_users()
    want = jellyfin.library.users
    assert [u["Name"] for u in users] == [u.username for u in want]
    assert [u["Policy"]["IsDisabled"] for u in users] == [u.is_disabled for u in want]
    assert users[0]["Policy"]["IsAdministrator"] and not users[1]["Policy"]["IsAdministrator"]
    restricted = [u for u in users if not u["Policy"]["EnableAllFolders"]]
    assert restricted and all(u["Policy"]["EnabledFolders"] for u in restricted)


def test_items_paging_returns_every_track_in_order(jellyfin: DemoServer) -> None:
    client = _login(jellyfin)
    lib = jellyfin.library
    for key, _, count in lib.music_libraries():
        got, start = [], 0
        while True:
            page = client.jellyfin.get_user_items(
                params={
                    "ParentId": key,
                    "IncludeItemTypes": "Audio",
                    "Recursive": True,
                    "StartIndex": start,
                    "Limit": 40,
                    "EnableTotalRecordCount": True,
                    "Fields": "Genres,DateCreated",
                    "SortBy": "SortName",
                }
            )
            assert page["TotalRecordCount"] == count and page["StartIndex"] == start
            got += page["Items"]
            start += 40
            if start >= page["TotalRecordCount"]:
                break
        n = lib.library_index(key)
        assert n is not None
        want = [lib.track(i) for i in range(*lib.track_range(n))]
        assert [g["Id"] for g in got] == [t.jellyfin_id for t in want]
        for item, t in zip(got, want, strict=True):
            rating = item.get("UserData", {}).get("Rating", item.get("CommunityRating"))
            assert (
                item["Name"],
                item["Album"],
                item.get("AlbumArtist"),
                item["Genres"],
                item.get("ProductionYear"),
                rating,
                item.get("IndexNumber"),
            ) == (t.title, t.album, t.album_artist, list(t.genres), t.year, t.rating, t.track_no)
            assert item.get("RunTimeTicks") == (None if t.duration_ms is None else t.duration_ms * 10_000)
            assert (item["Artists"] or [None])[0] == t.artist


def test_counts_fields_and_api_key_items_route(jellyfin: DemoServer) -> None:
    keyed = _client()
    keyed.authenticate(
        {"Servers": [{"AccessToken": DEFAULT_JELLYFIN_API_KEY, "address": jellyfin.url}]}, discover=False
    )
    counted = keyed.jellyfin.items(params={"IncludeItemTypes": "Audio", "Recursive": True, "Limit": 0})
    assert counted["Items"] == [] and counted["TotalRecordCount"] == jellyfin.library.tracks
    bare = keyed.jellyfin.items(params={"IncludeItemTypes": "Audio", "Recursive": True, "Limit": 3})
    assert (
        "Genres" not in bare["Items"][0] and "DateCreated" not in bare["Items"][0]
    )  # gated by Fields, like Jellyfin


def test_case_insensitive_routes_and_query_keys_and_date_everywhere(jellyfin: DemoServer) -> None:
    url = jellyfin.url
    for path in ("/SYSTEM/INFO/PUBLIC", "/system/info/public", "/System/Info/Public/"):
        r = requests.get(url + path, timeout=5)
        assert r.status_code == 200 and r.json()["Id"] == jellyfin.machine_id and r.headers["Date"]
    r = requests.get(url + "/items?includeitemtypes=audio&LIMIT=2&startindex=1", headers=KEY, timeout=5)
    assert [i["Id"] for i in r.json()["Items"]] == [jellyfin.library.track(i).jellyfin_id for i in (1, 2)]
    for response in (
        requests.get(url + "/System/Info", timeout=5),  # 401
        requests.get(url + "/no/such/route", headers=KEY, timeout=5),  # 404
        requests.get(
            url + "/Users",
            headers={"Authorization": f'MediaBrowser  Token="{DEFAULT_JELLYFIN_API_KEY}"'},
            timeout=5,
        ),
        requests.get(url + f"/Users?ApiKey={DEFAULT_JELLYFIN_API_KEY}", timeout=5),
    ):
        assert "Date" in response.headers
    assert requests.get(url + "/System/Info", timeout=5).status_code == 401
    assert requests.get(url + f"/Users?ApiKey={DEFAULT_JELLYFIN_API_KEY}", timeout=5).status_code == 200
    # Jellyfin 10.11 turns the legacy forms off by default: each is refused as if no token was sent
    key = DEFAULT_JELLYFIN_API_KEY
    for legacy in (
        {"headers": {"X-Emby-Token": key}},
        {"headers": {"X-MediaBrowser-Token": key}},
        {"headers": {"X-Emby-Authorization": f'MediaBrowser Client="c", Token="{key}"'}},
        {"headers": {"Authorization": f'Emby Token="{key}"'}},
        {"params": {"api_key": key}},
    ):
        assert requests.get(url + "/Users", timeout=5, **legacy).status_code == 401, legacy  # type: ignore[arg-type]


def test_bodies_match_the_openapi_schemas(jellyfin: DemoServer) -> None:
    url = jellyfin.url
    login = requests.post(
        url + "/Users/AuthenticateByName",
        data=json.dumps({"Username": "admin", "pw": DEFAULT_JELLYFIN_PASSWORD}),
        headers={"Content-Type": "application/json"},
        timeout=5,
    ).json()
    checks = [
        (requests.get(url + "/System/Info/Public", timeout=5).json(), "PublicSystemInfo"),
        (requests.get(url + "/System/Info", headers=KEY, timeout=5).json(), "SystemInfo"),
        (login, "AuthenticationResult"),
        (requests.get(url + f"/Users/{login['User']['Id']}", headers=KEY, timeout=5).json(), "UserDto"),
        (
            requests.get(url + "/Library/MediaFolders", headers=KEY, timeout=5).json(),
            "BaseItemDtoQueryResult",
        ),
    ]
    fields = "Genres,DateCreated,SortName,Path,ProviderIds,ParentId,CanDownload"
    for types in ("Audio", "MusicAlbum", "MusicArtist"):
        page = requests.get(
            url + f"/Items?IncludeItemTypes={types}&Recursive=true&Limit=60&Fields={fields}",
            headers=KEY,
            timeout=5,
        )
        checks.append((page.json(), "BaseItemDtoQueryResult"))
    checks += [(u, "UserDto") for u in requests.get(url + "/Users", headers=KEY, timeout=5).json()]
    checks += [
        (f, "VirtualFolderInfo")
        for f in requests.get(url + "/Library/VirtualFolders", headers=KEY, timeout=5).json()
    ]
    for body, name in checks:
        assert SCHEMAS.check(body, name) == [], name
    folders = requests.get(url + "/Library/VirtualFolders", headers=KEY, timeout=5).json()
    assert [f["ItemId"] for f in folders if f["CollectionType"] == "music"] == [
        k for k, _, _ in jellyfin.library.music_libraries()
    ]
    assert any(f["CollectionType"] != "music" for f in folders)
    real = json.loads((FIXTURES / "jellyfin/music-assistant-tests/tracks_thrown_away.json").read_text())
    assert SCHEMAS.check(real, "BaseItemDto") == []  # the checker accepts a real recording


def test_restricted_user_sees_only_its_libraries_and_user_admin_flow() -> None:
    with start_demo_server(DemoConfig(kind="jellyfin", tracks=60, users=3, libraries=3)) as server:
        url, lib = server.url, server.library
        restricted = next(u for u in lib.users if u.library_keys)
        r = requests.get(
            url + f"/Users/{restricted.jellyfin_id}/Items?IncludeItemTypes=Audio&Recursive=true&Limit=0",
            headers=KEY,
            timeout=5,
        )
        assert r.json()["TotalRecordCount"] == sum(
            n for k, _, n in lib.music_libraries() if k in restricted.library_keys
        )
        new = requests.post(
            url + "/Users/New", json={"name": "new zoë", "Password": "pw"}, headers=KEY, timeout=5
        ).json()
        policy = new["Policy"] | {"EnableAllFolders": False, "EnabledFolders": [lib.music_libraries()[1][0]]}
        assert (
            requests.post(url + f"/Users/{new['Id']}/Policy", json=policy, headers=KEY, timeout=5).status_code
            == 204
        )
        assert (
            requests.post(
                url + f"/Users/{new['Id']}/Policy", json={"IsDisabled": True}, headers=KEY, timeout=5
            ).status_code
            == 400
        )
        token = requests.post(
            url + "/Users/AuthenticateByName", json={"Username": "NEW ZOË", "Pw": "pw"}, timeout=5
        ).json()["AccessToken"]
        mine = requests.get(
            url + "/Items?IncludeItemTypes=Audio&Recursive=true&Limit=0",
            headers={"Authorization": f'MediaBrowser Token="{token}"'},
            timeout=5,
        )
        assert mine.json()["TotalRecordCount"] == lib.music_libraries()[1][2]
        assert requests.delete(url + f"/Users/{new['Id']}", headers=KEY, timeout=5).status_code == 204
        assert (
            requests.get(
                url + "/Users", headers={"Authorization": f'MediaBrowser Token="{token}"'}, timeout=5
            ).status_code
            == 401
        )


def test_client_returns_none_on_500_and_reads_date(jellyfin: DemoServer) -> None:
    client = _login(jellyfin)
    jellyfin.set_faults("users:500")
    try:
        assert (
            client.jellyfin.get_users() is None
        )  # the library swallows 500s: adapters must treat None as failure
    finally:
        jellyfin.set_faults("")
    assert client.jellyfin.get_users() and client.config.data["server-time"]


@pytest.mark.parametrize("fields", ["", "Genres"])
def test_album_genres_follow_fields(jellyfin: DemoServer, fields: str) -> None:
    r = requests.get(
        jellyfin.url + f"/Items?IncludeItemTypes=MusicAlbum&Recursive=true&Fields={fields}",
        headers=KEY,
        timeout=5,
    )
    items = r.json()["Items"]
    assert len(items) == jellyfin.library.album_count
    assert all(("Genres" in i) == bool(fields) for i in items)
