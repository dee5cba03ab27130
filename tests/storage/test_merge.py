"""The sync write path: staging, the one-transaction merge, its counts, and what it (does not) write."""

from __future__ import annotations

import sqlite3

from app.core.filters import TrackFilter, TrackSort
from app.core.models import AlbumRecord, MergeCounts, RemoteLibrary
from app.storage import Cache
from tests.storage.conftest import add_server, sync, track


def _titles(cache: Cache, flt: TrackFilter | None = None) -> list[str]:
    return [t.title for t in cache.tracks.query(flt or TrackFilter(), TrackSort())]


def _changes(cache: Cache) -> int:
    """Rows SQLite has written on the writer connection since it opened (incl. triggers)."""
    return cache._db.writer.total_changes


def test_first_merge_inserts_everything_with_counts(cache: Cache) -> None:
    s = add_server(cache)
    counts = sync(cache, s.id, {"1": [track("a", "Alpha", genres=("Rock", "Pop")), track("b", "Beta")]})
    assert counts == MergeCounts(added=2, updated=0, removed=0, unchanged=0)
    [a, b] = cache.tracks.query(TrackFilter(), TrackSort())
    assert (a.title, a.genres, a.library, a.server) == ("Alpha", ("Rock", "Pop"), "Library 1", "Home")
    assert cache.tracks.count(TrackFilter(genre="Pop")) == 1
    assert cache.tracks.library_track_counts(s.id) == {"1": 2}


def test_unchanged_remerge_writes_no_track_row(cache: Cache) -> None:
    s = add_server(cache)
    tracks = [track(str(i), f"Song {i}", genres=("Jazz",), year=1990 + i % 10) for i in range(300)]
    sync(cache, s.id, {"1": tracks})
    cache.tracks.begin_staging(s.id)
    cache.tracks.stage_tracks(s.id, "1", tracks)
    w = cache._db.writer
    w.execute("CREATE TEMP TABLE writes(tbl TEXT)")
    for tbl in ("tracks", "track_genres", "albums", "libraries"):
        for op in ("INSERT", "UPDATE", "DELETE"):
            sql = f"CREATE TEMP TRIGGER log_{op}_{tbl} AFTER {op} ON main.{tbl} BEGIN INSERT INTO writes VALUES ('{op} {tbl}'); END"  # noqa: S608 - test constants
            w.execute(sql)
    before = _changes(cache)
    counts = cache.tracks.commit_staging(s.id, [RemoteLibrary("1", "Library 1")], ["1"], ["1"])
    assert counts == MergeCounts(unchanged=300)
    assert w.execute("SELECT count(*) FROM temp.writes").fetchone()[0] == 0
    # What was written: the 300 staged rows cleared, plus the merge's connection-private temp tables (one match
    # row per staged row, filled and emptied again for the albums' pass), nothing in the cache's tables.
    assert 300 <= _changes(cache) - before < 3 * 300 + 10


def test_changed_rows_are_updated_and_search_follows(cache: Cache) -> None:
    s = add_server(cache)
    sync(cache, s.id, {"1": [track("a", "Old Title", rating=2.0), track("b", "Keep", artist="X")]})
    [old_a] = cache.tracks.query(TrackFilter(search="old"), TrackSort())
    counts = sync(cache, s.id, {"1": [track("a", "New Title", rating=8.0), track("b", "Keep", artist="X")]})
    assert counts == MergeCounts(updated=1, unchanged=1)
    assert cache.tracks.count(TrackFilter(search="old")) == 0
    [new_a] = cache.tracks.query(TrackFilter(search="new"), TrackSort())
    assert new_a.id == old_a.id and new_a.rating == 8.0
    assert cache.tracks.count(TrackFilter(min_rating=5)) == 1


def test_genre_change_rewrites_genre_rows(cache: Cache) -> None:
    s = add_server(cache)
    sync(cache, s.id, {"1": [track("a", genres=("Rock",), year=1995)]})
    sync(cache, s.id, {"1": [track("a", genres=("Blues", "Soul"), year=1975)]})
    assert cache.tracks.count(TrackFilter(genre="Rock")) == 0
    assert cache.tracks.count(TrackFilter(genre="Soul", decade=1970)) == 1
    assert cache.tracks.genres() == ["Blues", "Soul"]


