"""Filters folded into FTS tag tokens (schema v7): a search with filters is one FTS5 query. The index must follow
every insert, change and delete of a filter column, and the folded plans must agree with the reference."""

from __future__ import annotations

import sqlite3
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.filters import SortColumn, TrackFilter, TrackSort
from app.core.models import TrackRecord
from app.storage import Cache
from app.storage import tracks_query as q
from app.storage import tracks_search as ts
from app.storage.tracks import SqliteTrackStore
from tests.storage import reference
from tests.storage.conftest import add_server, sync, track

GENRES = ["Rock", "rock", "Hip-Hop", "Électro", 'Q"uote', "音楽"]
SERVERS = ["alpha", "Beta"]


@st.composite
def versions(draw: st.DrawFn, rid: int) -> TrackRecord:
    return TrackRecord(
        remote_id=str(rid),
        title=draw(st.sampled_from(["ka lo", "Kalo mi", "mi", "zed ka", "lo"])),
        artist=draw(st.none() | st.sampled_from(["Kat", "Mo"])),
        genres=tuple(draw(st.lists(st.sampled_from(GENRES), max_size=3, unique=True))),
        year=draw(st.none() | st.sampled_from([1989, 1990, 1999, 2000, 2011])),
        rating=draw(st.none() | st.sampled_from([0.0, 0.5, 5.0, 5.5, 6.0, 9.9, 10.0])),
        is_live=draw(st.booleans()),
    )


folded_filters = st.builds(
    TrackFilter,
    server=st.none() | st.sampled_from([*SERVERS, "missing"]),
    genre=st.none() | st.sampled_from([*GENRES, "Nope"]),
    decade=st.none() | st.sampled_from([1980, 1990, 2000, 2010]),
    min_rating=st.none() | st.sampled_from([0.0, 5.0, 6.0, 10.0, 5.5]),
    exclude_live=st.booleans(),
    search=st.sampled_from(["k", "ka", "lo", "ka mi", "kalo", "z", "\ue000", "\ue000g"]),
)
TUNINGS = [
    ts.SearchTuning(),
    ts.SearchTuning(sort_cap=1, min_budget=1, budget_factor=0.5, sample_windows=3),
    ts.SearchTuning(force=ts.Plan.WALK_SET),
    ts.SearchTuning(force=ts.Plan.WALK_PROBE),
]


def _records(cache: Cache) -> list[dict[str, object]]:
    return [{**t.to_json(), "_id": t.id} for t in cache.tracks.query(TrackFilter(), TrackSort())]


def _fts_integrity(cache: Cache) -> None:
    with cache._db.write("test") as conn:
        conn.execute("INSERT INTO tracks_fts(tracks_fts) VALUES ('integrity-check')")


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.lists(st.tuples(st.integers(0, 15), st.sampled_from(SERVERS)), min_size=4, max_size=16),
    data=st.data(),
    checks=st.lists(st.tuples(folded_filters, st.booleans()), min_size=1, max_size=5),
)
def test_tags_follow_inserts_changes_and_deletes(
    cache: Cache,
    first: list[tuple[int, str]],
    data: st.DataObject,
    checks: list[tuple[TrackFilter, bool]],
) -> None:
    """Two syncs of the same remote ids with other genres/years/ratings/live flags (and some dropped): the
    second updates or deletes rows, so stale tags would show up as wrong counts or pages."""
    for server in cache.servers.list():
        cache.servers.remove(server.id)
    servers = {name: add_server(cache, name).id for name in SERVERS}
    for _round in range(2):
        libs: dict[str, list[TrackRecord]] = {name: [] for name in SERVERS}
        for rid, owner in first:
            if data.draw(st.booleans()):  # dropped this round (deleted if it was there)
                libs[owner].append(data.draw(versions(rid)))
        for name, sid in servers.items():
            sync(cache, sid, {"lib": libs[name]})
    _fts_integrity(cache)
    records = _records(cache)
    for flt, descending in checks:
        sort = TrackSort(SortColumn.TITLE, descending)
        expected = [r["_id"] for r in reference.filter_and_sort(records, flt, sort)]
        for tuning in TUNINGS:
            store = SqliteTrackStore(cache._db, time.time, tuning)
            assert store.count(flt) == len(expected), (flt, tuning)
            for limit, offset in ((1, 0), (3, 2), (50, 0)):
                page = [t.id for t in store.query(flt, sort, limit, offset)]
                assert page == expected[offset : offset + limit], (flt, tuning, limit, offset)


def test_a_filter_column_change_alone_reindexes_the_track(cache: Cache) -> None:
    """The update trigger fires for a change of genres, year, rating or live alone, not only for text."""
    s = add_server(cache)
    base = {"genres": ("Rock",), "year": 1994, "rating": 8.0, "is_live": False}
    sync(cache, s.id, {"1": [track("1", "Kalo", **base)]})
    for column, value, flt in (
        ("genres", ("Jazz",), TrackFilter(search="ka", genre="Jazz")),
        ("year", 2004, TrackFilter(search="ka", decade=2000)),
        ("rating", 3.0, TrackFilter(search="ka", min_rating=5, exclude_live=True)),
        ("is_live", True, TrackFilter(search="ka", exclude_live=True)),
    ):
        expected = 1 - cache.tracks.count(flt)
        sync(cache, s.id, {"1": [track("1", "Kalo", **{**base, column: value})]})
        assert cache.tracks.count(flt) == expected, column
        base[column] = value
    _fts_integrity(cache)


def test_fold_turns_filters_into_quoted_tag_terms() -> None:
    tags = q.fold(TrackFilter(genre='Hi"p', decade=1990, min_rating=7, exclude_live=True), 3)
    assert tags == q.Tags(("\ue000g48692270", "\ue000d199", "\ue000r07", "\ue000s3"), ("\ue000l",))
    assert q.fts_query(["ka"], tags) == (
        '(("ka"*) AND tags : ("\ue000g48692270" AND "\ue000d199" AND "\ue000r07" AND "\ue000s3"))'
        ' NOT tags : "\ue000l"'
    )
    assert q.fts_query(["\ue000g", "a"]) == '{title artist album} : ("\ue000g"* AND "a"*)'
    assert q.fold(TrackFilter(min_rating=7.5), None) is None  # between two rating tokens: row filter
    assert q.fold(TrackFilter(), -1) is None  # unknown server
    assert q.fold(TrackFilter(genre="x" * 201), None) is None


def test_a_search_word_never_matches_a_tag(cache: Cache) -> None:
    s = add_server(cache)
    sync(cache, s.id, {"1": [track("1", "Song", genres=("Rock",), year=1990, rating=9.0, is_live=True)]})
    for text in ("\ue000", "\ue000g", "\ue000l", "\ue000s"):
        for flt in (TrackFilter(search=text), TrackFilter(search=text, genre="Rock", decade=1990)):
            assert cache.tracks.count(flt) == 0
            assert cache.tracks.query(flt, TrackSort(), 10) == []


def test_v7_index_has_the_tags_column_and_triggers_skip_unchanged_rows(cache: Cache) -> None:
    s = add_server(cache)
    sync(cache, s.id, {"1": [track("1", "Kalo", genres=("Rock",), year=1990)]})
    conn = sqlite3.connect(cache.path)
    [sql] = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'tracks_fts'").fetchone()
    [trigger] = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'tracks_fts_update'").fetchone()
    conn.close()
    assert "tags" in sql and "detail=column" in sql and "prefix='1 2 3'" in sql
    for column in ("genres", "year", "rating", "is_live", "server_id", "title"):
        assert f"old.{column} IS NOT new.{column}" in trigger
