"""What the deletion search reads from the cache (the library as a merge of the staged rows would leave it,
counted by partition) and how tracks found deleted are merged."""

from __future__ import annotations

import pytest

from app.core.errors import RemovalsHeld
from app.core.filters import TrackFilter, TrackSort
from app.core.models import MergeCounts, PartitionLevel, RemoteLibrary
from app.storage import Cache
from tests.storage.conftest import add_server, sync, track

BY_YEAR_ALBUM = (PartitionLevel("year", "year"), PartitionLevel("album", "album_remote_id"))
BY_ADDED = (PartitionLevel("added_at", "added_at"),)


def _library(cache: Cache) -> int:
    s = add_server(cache)
    sync(
        cache,
        s.id,
        {
            "1": [
                track("a", year=1990, album="Blue", album_remote_id="b1", added_at=10.0),
                track("b", year=1990, album="Blue", album_remote_id="b1", added_at=20.0),
                track("c", year=1990, album="Red", album_remote_id="r1", added_at=20.0),
                track("d", year=2001, album="Blue", album_remote_id="b2", added_at=30.0),
                track("e", year=None, album=None, album_remote_id=None, added_at=None),
            ],
            "2": [track("z", year=1990, album="Blue", album_remote_id="b9", added_at=10.0)],
        },
    )
    return s.id


def test_partition_counts_groups_with_their_handles_and_unnamed_values_last(cache: Cache) -> None:
    sid = _library(cache)
    assert cache.tracks.expected_partition(sid, "1", BY_YEAR_ALBUM, ()) == (
        [1990, 2001, None],
        [1990, 2001, None],
        [3, 1, 1],
    )
    # Within 1990, albums are grouped by name and asked for by one id of that name.
    assert cache.tracks.expected_partition(sid, "1", BY_YEAR_ALBUM, (1990,)) == (
        ["Blue", "Red"],
        ["b1", "r1"],
        [2, 1],
    )
    assert cache.tracks.expected_partition(sid, "1", BY_ADDED, ()) == (
        [10.0, 20.0, 30.0, None],
        [10.0, 20.0, 30.0, None],
        [1, 2, 1, 1],
    )


def test_partition_follows_what_is_staged(cache: Cache) -> None:
    sid = _library(cache)
    cache.tracks.begin_staging(sid)
    # "a" moves to 2001, "n" is new, "z" moves from library 2 into library 1.
    cache.tracks.stage_tracks(
        sid,
        "1",
        [
            track("a", year=2001, album="Blue", album_remote_id="b2", added_at=10.0),
            track("n", year=2001, album="Green", album_remote_id="g1", added_at=40.0),
            track("z", year=1990, album="Blue", album_remote_id="b9", added_at=10.0),
        ],
    )
    groups, handles, counts = cache.tracks.expected_partition(sid, "1", BY_YEAR_ALBUM, ())
    assert (groups, counts) == ([1990, 2001, None], [3, 3, 1])
    assert cache.tracks.expected_partition(sid, "2", BY_YEAR_ALBUM, ())[2] == []
    assert sorted(cache.tracks.expected_ids(sid, "1", BY_YEAR_ALBUM, (1990,), ["Blue"], 10)) == ["b", "z"]
    assert sorted(cache.tracks.expected_ids(sid, "1", BY_YEAR_ALBUM, (), [2001, None], 10)) == [
        "a",
        "d",
        "e",
        "n",
    ]
    # At most limit + 1 ids come back: the caller sees there are too many.
    assert len(cache.tracks.expected_ids(sid, "1", BY_YEAR_ALBUM, (), [1990, 2001, None], 2)) == 3
    cache.tracks.stage_deleted(sid, "1", ["d"])
    assert cache.tracks.expected_partition(sid, "1", BY_YEAR_ALBUM, ())[2] == [3, 2, 1]


def test_a_partition_column_outside_the_whitelist_is_refused(cache: Cache) -> None:
    sid = _library(cache)
    with pytest.raises(ValueError, match="not a partition column"):
        cache.tracks.expected_partition(sid, "1", (PartitionLevel("remote_id; DROP", "year"),), ())


def test_tracks_found_deleted_go_with_the_merge_and_nothing_else_does(cache: Cache) -> None:
    sid = _library(cache)
    libs = [RemoteLibrary("1", "Library 1"), RemoteLibrary("2", "Library 2")]
    cache.tracks.begin_staging(sid)
    cache.tracks.stage_tracks(
        sid, "1", [track("a", "A edited", year=1990, album="Blue", album_remote_id="b1")]
    )
    cache.tracks.stage_deleted(sid, "1", ["c", "e"])
    counts = cache.tracks.commit_staging(sid, libs, ["1"], [], max_removal_pct=50)
    assert counts == MergeCounts(added=0, updated=1, removed=2, unchanged=0)
    titles = sorted(t.title for t in cache.tracks.query(TrackFilter(), TrackSort()))
    assert titles == ["A edited", "Song", "Song", "Song"]


def test_tracks_found_deleted_are_held_by_the_removal_floor(cache: Cache) -> None:
    sid = _library(cache)
    libs = [RemoteLibrary("1", "Library 1"), RemoteLibrary("2", "Library 2")]
    cache.tracks.begin_staging(sid)
    cache.tracks.stage_deleted(sid, "1", ["a", "b", "c"])
    with pytest.raises(RemovalsHeld) as held:
        cache.tracks.commit_staging(sid, libs, ["1"], [], max_removal_pct=50)
    assert held.value.removals == (("1", 3, 5),)
    assert cache.tracks.count(TrackFilter()) == 6