def test_vanished_tracks_deleted_only_for_complete_libraries(cache: Cache) -> None:
    s = add_server(cache)
    sync(cache, s.id, {"1": [track("a", "A1"), track("b", "B1")], "2": [track("c", "C2"), track("d", "D2")]})
    # Library 1 listed completely without "b"; library 2 had failures: only upserts.
    counts = sync(cache, s.id, {"1": [track("a", "A1")], "2": [track("c", "C2 new")]}, complete=["1"])
    assert counts == MergeCounts(added=0, updated=1, removed=1, unchanged=1)
    assert _titles(cache) == ["A1", "C2 new", "D2"]
    assert cache.tracks.count(TrackFilter(search="b1")) == 0


def test_libraries_not_in_merge_keys_are_untouched(cache: Cache) -> None:
    s = add_server(cache)
    sync(cache, s.id, {"1": [track("a", "A")]})
    cache.tracks.begin_staging(s.id)
    cache.tracks.stage_tracks(s.id, "1", [track("a", "A changed")])
    counts = cache.tracks.commit_staging(s.id, [RemoteLibrary("1", "Renamed")], [], [])
    assert counts == MergeCounts()
    assert _titles(cache) == ["A"]
    assert cache.tracks.libraries(s.id)[0].title == "Renamed"
    # and the staged rows were cleared: a later commit does not pick them up
    assert cache.tracks.commit_staging(s.id, [], ["1"], []) == MergeCounts()


def test_begin_staging_drops_leftovers_of_a_killed_run(cache: Cache) -> None:
    s = add_server(cache)
    cache.tracks.stage_tracks(s.id, "1", [track("ghost", "Ghost")])
    counts = sync(cache, s.id, {"1": [track("a", "Real")]})
    assert counts.added == 1 and _titles(cache) == ["Real"]


def test_discard_staging(cache: Cache) -> None:
    s = add_server(cache)
    cache.tracks.stage_tracks(s.id, "1", [track("a", "A")])
    cache.tracks.discard_staging(s.id)
    assert cache.tracks.commit_staging(s.id, [RemoteLibrary("1", "L")], ["1"], ["1"]) == MergeCounts()


def test_duplicate_remote_id_in_pages_is_one_track(cache: Cache) -> None:
    s = add_server(cache)
    counts = sync(cache, s.id, {"1": [track("a", "First"), track("a", "Second")]})
    assert counts.added == 1 and _titles(cache) == ["Second"]


def test_albums_merge_and_vanish(cache: Cache) -> None:
    s = add_server(cache)
    for albums in ([AlbumRecord("x", "X"), AlbumRecord("y", "Y")], [AlbumRecord("x", "X2")]):
        cache.tracks.begin_staging(s.id)
        cache.tracks.stage_albums(s.id, "1", albums)
        cache.tracks.commit_staging(s.id, [RemoteLibrary("1", "L")], ["1"], ["1"])
    with sqlite3.connect(cache.path) as conn:
        assert conn.execute("SELECT remote_id, title FROM albums").fetchall() == [("x", "X2")]


def test_clear_server_keeps_the_server_and_other_servers(cache: Cache) -> None:
    s1, s2 = add_server(cache, "One"), add_server(cache, "Two")
    sync(cache, s1.id, {"1": [track("a", "A", genres=("G",))]})
    sync(cache, s2.id, {"1": [track("a", "B", genres=("G",))]})
    cache.tracks.clear_server(s1.id)
    assert cache.servers.get(s1.id).name == "One"
    assert _titles(cache) == ["B"]
    assert cache.tracks.count(TrackFilter(genre="G")) == 1
    assert cache.tracks.libraries(s1.id) == []


def test_remove_server_cascades(cache: Cache) -> None:
    s1, s2 = add_server(cache, "One"), add_server(cache, "Two")
    sync(cache, s1.id, {"1": [track("a", "Apple", genres=("G",))]})
    sync(cache, s2.id, {"1": [track("a", "Banana")]})
    cache.servers.remove(s1.id)
    assert _titles(cache) == ["Banana"]
    assert cache.tracks.count(TrackFilter(search="apple")) == 0
    assert cache.tracks.genres() == []
    assert cache.integrity_check() == "ok"


def test_ids_never_reused_after_delete(cache: Cache) -> None:
    s = add_server(cache)
    sync(cache, s.id, {"1": [track("a"), track("b")]})
    old = set(cache.tracks.ids(TrackFilter(), TrackSort()))
    sync(cache, s.id, {"1": [track("a")]})
    sync(cache, s.id, {"1": [track("a"), track("c")]})
    new = set(cache.tracks.ids(TrackFilter(), TrackSort()))
    assert len(new) == 2 and not (new - old) & old
    assert max(new) > max(old)


