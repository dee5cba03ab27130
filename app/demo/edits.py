"""Edits to a demo library (DESIGN §7): tracks edited, rated, added and deleted, albums given other genres or a
year, each with the time a real server would record (Plex ``updatedAt``/``lastRatedAt``, Jellyfin
``DateLastSaved`` and the user data's save time), and the "changed since" listings built from them.

The synthetic library stays lazy: an edit keeps one replaced record (and its stamp) per touched item; nothing
is copied for the untouched ones. The base items' times are derived from ``added_at`` (``updatedAt`` 60 s
after it, a rating 120 s after it), which grows with the item's index (checked by the tests), so "changed
since T" over the base items is a suffix of each index range, found by bisection.

Thread-safe: every method holds the lock; readers get immutable records or fresh lists.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable

from app.demo.library import DemoAlbum, DemoLibrary, DemoTrack

UPDATED_AFTER_ADD = 60  # base items: updatedAt / DateLastSaved = added_at + 60
RATED_AFTER_ADD = 120  # base rated tracks: lastRatedAt / user data saved = added_at + 120

# What a "changed since" filter compares: the item's metadata time, its user-data (rating) time, its
# creation time, or (tracks only) its album's metadata time.
FIELDS = ("updated", "rated", "added", "album_updated")


class EditError(ValueError):
    """An edit names an item that does not exist (or was deleted)."""


class LibraryEdits:
    """The edits of one demo server's library. ``clock`` gives the server's time (epoch seconds)."""

    def __init__(self, library: DemoLibrary, clock: Callable[[], float] = time.time) -> None:
        self.lib = library
        self.clock = clock
        self._lock = threading.RLock()
        self._tracks: dict[int, DemoTrack] = {}  # replaced or added tracks by index
        self._updated: dict[int, float] = {}  # track index -> metadata time after an edit
        self._rated: dict[int, float | None] = {}  # track index -> rating time after a rating (None: unrated)
        self._deleted: list[int] = []  # sorted track indices
        self._added: dict[int, list[int]] = {}  # library number -> added track indices, in order
        self._next_index = library.tracks
        self._albums: dict[int, DemoAlbum] = {}
        self._album_updated: dict[int, float] = {}
        self.revision = 0  # bumped by every edit (renderers key their caches on it)

    # ---- reading ---------------------------------------------------------------------------------------
    def track(self, i: int) -> DemoTrack:
        """Track ``i`` as it is now (edited, added or base). Raises IndexError for an unknown index."""
        with self._lock:
            t = self._tracks.get(i)
        if t is not None:
            return t
        if i >= self.lib.tracks:
            raise IndexError(i)
        base = self.lib.track(i)
        album = self._albums.get(base.album_index)
        if album is not None:  # tracks inherit their album's genres and year
            return dataclasses.replace(base, genres=album.genres, year=album.year)
        return base

    def album(self, j: int) -> DemoAlbum:
        with self._lock:
            a = self._albums.get(j)
        return a if a is not None else self.lib.album(j)

    def is_deleted(self, i: int) -> bool:
        with self._lock:
            k = bisect_left(self._deleted, i)
            return k < len(self._deleted) and self._deleted[k] == i

    def track_time(self, i: int, field: str) -> float | None:
        """The time ``field`` (one of ``FIELDS``) has for track ``i``; None when it has none (never rated)."""
        t = self.track(i)
        with self._lock:
            if field == "updated":
                return self._updated.get(i, t.added_at + UPDATED_AFTER_ADD)
            if field == "rated":
                if i in self._rated:
                    return self._rated[i]
                return None if t.rating is None else t.added_at + RATED_AFTER_ADD
            if field == "added":
                return t.added_at
        return self.album_time(t.album_index)

    def album_time(self, j: int) -> float:
        with self._lock:
            stamp = self._album_updated.get(j)
        return stamp if stamp is not None else self.lib.album(j).added_at + UPDATED_AFTER_ADD

    def album_stamp(self, j: int) -> float:
        """A value that changes whenever album ``j`` is edited (for render caches)."""
        with self._lock:
            return self._album_updated.get(j, 0.0)

    # ---- listings ----------------------------------------------------------------------------------------
    def track_count(self, lib: int) -> int:
        lo, hi = self.lib.track_range(lib)
        with self._lock:
            return hi - lo - self.deleted_between(lo, hi) + len(self._live_added(lib))

    def track_slice(self, libs: Iterable[int], start: int, limit: int | None) -> tuple[list[int], int]:
        """Indices ``[start, start+limit)`` of the live tracks of ``libs`` (each: its base range without the
        deleted ones, then its added tracks), and the total. Costs O(page + log n), not O(library)."""
        with self._lock:
            parts = [(*self.lib.track_range(lib), self._live_added(lib)) for lib in libs]
            return self._slice(parts, start, limit)

    def added_between(
        self, libs: Iterable[int], after: float | None, before: float | None, start: int, limit: int | None
    ) -> tuple[list[int], int]:
        """Like ``track_slice``, but only the tracks whose ``added_at`` is strictly after ``after`` and strictly
        before ``before`` (None: unbounded), as Plex's ``addedAt>>=A&addedAt<<=B``. Base tracks keep their
        ``added_at`` (no edit changes it) and it grows with the index, so their part is one index window found
        by bisection: O(page + log n + added tracks)."""
        with self._lock:
            parts = []
            for lib in libs:
                lo, hi = self._base_window(lib, after, before)
                added = [i for i in self._live_added(lib) if _inside(self._tracks[i].added_at, after, before)]
                parts.append((lo, hi, added))
            return self._slice(parts, start, limit)

    def _base_window(self, lib: int, after: float | None, before: float | None) -> tuple[int, int]:
        """``[a, b)``: the base indices of ``lib`` whose ``added_at`` is in ``(after, before)``."""
        lo, hi = self.lib.track_range(lib)
        seq = range(hi)

        def added_at(i: int) -> int:
            return self.lib.track(i).added_at

        a = lo if after is None else bisect_right(seq, after, lo, hi, key=added_at)
        b = hi if before is None else bisect_left(seq, before, lo, hi, key=added_at)
        return a, max(a, b)

    def _live_added(self, lib: int) -> list[int]:
        """The added, undeleted tracks of ``lib`` in the order they were added. Lock held."""
        return [i for i in self._added.get(lib, []) if not self.is_deleted(i)]

    def deleted_between(self, lo: int, hi: int) -> int:
        """How many of the indices ``[lo, hi)`` are deleted (by bisection)."""
        with self._lock:
            return bisect_left(self._deleted, hi) - bisect_left(self._deleted, lo)

    def _slice(
        self, parts: list[tuple[int, int, list[int]]], start: int, limit: int | None
    ) -> tuple[list[int], int]:
        """Page ``[start, start+limit)`` of the concatenation of ``parts`` (each: the live indices of a base
        window ``[lo, hi)``, then a list of added indices), and the total. Lock held."""
        out: list[int] = []
        total = 0
        skip = start
        cap = 10**12 if limit is None else limit
        for lo, hi, added in parts:
            base_live = hi - lo - self.deleted_between(lo, hi)
            total += base_live + len(added)
            if cap - len(out) <= 0:
                continue
            if skip < base_live:
                out.extend(self._base_live(lo, hi, skip, cap - len(out)))
                skip = 0
            else:
                skip -= base_live
            want = cap - len(out)
            if want > 0:
                out.extend(added[skip : skip + want])
                skip = max(0, skip - len(added))
        return out, total

    def _base_live(self, lo: int, hi: int, skip: int, want: int) -> list[int]:
        """Up to ``want`` undeleted indices of ``[lo, hi)`` after skipping ``skip`` of them. Lock held."""
        d = self._deleted
        x = lo + skip  # smallest x with (x - lo) - deleted in [lo, x) == skip, x not deleted
        while True:
            nx = lo + skip + (bisect_left(d, x + 1) - bisect_left(d, lo))
            if nx == x:
                break
            x = nx
        out: list[int] = []
        k = bisect_left(d, x)
        while x < hi and len(out) < want:
            if k < len(d) and d[k] == x:
                k += 1
            else:
                out.append(x)
            x += 1
        return out

    def live_track_of(self, jellyfin_id: str) -> int | None:
        """The index of the live (existing, undeleted) track with this Jellyfin id, else None. No table: the id
        names at most two candidate indices (``DemoLibrary.track_candidates``)."""
        for i in self.lib.track_candidates(jellyfin_id):
            if (
                0 <= i < self._next_index
                and not self.is_deleted(i)
                and self.track(i).jellyfin_id == jellyfin_id
            ):
                return i
        return None

    def tracks_by_album(
        self,
        libs: Iterable[int],
        base_albums: Iterable[int],
        album_ok: Callable[[DemoAlbum], bool],
        track_ok: Callable[[DemoTrack], bool],
        start: int,
        limit: int | None,
    ) -> tuple[list[int], int]:
        """Page ``[start, start+limit)`` (in ``track_slice`` order) of the live tracks of ``libs`` that pass
        ``track_ok``, and their total. ``track_ok`` must hold for an untouched track exactly when ``album_ok``
        holds for its album as edited (a year or album-name test). ``base_albums``: every album whose unedited record
        passes ``album_ok`` (callers find them in ``DemoLibrary.album_lookup``). The count goes album by album,
        deleted tracks subtracted by bisection and replaced or added tracks patched one by one:
        O(albums + edits), never O(tracks); a page costs O(matching tracks) more."""
        libs = list(libs)
        with self._lock:
            ranges = [self.lib.album_range(n) for n in libs]

            def mine(j: int) -> bool:
                return any(lo <= j < hi for lo, hi in ranges)

            albums = {j for j in base_albums if j not in self._albums and mine(j)}
            albums |= {j for j, a in self._albums.items() if mine(j) and album_ok(a)}
            total = 0
            for j in albums:
                span = self.lib.album_tracks(j)
                total += len(span) - self.deleted_between(span.start, span.stop)
            replaced = {i: t for i, t in self._tracks.items() if t.library in libs and not self.is_deleted(i)}
            for i, t in replaced.items():
                total += track_ok(t) - (i < self.lib.tracks and self.lib.album_of(i) in albums)
            if limit == 0:
                return [], total
            every: list[int] = []
            want = None if limit is None else start + limit
            for n, (alo, ahi) in zip(libs, ranges, strict=True):
                lo, hi = self.lib.track_range(n)
                base = [
                    i
                    for j in sorted(a for a in albums if alo <= a < ahi)
                    for i in self.lib.album_tracks(j)
                    if i not in replaced and not self.is_deleted(i)
                ]
                base += [i for i, t in replaced.items() if lo <= i < hi and track_ok(t)]
                every += sorted(base)
                every += [i for i in self._live_added(n) if track_ok(self._tracks[i])]
                if want is not None and len(every) >= want:
                    break
            return every[start:want], total

    def changed_tracks(self, libs: Iterable[int], field: str, since: float) -> list[int]:
        """Live track indices of ``libs`` whose ``field`` time is at or after ``since``, in index order."""
        found: set[int] = set()
        with self._lock:
            for lib in libs:
                lo, hi = self.lib.track_range(lib)
                if field == "album_updated":
                    alo, ahi = self.lib.album_range(lib)
                    albums = self._base_suffix(alo, ahi, lambda j: self.lib.album(j).added_at, since)
                    albums += [j for j in self._album_updated if alo <= j < ahi]
                    for j in set(albums):
                        if self.album_time(j) >= since:
                            a = self.lib.album(j)
                            found.update(range(a.first_track, a.first_track + a.track_count))
                            found.update(
                                i for i in self._added.get(lib, []) if self.track(i).album_index == j
                            )
                else:
                    found.update(self._base_suffix(lo, hi, lambda i: self.lib.track(i).added_at, since))
                    found.update(self._added.get(lib, []))
                    found.update(i for i in (*self._updated, *self._rated) if lo <= i < hi)
            keep = [i for i in found if not self.is_deleted(i)]
        return sorted(i for i in keep if (stamp := self.track_time(i, field)) is not None and stamp >= since)

    def changed_albums(self, libs: Iterable[int], since: float) -> list[int]:
        """Album indices of ``libs`` whose metadata time is at or after ``since``, in index order."""
        found: set[int] = set()
        with self._lock:
            for lib in libs:
                lo, hi = self.lib.album_range(lib)
                found.update(self._base_suffix(lo, hi, lambda j: self.lib.album(j).added_at, since))
                found.update(j for j in self._album_updated if lo <= j < hi)
        return sorted(j for j in found if self.album_time(j) >= since)

    @staticmethod
    def _base_suffix(lo: int, hi: int, added: Callable[[int], int], since: float) -> list[int]:
        """Indices of ``[lo, hi)`` whose base time (``added(i)`` + the field's offset, growing with ``i``) is
        at or after ``since`` (callers re-check the exact time, so the offset only widens the range)."""
        a, b = lo, hi
        while a < b:
            mid = (a + b) // 2
            if added(mid) + RATED_AFTER_ADD < since:
                a = mid + 1
            else:
                b = mid
        return list(range(a, hi))

    # ---- editing ----------------------------------------------------------------------------------------
    def _now(self) -> float:
        return float(int(self.clock()))  # servers keep whole seconds

    def _live(self, i: int) -> DemoTrack:
        if self.is_deleted(i):
            raise EditError(f"track {i} was deleted")
        try:
            return self.track(i)
        except IndexError:
            raise EditError(f"no track {i}") from None

    def edit_track(self, i: int, **changes: object) -> DemoTrack:
        """Changes metadata of track ``i`` (``title``, ``artist``, ``duration_ms`` ...); bumps its metadata time."""
        with self._lock:
            t = dataclasses.replace(self._live(i), **changes)  # type: ignore[arg-type]
            self._tracks[i] = t
            self._updated[i] = self._now()
            self.revision += 1
            return t

    def rate_track(self, i: int, rating: float | None) -> DemoTrack:
        """Sets the user rating (0-10, None = unrated): the rating time changes, the metadata time does not
        (as on Plex, where ``lastRatedAt`` moves and ``updatedAt`` stays)."""
        with self._lock:
            t = dataclasses.replace(self._live(i), rating=rating, rating_is_community=False)
            self._tracks[i] = t
            self._rated[i] = self._now()
            self.revision += 1
            return t

    def add_track(self, album_index: int, title: str) -> DemoTrack:
        """Adds a track at the end of album ``album_index`` (its library's listing shows it last)."""
        with self._lock:
            if not 0 <= album_index < self.lib.album_count:
                raise EditError(f"no album {album_index}")
            a = self.album(album_index)
            i = self._next_index
            self._next_index += 1
            base = self.lib.track(a.first_track) if self.lib.tracks else None
            if base is None:
                raise EditError("the library has no tracks")
            now = self._now()
            t = dataclasses.replace(
                base,
                index=i,
                title=title,
                track_no=None,
                disc_no=None,
                rating=None,
                added_at=int(now),
                plex_id=str(int(base.plex_id) - base.index + i),
                jellyfin_id=f"{base.jellyfin_id[:16]}{i:016x}",
                guid=f"plex://track/added{i:08x}",
                is_live=a.is_live,
            )
            self._tracks[i] = t
            self._updated[i] = now
            self._added.setdefault(a.library, []).append(i)
            self.revision += 1
            return t

    def delete_track(self, i: int) -> None:
        with self._lock:
            self._live(i)
            insort(self._deleted, i)
            self.revision += 1

    def edit_album(
        self, j: int, *, genres: tuple[str, ...] | None = None, year: int | None = -1
    ) -> DemoAlbum:
        """Gives album ``j`` other genres and/or year (``year=None`` removes it; -1 leaves it)."""
        with self._lock:
            if not 0 <= j < self.lib.album_count:
                raise EditError(f"no album {j}")
            a = self.album(j)
            a = dataclasses.replace(
                a, genres=a.genres if genres is None else tuple(genres), year=a.year if year == -1 else year
            )
            self._albums[j] = a
            self._album_updated[j] = self._now()
            for i, t in list(self._tracks.items()):  # edited copies inherit the album's new values too
                if t.album_index == j:
                    self._tracks[i] = dataclasses.replace(t, genres=a.genres, year=a.year)
            self.revision += 1
            return a


def _inside(t: float, after: float | None, before: float | None) -> bool:
    return (after is None or t > after) and (before is None or t < before)
