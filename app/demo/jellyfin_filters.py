"""The partition filters of Jellyfin's ``/Items`` for tracks: ``Years``, ``AlbumIds`` and ``Ids`` (the app's
deletion search counts tracks by them, then asks which candidate ids still exist).

Semantics of Jellyfin 10.11 (``BaseItemRepository``): ``Years`` matches the item's ``ProductionYear`` (a track
without one never matches); ``AlbumIds`` takes the names of the items with those ids and matches the tracks
whose ``Album`` is one of the names (so every album with the same title matches; an unknown id adds no name);
``Ids`` are exactly those items. All are ANDed with each other and with the other filters. The lists are
comma-separated; a value that does not parse (a year that is not a number, an id that is not a GUID) is a 400,
as ASP.NET's binder answers. Any thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.demo.edits import LibraryEdits
from app.demo.library import DemoAlbum, DemoTrack

_GUID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True, slots=True)
class TrackFilters:
    """The filters of one request; None: the filter is not there."""

    years: frozenset[int] | None = None
    album_ids: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None

    @property
    def active(self) -> bool:
        return self.years is not None or self.album_ids is not None or self.ids is not None


def parse_track_filters(q: dict[str, str]) -> TrackFilters | None:
    """The filters from a query with lower-cased names; None when a value does not parse (400)."""
    try:
        raw_years = _values(q, "years")
        years = None if raw_years is None else frozenset(int(y) for y in raw_years)
    except ValueError:
        return None
    album_ids, ids = _guids(q, "albumids"), _guids(q, "ids")
    if album_ids == () or ids == ():
        return None
    return TrackFilters(years, album_ids, ids)


def _values(q: dict[str, str], name: str) -> list[str] | None:
    raw = q.get(name)
    if not raw:
        return None
    values = [v.strip() for v in raw.split(",") if v.strip()]
    return values or None


def _guids(q: dict[str, str], name: str) -> tuple[str, ...] | None:
    """Ids in Jellyfin's "N" form (32 lower-case hex; dashes and case as a GUID may have them); () for a bad one."""
    values = _values(q, name)
    if values is None:
        return None
    out = tuple(v.replace("-", "").lower() for v in values)
    return out if all(_GUID.match(v) for v in out) else ()


def select_tracks(
    edits: LibraryEdits,
    libs: list[int],
    filters: TrackFilters,
    changed: list[int] | None,
    start: int,
    limit: int | None,
) -> tuple[list[int], int]:
    """Page ``[start, start+limit)`` and total of the live tracks of ``libs`` passing ``filters`` and, when
    ``changed`` is given (a "changed since" listing), among those. Small candidate sets (``Ids``, a change
    listing) are checked one by one; ``Years``/``AlbumIds`` alone are counted album by album
    (``LibraryEdits.tracks_by_album``), never track by track."""
    lib = edits.lib
    names = None
    if filters.album_ids is not None:
        by_id = lib.album_lookup().by_id
        names = {edits.album(j).title for a in filters.album_ids if (j := by_id.get(a)) is not None}
    years = filters.years

    def track_ok(t: DemoTrack) -> bool:
        return (years is None or t.year in years) and (names is None or t.album in names)

    if filters.ids is not None or changed is not None:
        found: set[int] | None = None
        if filters.ids is not None:
            found = {i for jid in filters.ids if (i := edits.live_track_of(jid)) is not None}
        if changed is not None:
            found = set(changed) if found is None else found & set(changed)
        order = {n: k for k, n in enumerate(libs)}
        tracks = {i: edits.track(i) for i in found or ()}
        every = sorted(
            (i for i, t in tracks.items() if t.library in order and track_ok(t)),
            key=lambda i: (order[tracks[i].library], i),
        )
        return every[start : None if limit is None else start + limit], len(every)

    def album_ok(a: DemoAlbum) -> bool:
        return (years is None or a.year in years) and (names is None or a.title in names)

    return edits.tracks_by_album(libs, _base_albums(edits, years, names), album_ok, track_ok, start, limit)


def _base_albums(edits: LibraryEdits, years: frozenset[int] | None, names: set[str] | None) -> set[int]:
    """The albums whose unedited record has one of ``years`` and one of ``names`` (None: any)."""
    lookup = edits.lib.album_lookup()
    found: set[int] | None = None
    if years is not None:
        found = {j for y in years for j in lookup.by_year.get(y, ())}
    if names is not None:
        by_name = {j for n in names for j in lookup.by_title.get(n, ())}
        found = by_name if found is None else found & by_name
    return found or set()
