"""CSV export of tracks, shared by the command line (``tracks --csv``) and the library page. Qt-free, core only.

The columns are the stable ``Track.to_json()`` keys (``TRACK_COLUMNS``); genres are joined with ``"; "``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

from app.core.files import atomic_file
from app.core.models import Track
from app.core.ports import TrackReader

TRACK_COLUMNS = (
    "server", "library", "id", "title", "artist", "album", "album_artist", "genres", "year", "rating",
    "duration_ms", "track_no", "is_live", "added_at",
)  # fmt: skip

EXPORT_CHUNK = 1000  # ids per get_many call: each call is its own short read, none spans the whole export


def write_tracks_csv(tracks: Iterable[Track], out: IO[str]) -> int:
    """Writes the header and one row per track to ``out``; returns how many rows were written."""
    writer = csv.writer(out)
    writer.writerow(TRACK_COLUMNS)
    n = 0
    for t in tracks:
        row = t.to_json()
        row["genres"] = "; ".join(t.genres)
        writer.writerow([row[c] for c in TRACK_COLUMNS])
        n += 1
    return n


def iter_tracks_by_id(store: TrackReader, ids: Sequence[int], chunk: int = EXPORT_CHUNK) -> Iterable[Track]:
    """The tracks of an id snapshot, in its order, read by primary key in chunks (one short read each).
    Ids deleted since the snapshot was taken are skipped. Blocking; raises CacheError."""
    for start in range(0, len(ids), chunk):
        yield from store.get_many(ids[start : start + chunk])


def export_ids_csv(store: TrackReader, ids: Sequence[int], path: Path) -> int:
    """Writes the tracks of ``ids`` (a view's id snapshot) to the CSV file ``path`` (UTF-8, replaced if it
    exists, atomically: a failure leaves the old file and no temporary one) and returns the number of rows
    written. Blocking: run it on a read thread (``runner.read``). Raises CacheError for cache failures and
    FileWriteError when the file cannot be written (full disk, read-only or missing folder)."""
    with atomic_file(path, "The CSV file", mode=0o644) as out:
        return write_tracks_csv(iter_tracks_by_id(store, ids), out)