def test_a_merged_track_keeps_what_it_has_and_takes_only_what_it_lacks_from_its_album(cache: Cache) -> None:
    s = add_server(cache)
    cache.tracks.begin_staging(s.id)
    cache.tracks.stage_albums(
        s.id,
        "1",
        [
            AlbumRecord("al1", "Old", "X", 1900, ("Other",)),
            AlbumRecord("al1", "A", "X", 1959, ("Jazz", "Bop")),
        ],
    )
    cache.tracks.stage_tracks(
        s.id,
        "1",
        [
            track("full", "Full", genres=("Rock",), year=1990, album_remote_id="al1"),
            track("bare", "Bare", album_remote_id="al1"),
            track("only-year", "Only year", genres=("Pop", "Soul"), album_remote_id="al1"),
            track("no-album", "No album"),
            track("unknown", "Unknown album", album_remote_id="al-none"),
        ],
    )
    cache.tracks.commit_staging(s.id, [RemoteLibrary("1", "Music")], ["1"], ["1"])
    got = {
        t.title: (t.genres[0] if t.genres else None, t.genres, t.year)
        for t in cache.tracks.query(TrackFilter(), TrackSort())
    }
    assert got == {
        "Full": ("Rock", ("Rock",), 1990),  # keeps everything it has
        "Bare": ("Jazz", ("Jazz", "Bop"), 1959),  # the album staged last wins
        "Only year": ("Pop", ("Pop", "Soul"), 1959),  # keeps its genres, takes the year
        "No album": (None, (), None),
        "Unknown album": (None, (), None),
    }
    assert cache.tracks.count(TrackFilter(genre="Bop")) == 1  # the genre index follows the filled genres
    with sqlite3.connect(cache.path) as conn:  # the albums are merged as staged (the last one wins)
        first = dict(conn.execute("SELECT title, genre FROM tracks").fetchall())
        assert first == {k: v[0] for k, v in got.items()}  # the sortable first-genre column too
        assert conn.execute("SELECT remote_id, year, genres FROM albums").fetchall() == [
            ("al1", 1959, '["Jazz", "Bop"]')
        ]


def test_a_refresh_takes_the_cached_album_for_a_track_whose_album_was_not_listed(cache: Cache) -> None:
    s = add_server(cache)
    lib = [RemoteLibrary("1", "Music")]
    cache.tracks.begin_staging(s.id)
    cache.tracks.stage_albums(
        s.id,
        "1",
        [AlbumRecord("al1", "A", "X", 1959, ("Jazz",)), AlbumRecord("al2", "B", "X", 1960, ("Pop",))],
    )
    cache.tracks.stage_tracks(s.id, "1", [track("t1", "One", album_remote_id="al1")])
    cache.tracks.commit_staging(s.id, lib, ["1"], ["1"])
    # A refresh: one changed track of al1 (not listed again), and al2 changed (listed, with its track).
    cache.tracks.begin_staging(s.id)
    cache.tracks.stage_albums(s.id, "1", [AlbumRecord("al2", "B", "X", 1961, ("Soul",))])
    cache.tracks.stage_tracks(
        s.id,
        "1",
        [track("t1", "One, edited", album_remote_id="al1"), track("t2", "Two", album_remote_id="al2")],
    )
    assert cache.tracks.staged_totals(s.id, "1") == (2, 2)  # 1 cached + 1 new track; 2 cached albums
    cache.tracks.commit_staging(s.id, lib, ["1"], [])
    got = {t.title: (t.genres, t.year) for t in cache.tracks.query(TrackFilter(), TrackSort())}
    assert got == {"One, edited": (("Jazz",), 1959), "Two": (("Soul",), 1961)}


def test_listing_marks_are_written_with_the_merge_and_keep_the_last_complete_one(cache: Cache) -> None:
    from app.core.models import ListingMark

    s = add_server(cache)
    lib = [RemoteLibrary("1", "Music"), RemoteLibrary("2", "More")]
    assert cache.tracks.listing_marks(s.id) == {}
    cache.tracks.begin_staging(s.id)
    cache.tracks.stage_tracks(s.id, "1", [track("a")])
    cache.tracks.commit_staging(s.id, lib, ["1", "2"], ["1", "2"], marks={"1": ListingMark(100.0, 5.0)})
    cache.tracks.begin_staging(s.id)
    cache.tracks.commit_staging(s.id, lib, ["1"], [], marks={"1": ListingMark(200.0, None)})
    assert cache.tracks.listing_marks(s.id) == {"1": ListingMark(200.0, 5.0)}  # a delta keeps full_at
