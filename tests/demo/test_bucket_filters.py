"""The demo servers answer the partition filters of the app's deletion search like real servers (real HTTP):
Plex ``addedAt>>=A&addedAt<<=B`` (strict) counts and pages and ``/library/metadata/k1,k2,...``; Jellyfin
``Years``, ``AlbumIds`` (by album name) and ``Ids``. Every count is checked against a brute force over every
live track of the edited library, read through ``LibraryEdits.track``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from app.demo import DEFAULT_JELLYFIN_API_KEY, DEFAULT_PLEX_TOKEN, DemoConfig, DemoServer, start_demo_server
from app.demo.jellyfin_items import iso
from app.demo.library import mix64, unmix64

NOW = 1_800_000_000


def _edit(server: DemoServer) -> None:
    """Deletes, adds (one of them inside the base tracks' addedAt span, one deleted again), edits an album's
    year, a track's year and a rating: every kind of patch the filters must apply to the lazy library."""
    lib, edits = server.library, server.edits
    clock = [float(NOW)]
    edits.clock = lambda: clock[0]
    for n in range(lib.libraries):
        lo, hi = lib.track_range(n)
        for i in (lo, lo + 5, (lo + hi) // 2, hi - 1):
            edits.delete_track(i)
        clock[0] = float(lib.track(lo + 100).added_at)  # the same second as a base track: a tie at the bound
        edits.add_track(lib.album_of(lo + 100), "Inside")
        clock[0] = float(lib.track(lo + 300).added_at + 3)
        gone = edits.add_track(lib.album_of(lo + 300), "Gone again")
        edits.delete_track(gone.index)
        clock[0] = float(NOW)
        edits.add_track(lib.album_of(hi - 30), "Late")
        edits.edit_album(lib.album_of(lo + 200), year=1977)
        edits.edit_track(lo + 400, year=2001)
        edits.rate_track(lo + 401, 8.0)
        edits.edit_track(lo + 450, album=lib.album(lib.album_of(lo + 900)).title)  # now named like another


def _live(server: DemoServer, n: int) -> list[int]:
    """The live tracks of library ``n`` in the demo's listing order (base ascending, then added ones)."""
    lib, edits = server.library, server.edits
    lo, hi = lib.track_range(n)
    base = [i for i in range(lo, hi) if not edits.is_deleted(i)]
    added = [
        i
        for i in range(lib.tracks, lib.tracks + 100)
        if _exists(server, i) and edits.track(i).library == n and not edits.is_deleted(i)
    ]
    return base + added


def _exists(server: DemoServer, i: int) -> bool:
    try:
        server.edits.track(i)
    except IndexError:
        return False
    return True


# ---- Plex ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plex() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="plex", tracks=3000, libraries=2, users=1, seed=5)) as server:
        _edit(server)
        yield server


def _plex_get(server: DemoServer, path: str, start: int = 0, size: int | None = None) -> requests.Response:
    headers = {"X-Plex-Token": DEFAULT_PLEX_TOKEN, "X-Plex-Container-Start": str(start)}
    if size is not None:
        headers["X-Plex-Container-Size"] = str(size)
    return requests.get(server.url + path, headers=headers, timeout=10)


def _plex_tracks(server: DemoServer, n: int, query: str, start: int = 0, size: int = 0) -> ET.Element:
    key = server.library.library_key(n)
    reply = _plex_get(server, f"/library/sections/{key}/all?type=10{query}", start, size)
    assert reply.status_code == 200, reply.text
    return ET.fromstring(reply.content)


def _keys(root: ET.Element) -> list[str]:
    return [el.get("ratingKey") or "" for el in root]


# Tracks where the edits sit (libraries start at 0 and 1500: deletions, an added track at the same second as
# track lo + 100 and another just after lo + 300) are drawn often; 3000 and more mean "at NOW, the late adds".
_EDGES = (5, 100, 300, 1505, 1600, 1800, 3000)
_BOUND = st.one_of(
    st.none(),
    st.tuples(st.one_of(st.integers(0, 3005), st.sampled_from(_EDGES)), st.sampled_from((-1, 0, 0, 1, 500))),
)


def _stamp(server: DemoServer, bound: tuple[int, int] | None) -> int | None:
    """A bound near a real addedAt (track ``i``'s, or far past the base tracks), so exact ties are common."""
    if bound is None:
        return None
    i, offset = bound
    return (server.library.track(i).added_at if i < server.library.tracks else NOW) + offset


@settings(deadline=None)
@given(
    n=st.integers(0, 1),
    after=_BOUND,
    before=_BOUND,
    updated=st.sampled_from((None, None, NOW - 1, NOW, 1_300_100_000)),
    start=st.integers(0, 40),
    size=st.integers(1, 30),
)
def test_plex_added_at_ranges_count_and_page_like_a_brute_force(
    plex: DemoServer,
    n: int,
    after: tuple[int, int] | None,
    before: tuple[int, int] | None,
    updated: int | None,
    start: int,
    size: int,
) -> None:
    edits = plex.edits
    low, high = _stamp(plex, after), _stamp(plex, before)
    query = "".join(
        f"&{name}={value}"
        for name, value in (("addedAt>>", low), ("addedAt<<", high), ("updatedAt>>", updated))
        if value is not None
    )

    def wanted(i: int) -> bool:
        added = edits.track_time(i, "added") or 0
        ok = (low is None or added > low) and (high is None or added < high)
        return ok and (updated is None or (edits.track_time(i, "updated") or 0) > updated)

    expected = [i for i in _live(plex, n) if wanted(i)]
    counted = _plex_tracks(plex, n, query)
    assert counted.get("totalSize") == str(len(expected)) and len(counted) == 0
    page = _plex_tracks(plex, n, query, start, size)
    assert _keys(page) == [edits.track(i).plex_id for i in expected[start : start + size]]
    assert page.get("totalSize") == str(len(expected))


def test_plex_operators_are_strict_at_an_exact_boundary(plex: DemoServer) -> None:
    lib = plex.library
    lo, _ = lib.track_range(1)
    t = lib.track(lo + 50)
    at = t.added_at
    assert _keys(_plex_tracks(plex, 1, f"&addedAt>>={at - 1}&addedAt<<={at + 1}", size=10)) == [t.plex_id]
    assert _plex_tracks(plex, 1, f"&addedAt>>={at}&addedAt<<={at + 1}").get("totalSize") == "0"
    assert _plex_tracks(plex, 1, f"&addedAt>>={at - 1}&addedAt<<={at}").get("totalSize") == "0"
    tie = lib.track(lo + 100).added_at  # a base track and an added one share this second
    inside = [t.plex_id for t in (lib.track(lo + 100), plex.edits.track(lib.tracks + 3))]
    assert plex.edits.track(lib.tracks + 3).title == "Inside"
    assert _keys(_plex_tracks(plex, 1, f"&addedAt>>={tie - 1}&addedAt<<={tie + 1}", size=10)) == inside
    assert _plex_tracks(plex, 1, f"&addedAt>>={tie}&addedAt<<={tie + 1}").get("totalSize") == "0"
    assert _plex_tracks(plex, 1, f"&addedAt>>={tie - 1}&addedAt<<={tie}").get("totalSize") == "0"
    edited = plex.edits.track(lo + 400)  # edited at NOW
    assert edited.plex_id in _keys(_plex_tracks(plex, 1, f"&updatedAt>>={NOW - 1}", size=50))
    assert edited.plex_id not in _keys(_plex_tracks(plex, 1, f"&updatedAt>>={NOW}", size=50))
    rated = plex.edits.track(lo + 401)
    assert _keys(_plex_tracks(plex, 1, f"&lastRatedAt>>={NOW - 1}", size=50)) == [rated.plex_id]
    assert _plex_tracks(plex, 1, f"&lastRatedAt>>={NOW}").get("totalSize") == "0"
    before = _plex_tracks(plex, 1, f"&lastRatedAt<<={NOW + 1}&lastRatedAt>>={NOW - 1}", size=50)
    assert _keys(before) == [rated.plex_id]
    assert _plex_tracks(plex, 1, f"&lastRatedAt<<={NOW}&lastRatedAt>>={NOW - 1}").get("totalSize") == "0"
    assert _plex_get(plex, "/library/sections/3/all?type=10&addedAt<<=soon", 0, 0).status_code == 400


def test_plex_metadata_of_several_keys_returns_the_existing_ones_in_order(plex: DemoServer) -> None:
    lib, edits = plex.library, plex.edits
    lo, hi = lib.track_range(0)
    live, deleted = lib.track(lo + 1).plex_id, lib.track(lo + 5).plex_id
    added = edits.track(lib.tracks).plex_id
    album = lib.album(3).plex_id
    unknown = str(int(lib.track(hi - 1).plex_id) + 10_000_000)
    reply = _plex_get(plex, f"/library/metadata/{added},{deleted},{unknown},{album},{live}")
    assert reply.status_code == 200
    root = ET.fromstring(reply.content)
    assert _keys(root) == [added, album, live] and root.get("size") == "3"
    assert [el.tag for el in root] == ["Track", "Directory", "Track"]
    assert _plex_get(plex, f"/library/metadata/{deleted},{unknown}").status_code == 404
    assert _plex_get(plex, f"/library/metadata/{deleted}").status_code == 404
    single = ET.fromstring(_plex_get(plex, f"/library/metadata/{live}").content)
    assert _keys(single) == [live]
    children = ET.fromstring(_plex_get(plex, f"/library/metadata/{album}/children").content)
    first, count = lib.album(3).first_track, lib.album(3).track_count
    assert _keys(children) == [
        lib.track(i).plex_id for i in range(first, first + count) if not edits.is_deleted(i)
    ]


# ---- Jellyfin -----------------------------------------------------------------------------------------------
@given(st.integers(0, 2**64 - 1))
def test_unmix64_inverts_mix64(x: int) -> None:
    assert unmix64(mix64(x)) == x and mix64(unmix64(x)) == x


@pytest.fixture(scope="module")
def jellyfin() -> Iterator[DemoServer]:
    with start_demo_server(DemoConfig(kind="jellyfin", tracks=3000, libraries=2, users=1, seed=5)) as server:
        _edit(server)
        yield server


def _items(server: DemoServer, n: int, **params: str) -> requests.Response:
    return requests.get(
        f"{server.url}/Items",
        params={
            "ParentId": server.library.library_key(n),
            "IncludeItemTypes": "Audio",
            "Recursive": "true",
            **params,
        },
        headers={"Authorization": f'MediaBrowser Token="{DEFAULT_JELLYFIN_API_KEY}"'},
        timeout=10,
    )


def _ok(reply: requests.Response) -> dict[str, object]:
    assert reply.status_code == 200, reply.text
    data: dict[str, object] = reply.json()
    return data


def _ids(data: dict[str, object]) -> list[str]:
    return [item["Id"] for item in data["Items"]]  # type: ignore[attr-defined,index]


_TRACK_PICK = st.one_of(st.integers(0, 3010), st.sampled_from((0, 5, 400, 450, 1500, 1505, 1900, 3000, 3001)))
_ALBUM_PICK = st.integers(0, 400)  # past album_count: an unknown id
_SAVED = st.sampled_from((None, None, None, NOW, NOW + 1, 1_300_200_000))


def _album_id(server: DemoServer, j: int) -> str:
    lib = server.library
    return lib.album(j).jellyfin_id if j < lib.album_count else lib.hex_id("no-album", j)


def _track_id(server: DemoServer, i: int, form: int) -> str:
    try:
        jid = server.edits.track(i).jellyfin_id
    except IndexError:
        jid = server.library.hex_id("no-track", i)
    if form == 1:  # a GUID with dashes, upper case: ASP.NET binds it to the same id
        jid = f"{jid[:8]}-{jid[8:12]}-{jid[12:16]}-{jid[16:20]}-{jid[20:]}".upper()
    return jid


@settings(deadline=None)
@given(
    n=st.integers(0, 1),
    years=st.one_of(st.none(), st.frozensets(st.sampled_from((1977, 2001, *range(1948, 2032))), max_size=4)),
    albums=st.one_of(st.none(), st.lists(_ALBUM_PICK, min_size=1, max_size=3)),
    tracks=st.one_of(
        st.none(), st.lists(st.tuples(_TRACK_PICK, st.integers(0, 1)), min_size=1, max_size=150)
    ),
    saved=_SAVED,
    start=st.integers(0, 20),
    limit=st.integers(1, 40),
)
def test_jellyfin_years_album_ids_and_ids_count_and_page_like_a_brute_force(
    jellyfin: DemoServer,
    n: int,
    years: frozenset[int] | None,
    albums: list[int] | None,
    tracks: list[tuple[int, int]] | None,
    saved: int | None,
    start: int,
    limit: int,
) -> None:
    edits = jellyfin.edits
    params: dict[str, str] = {}
    if years:
        params["Years"] = ",".join(map(str, sorted(years)))
    if albums is not None:
        params["AlbumIds"] = ",".join(_album_id(jellyfin, j) for j in albums)
    if tracks is not None:
        params["Ids"] = ",".join(_track_id(jellyfin, i, form) for i, form in tracks)
    if saved is not None:
        params["MinDateLastSaved"] = iso(saved)
    names = None
    if albums is not None:
        names = {edits.album(j).title for j in albums if j < jellyfin.library.album_count}
    wanted_ids = None if tracks is None else {_track_id(jellyfin, i, 0) for i, _ in tracks}

    def wanted(i: int) -> bool:
        t = edits.track(i)
        changed = saved is None or any(
            (edits.track_time(i, f) or 0) >= saved for f in ("updated", "album_updated")
        )
        return (
            changed
            and (not years or t.year in years)
            and (names is None or t.album in names)
            and (wanted_ids is None or t.jellyfin_id in wanted_ids)
        )

    expected = [edits.track(i).jellyfin_id for i in _live(jellyfin, n) if wanted(i)]
    counted = _ok(_items(jellyfin, n, Limit="0", **params))
    assert counted["TotalRecordCount"] == len(expected) and counted["Items"] == []
    if params.keys() <= {"MinDateLastSaved"}:
        return  # no partition filter: the listing the other tests cover (its order is the index order)
    page = _ok(_items(jellyfin, n, StartIndex=str(start), Limit=str(limit), **params))
    assert _ids(page) == expected[start : start + limit] and page["TotalRecordCount"] == len(expected)


def test_jellyfin_filters_match_real_semantics_at_the_edges(jellyfin: DemoServer) -> None:
    lib, edits = jellyfin.library, jellyfin.edits
    lo, hi = lib.track_range(1)
    edited = edits.track(lo + 400)  # its own year, not its album's
    by_year = _ok(_items(jellyfin, 1, Years="2001", Limit="100"))
    assert edited.jellyfin_id in _ids(by_year)
    assert next(i for i in by_year["Items"] if i["Id"] == edited.jellyfin_id)["ProductionYear"] == 2001  # type: ignore[attr-defined,index]
    j = lib.album_of(lo + 200)  # its year was edited to 1977: every live track of it has that year now
    in_1977 = set(_ids(_ok(_items(jellyfin, 1, Years="1977", Limit="500"))))
    assert {edits.track(i).jellyfin_id for i in lib.album_tracks(j) if not edits.is_deleted(i)} <= in_1977
    twins: dict[str, list[int]] = {}  # album titles two albums share: an AlbumIds of one matches both
    for a in range(lib.album_count):
        twins.setdefault(lib.album(a).title, []).append(a)
    shared = next(v for v in twins.values() if len(v) > 1)
    both = {lib.album(a).library for a in shared}
    for m in both:
        got = _ok(_items(jellyfin, m, AlbumIds=lib.album(shared[0]).jellyfin_id, Limit="500"))
        want = [
            edits.track(i).jellyfin_id
            for i in _live(jellyfin, m)
            if edits.track(i).album == lib.album(shared[0]).title
        ]
        assert _ids(got) == want and len({edits.track(i).album_index for i in _live(jellyfin, m)}) > 1
    unknown = _ok(_items(jellyfin, 1, AlbumIds=lib.hex_id("nothing", 0), Limit="0"))
    assert unknown["TotalRecordCount"] == 0
    deleted, live, other = lib.track(lo + 5), lib.track(lo + 6), lib.track(5)
    added = edits.track(lib.tracks + 3)
    ids = ",".join(t.jellyfin_id for t in (added, deleted, other, live))
    assert _ids(_ok(_items(jellyfin, 1, Ids=ids))) == [live.jellyfin_id, added.jellyfin_id]
    for bad in ({"Years": "nineteen"}, {"AlbumIds": "not-a-guid"}, {"Ids": "12,34"}):
        assert _items(jellyfin, 1, **bad).status_code == 400
