"""Demo library edits and the "changed since" listings of both demo servers (real HTTP)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
import requests

from app.demo import DEFAULT_JELLYFIN_API_KEY, DEFAULT_PLEX_TOKEN, DemoConfig, DemoServer, start_demo_server
from app.demo.control import handle
from app.demo.edits import LibraryEdits
from app.demo.library import DemoLibrary
from app.demo.transport import Request

NOW = 1_800_000_000


@pytest.fixture
def plex() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="plex", tracks=120, users=1, seed=3)) as server:
        server.edits.clock = lambda: NOW
        yield server


@pytest.fixture
def jellyfin() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="jellyfin", tracks=120, users=1, seed=3)) as server:
        server.edits.clock = lambda: NOW
        yield server


def _plex(server: DemoServer, query: str, size: int = 1000, start: int = 0) -> ET.Element:
    reply = requests.get(
        f"{server.url}/library/sections/2/all?{query}",
        headers={
            "X-Plex-Token": DEFAULT_PLEX_TOKEN,
            "X-Plex-Container-Start": str(start),
            "X-Plex-Container-Size": str(size),
        },
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return ET.fromstring(reply.content)


def _keys(root: ET.Element) -> list[str]:
    return [el.get("ratingKey") or "" for el in root if el.get("ratingKey")]


def test_base_times_grow_with_the_index_so_a_suffix_search_finds_them() -> None:
    lib = DemoLibrary("plex", seed=5, tracks=5000, libraries=3)
    added = [lib.track(i).added_at for i in range(lib.tracks)]
    assert added == sorted(added) and len(set(added)) == len(added)
    albums = [lib.album(j).added_at for j in range(lib.album_count)]
    assert albums == sorted(albums)
    edits = LibraryEdits(lib, clock=lambda: NOW)
    lo, hi = lib.track_range(1)
    since = lib.track(lo + 10).added_at + 60
    assert edits.changed_tracks([1], "updated", since) == list(range(lo + 10, hi))


def test_paging_skips_deleted_tracks_and_ends_with_added_ones() -> None:
    lib = DemoLibrary("plex", seed=5, tracks=300, libraries=2)
    edits = LibraryEdits(lib, clock=lambda: NOW)
    lo, hi = lib.track_range(0)
    for i in (lo, lo + 1, lo + 7, hi - 1):
        edits.delete_track(i)
    new = edits.add_track(0, "Bonus")
    expected = [i for i in range(lo, hi) if i not in (lo, lo + 1, lo + 7, hi - 1)] + [new.index]
    for size in (1, 3, 7, 50, 1000):
        pages = [edits.track_slice([0], start, size) for start in range(0, len(expected), size)]
        assert [i for p, _ in pages for i in p] == expected
        assert {total for _, total in pages} == {len(expected)} == {edits.track_count(0)}


def test_plex_changed_since_filters_and_a_rating_moves_last_rated_at_only(plex: DemoServer) -> None:
    edits, lib = plex.edits, plex.library
    assert _keys(_plex(plex, f"type=10&updatedAt>>={NOW}")) == []
    lo, _ = lib.track_range(0)
    edited = edits.edit_track(lo + 2, title="Renamed")
    rated = edits.rate_track(lo + 5, 9.0)
    root = _plex(plex, f"type=10&updatedAt>>={NOW - 1}")
    assert _keys(root) == [edited.plex_id] and root.get("totalSize") == "1"
    assert root[0].get("title") == "Renamed"
    rated_root = _plex(plex, f"type=10&lastRatedAt>>={NOW - 1}")
    assert _keys(rated_root) == [rated.plex_id]
    assert rated_root[0].get("userRating") == "9.0" and int(rated_root[0].get("updatedAt") or 0) < NOW


def test_plex_adds_deletes_and_album_genre_changes_show_in_listings(plex: DemoServer) -> None:
    edits, lib = plex.edits, plex.library
    lo, hi = lib.track_range(0)
    before = int(_plex(plex, "type=10", size=0).get("totalSize") or 0)
    added = edits.add_track(lib.album_of(lo), "Bonus")
    edits.delete_track(lo + 1)
    assert int(_plex(plex, "type=10", size=0).get("totalSize") or 0) == before
    every = _keys(_plex(plex, "type=10"))
    assert lib.track(lo + 1).plex_id not in every and every[-1] == added.plex_id
    assert _keys(_plex(plex, f"type=10&addedAt>>={NOW - 1}")) == [added.plex_id]
    j = lib.album_of(lo + 20)
    edits.edit_album(j, genres=("Polka",), year=1977)
    albums = _plex(plex, f"type=9&updatedAt>>={NOW - 1}")
    assert [(a.get("ratingKey"), [g.get("tag") for g in a], a.get("year")) for a in albums] == [
        (lib.album(j).plex_id, ["Polka"], "1977")
    ]
    album_tracks = _keys(_plex(plex, f"type=10&album.updatedAt>>={NOW - 1}"))
    first, count = lib.album(j).first_track, lib.album(j).track_count
    assert album_tracks == [lib.track(i).plex_id for i in range(first, first + count)]
    newest = _keys(_plex(plex, f"type=10&updatedAt>>={NOW - 1}&sort=updatedAt:desc"))
    assert newest == [added.plex_id]


def test_jellyfin_min_date_last_saved_and_for_user(jellyfin: DemoServer) -> None:
    edits, lib = jellyfin.edits, jellyfin.library
    lo, _ = lib.track_range(1)
    edited = edits.edit_track(lo, title="Renamed")
    rated = edits.rate_track(lo + 3, 4.5)
    j = lib.album_of(lo + 30)
    edits.edit_album(j, genres=("Polka",))

    def items(**params: str) -> dict[str, object]:
        reply = requests.get(
            f"{jellyfin.url}/Items",
            params={
                "IncludeItemTypes": "Audio",
                "Recursive": "true",
                "ParentId": lib.library_key(1),
                **params,
            },
            headers={"Authorization": f'MediaBrowser Token="{DEFAULT_JELLYFIN_API_KEY}"'},
            timeout=10,
        )
        assert reply.status_code == 200
        data: dict[str, object] = reply.json()
        return data

    stamp = "2027-01-15T08:00:00.0000000Z"  # NOW
    saved = items(MinDateLastSaved=stamp)
    album = lib.album(j)
    want = {edited.jellyfin_id} | {
        lib.track(i).jellyfin_id for i in range(album.first_track, album.first_track + album.track_count)
    }
    ids = {i["Id"] for i in saved["Items"]}  # type: ignore[attr-defined,index]
    assert ids == want and saved["TotalRecordCount"] == len(want)
    by_user = items(MinDateLastSavedForUser=stamp, Fields="Genres")
    assert [i["Id"] for i in by_user["Items"]] == [rated.jellyfin_id]  # type: ignore[attr-defined,index]
    assert by_user["Items"][0]["UserData"]["Rating"] == 4.5  # type: ignore[index]
    lean = items(Limit="2", EnableUserData="false")
    assert all("UserData" not in i for i in lean["Items"])  # type: ignore[attr-defined,union-attr]


def test_control_endpoint_edits_over_http_and_refuses_other_callers(plex: DemoServer) -> None:
    lib = plex.library
    lo, _ = lib.track_range(0)
    reply = requests.post(
        f"{plex.url}/zondarr-demo/edit",
        json={"op": "edit_track", "index": lo, "title": "Via HTTP"},
        headers={"X-Plex-Token": DEFAULT_PLEX_TOKEN},
        timeout=10,
    )
    assert reply.status_code == 200 and reply.json()["plex_id"] == lib.track(lo).plex_id
    assert plex.edits.track(lo).title == "Via HTTP"
    no_token = requests.post(
        f"{plex.url}/zondarr-demo/edit", json={"op": "delete_track", "index": lo}, timeout=10
    )
    assert no_token.status_code == 401 and not plex.edits.is_deleted(lo)
    remote = Request("POST", "/zondarr-demo/edit", {}, {}, b'{"op": "delete_track", "index": 0}', "192.0.2.7")
    assert handle(plex._ctx, remote).status == 403 and not plex.edits.is_deleted(0)
    bad = Request(
        "POST", "/zondarr-demo/edit", {}, {}, b'{"op": "delete_track", "index": 99999}', "127.0.0.1"
    )
    assert handle(plex._ctx, bad).status == 404


def _post(server: DemoServer, body: dict[str, object]) -> requests.Response:
    return requests.post(
        f"{server.url}/zondarr-demo/edit", json=body, headers={"X-Plex-Token": DEFAULT_PLEX_TOKEN}, timeout=10
    )


def test_control_endpoint_replaces_faults(plex: DemoServer) -> None:
    reply = _post(plex, {"op": "faults", "spec": "tracks:latency=0.01"})
    assert reply.status_code == 200 and [r.fault for r in plex.fault_rules] == ["latency"]
    bad = _post(plex, {"op": "faults", "spec": "nonsense"})
    assert bad.status_code == 400 and [r.fault for r in plex.fault_rules] == ["latency"]
