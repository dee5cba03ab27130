"""The library's head for the first paint (start-up phase 1, ``app/main.py``): the track count, the first rows of
the default view (title ascending) and the oldest last sync, read straight from the cache file.

Read-only and light on purpose: the file is opened with the ``mode=ro`` URI (no migration, no write, no file or
folder is created), and only ``sqlite3`` and ``json`` are imported: the stores and the core models would cost the
first paint tens of milliseconds. Any thread (the main thread, before the event loop exists). Never raises: a
missing, empty, damaged, locked or too-old cache gives ``None`` ("unknown"); start-up phase 2 opens the cache
properly and reports what is wrong with it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from app.storage.paths import CACHE_FILE

# The schema version that added tracks_sort_title: without that index the head query would sort every track.
HEAD_MIN_SCHEMA = 2
# The default view's order, exactly as tracks_query.order_by(TrackSort()) (a test compares them).
ORDER_BY = " ORDER BY title COLLATE NOCASE ASC, id ASC"
_ROWS = "SELECT id, server_id, title, artist, album, genres, year, rating, duration_ms FROM tracks"
BUSY_TIMEOUT_MS = 200  # a writer mid-checkpoint: wait briefly, else paint without the head


class HeadTrack(NamedTuple):
    """One row of the head: the fields the library table shows (``app.core.models.Track`` has the same names)."""

    id: int
    server_id: int
    server: str
    title: str
    artist: str | None
    album: str | None
    genres: tuple[str, ...]
    year: int | None
    rating: float | None
    duration_ms: int | None


class LibraryHead(NamedTuple):
    tracks: int  # every cached track (the default view has no filter)
    rows: list[HeadTrack]  # the first ``limit`` tracks of the default view, in view order
    last_synced_at: float | None  # the OLDEST last sync among enabled synced servers (as the footer shows it)


def read_head(data_dir: Path, limit: int) -> LibraryHead | None:
    """The head of the cache in ``data_dir``, or None when it is unknown (see the module docstring)."""
    path = data_dir / CACHE_FILE
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(
            f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error:
        return None
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS:d}")
        conn.execute("BEGIN")  # one snapshot for the count and the rows
        if int(conn.execute("PRAGMA user_version").fetchone()[0]) < HEAD_MIN_SCHEMA:
            return None
        return _read(conn, limit)
    except (sqlite3.Error, ValueError, TypeError):  # damaged file, odd genres JSON: phase 2 tells
        return None
    finally:
        conn.close()


def _read(conn: sqlite3.Connection, limit: int) -> LibraryHead:
    count = int(conn.execute("SELECT count(*) FROM tracks").fetchone()[0])
    servers: dict[int, str] = {}
    oldest: float | None = None
    for sid, name, enabled, synced in conn.execute("SELECT id, name, enabled, last_synced_at FROM servers"):
        servers[sid] = name
        if enabled and synced is not None:
            oldest = synced if oldest is None else min(oldest, synced)
    rows = [
        HeadTrack(
            tid, sid, servers.get(sid, ""), title, artist, album, tuple(json.loads(genres)), year, rating, dur
        )
        for tid, sid, title, artist, album, genres, year, rating, dur in conn.execute(
            _ROWS + ORDER_BY + " LIMIT ?", (max(0, limit),)
        )
    ]
    return LibraryHead(count, rows, oldest)
