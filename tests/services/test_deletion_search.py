"""The deletion search (``services.deletions``) against a real cache and a server stand-in that counts like
Plex (ranges of ``addedAt``) or like Jellyfin (sets of years, then album names within a year): it finds exactly
the deleted tracks, and gives up rather than name a track the server still has."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from app.core.models import PartitionLevel, RemoteLibrary, TrackBucket, TrackRecord
from app.services.deletions import DeletionSearch
from app.services.runner import ThreadRunner
from app.storage import Cache, open_cache
from tests.storage.conftest import add_server

KEY = "1"


class PartitionServer:
    """The server side of the search: its live tracks, counted like Plex (``plex=True``) or like Jellyfin."""

    def __init__(self, tracks: list[TrackRecord], plex: bool) -> None:
        self.tracks = {t.remote_id: t for t in tracks}
        self.plex = plex
        self.requests = 0
        self.partition = (
            (PartitionLevel("added_at", "added_at"),)
            if plex
            else (PartitionLevel("year", "year"), PartitionLevel("album", "album_remote_id"))
        )
        self.max_bucket_values = 1 << 30 if plex else 3
        self.max_ids_per_request = 25

    def count_tracks_in(self, library_key: str, bucket: TrackBucket) -> int:
        self.requests += 1
        live = self.tracks.values()
        if self.plex:
            lo, hi = bucket.values[0], bucket.values[-1]
            return sum(1 for t in live if t.added_at is not None and lo <= t.added_at <= hi)
        if not bucket.fixed:
            return sum(1 for t in live if t.year in bucket.values)
        assert len(bucket.values) <= self.max_bucket_values
        names = {t.album for t in live if t.album_remote_id in bucket.values}  # Jellyfin matches by name
        names |= {t.album for t in self.deleted if t.album_remote_id in bucket.values}
        return sum(1 for t in live if t.year == bucket.fixed[0] and t.album in names)

    deleted: Sequence[TrackRecord] = ()

    def existing_tracks(self, library_key: str, remote_ids: Sequence[str]) -> set[str]:
        self.requests += 1
        assert len(remote_ids) <= self.max_ids_per_request
        return {r for r in remote_ids if r in self.tracks}


def _track(i: int, year: int | None, album: int, added: float | None) -> TrackRecord:
    return TrackRecord(
        remote_id=f"t{i}",
        title=f"Song {i}",
        year=year,
        album=f"Album {album}",
        album_remote_id=f"al{album}",
        added_at=added,
    )


libraries = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(1990, 1996)),
        st.integers(0, 30),
        st.one_of(st.none(), st.integers(0, 200).map(float)),
    ),
    min_size=1,
    max_size=400,
)


@contextmanager
def _synced(path: Path, tracks: list[TrackRecord]) -> Iterator[tuple[Cache, int]]:
    """A cache at ``path`` holding ``tracks`` as one complete listing, with a refresh's staging begun."""
    cache = open_cache(path)
    try:
        sid = add_server(cache).id
        cache.tracks.begin_staging(sid)
        cache.tracks.stage_tracks(sid, KEY, tracks)
        cache.tracks.commit_staging(sid, [RemoteLibrary(KEY, "Music")], [KEY], [KEY])
        cache.tracks.begin_staging(sid)
        yield cache, sid
    finally:
        cache.close()


def _search(cache: Cache, server: PartitionServer, sid: int, total: int) -> list[str] | None:
    runner = ThreadRunner()
    try:
        search = DeletionSearch(runner, cache.tracks, server, runner.net, sid, KEY)  # type: ignore[arg-type]
        return asyncio.run(search.run(total))
    finally:
        runner.close()


@given(
    rows=libraries,
    plex=st.booleans(),
    gone_at=st.lists(st.integers(0, 10_000), max_size=4),
    added=st.integers(0, 3),
    edited=st.lists(st.integers(0, 10_000), max_size=3),
)
def test_search_finds_exactly_the_deleted_tracks_or_gives_up(
    rows: list[tuple[int | None, int, float | None]],
    plex: bool,
    gone_at: list[int],
    added: int,
    edited: list[int],
) -> None:
    cached = [_track(i, y, a, t) for i, (y, a, t) in enumerate(rows)]
    with tempfile.TemporaryDirectory() as tmp, _synced(Path(tmp) / "data", cached) as (cache, sid):
        # On the server: some tracks deleted, some added, some edited (another year); a refresh staged the
        # added and edited ones, as a delta listing does.
        gone = {cached[g % len(cached)].remote_id for g in gone_at}
        changed = [replace(cached[e % len(cached)], year=1999) for e in edited]
        changed = [t for t in changed if t.remote_id not in gone]
        new = [_track(10_000 + n, 1995, 7, 150.0 + n) for n in range(added)]
        live = [t for t in cached if t.remote_id not in gone]
        by_id = {t.remote_id: t for t in live} | {t.remote_id: t for t in changed + new}
        server = PartitionServer(list(by_id.values()), plex)
        server.deleted = [t for t in cached if t.remote_id in gone]
        cache.tracks.stage_tracks(sid, KEY, changed + new)
        found = _search(cache, server, sid, len(by_id))
    # A few deletions in a few hundred tracks are always found (no bucket is too big, no budget runs out).
    assert found is not None
    assert sorted(found) == sorted(gone)
    assert server.requests <= 64


def test_one_deletion_in_thousands_costs_a_handful_of_requests(tmp_path: Path) -> None:
    cached = [_track(i, 1950 + i % 60, i // 12, 1000.0 + i) for i in range(6000)]
    for plex in (True, False):
        with _synced(tmp_path / f"data-{plex}", cached) as (cache, sid):
            server = PartitionServer([t for t in cached if t.remote_id != "t4321"], plex)
            server.max_bucket_values = 1 << 30 if plex else 150
            server.max_ids_per_request = 100
            assert _search(cache, server, sid, len(cached) - 1) == ["t4321"]
        assert server.requests <= 12, (plex, server.requests)


class LyingServer(PartitionServer):
    """Counts one deletion, then says two tracks of the bucket are gone (or counts more than exist)."""

    def __init__(self, tracks: list[TrackRecord], plex: bool, lie: str) -> None:
        super().__init__(tracks, plex)
        self.lie = lie

    def count_tracks_in(self, library_key: str, bucket: TrackBucket) -> int:
        n = super().count_tracks_in(library_key, bucket)
        return n + 5 if self.lie == "count" else n

    def existing_tracks(self, library_key: str, remote_ids: Sequence[str]) -> set[str]:
        present = super().existing_tracks(library_key, remote_ids)
        return set(sorted(present)[1:]) if self.lie == "ids" else present


def test_a_server_whose_answers_do_not_add_up_gets_a_complete_listing(tmp_path: Path) -> None:
    cached = [_track(i, 1950 + i % 60, i // 12, 1000.0 + i) for i in range(600)]
    for n, (plex, lie) in enumerate([(True, "ids"), (False, "ids"), (True, "count"), (False, "count")]):
        with _synced(tmp_path / f"data-{n}", cached) as (cache, sid):
            server = LyingServer([t for t in cached if t.remote_id != "t432"], plex, lie)
            assert _search(cache, server, sid, len(cached) - 1) is None, (plex, lie)
