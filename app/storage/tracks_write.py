"""The sync write path: staging rows, then one set-based merge transaction (DESIGN §4 points 5-7).

Functions here take the writer connection inside an open transaction; ``tracks.SqliteTrackStore`` owns the
transactions. Every stored field is covered by a content hash computed in Python at staging time, so the merge
updates exactly the rows whose content changed and writes nothing for the others.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence

from app.core.models import AlbumRecord, MergeCounts, RemoteLibrary, TrackRecord


def _hash(values: Sequence[object]) -> bytes:
    text = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _unique(genres: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(g for g in genres if g))


def album_row(server_id: int, library_key: str, a: AlbumRecord) -> tuple[object, ...]:
    genres = _unique(a.genres)
    fields = (a.title, a.artist, a.year, genres)
    return (
        server_id,
        library_key,
        a.remote_id,
        a.title,
        a.artist,
        a.year,
        json.dumps(genres),
        _hash((library_key, *fields)),
    )


def track_row(server_id: int, library_key: str, t: TrackRecord) -> tuple[object, ...]:
    """The staging row of one track, as given (album genres/year are filled in by the sync service)."""
    genres = _unique(t.genres)
    year = t.year
    rating = None if t.rating is None else float(t.rating)
    added = None if t.added_at is None else float(t.added_at)
    fields = (
        t.title, t.artist, t.album, t.album_artist, t.album_remote_id, genres[0] if genres else None,
        genres, year, rating, t.duration_ms, t.track_no, t.disc_no, bool(t.is_live), added,
    )  # fmt: skip
    digest = _hash((library_key, *fields))
    return (server_id, library_key, t.remote_id, *fields[:6], json.dumps(genres, ensure_ascii=False),
            *fields[7:12], int(fields[12]), added, digest)  # fmt: skip


def stage_albums(
    conn: sqlite3.Connection, server_id: int, library_key: str, albums: Sequence[AlbumRecord]
) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO stage_albums(server_id, library_key, remote_id, title, artist, year, genres, "
        "content_hash) "
        "VALUES (?,?,?,?,?,?,?,?)",
        [album_row(server_id, library_key, a) for a in albums],
    )


def stage_tracks(
    conn: sqlite3.Connection, server_id: int, library_key: str, tracks: Sequence[TrackRecord]
) -> None:
    rows = [track_row(server_id, library_key, t) for t in tracks]
    conn.executemany(
        "INSERT OR REPLACE INTO stage_tracks(server_id, library_key, remote_id, title, artist, album, album_artist, "
        "album_remote_id, genre, genres, year, rating, duration_ms, track_no, disc_no, is_live, added_at, "
        "content_hash) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )


def clear_staging(conn: sqlite3.Connection, server_id: int) -> None:
    conn.execute("DELETE FROM stage_tracks WHERE server_id = ?", (server_id,))
    conn.execute("DELETE FROM stage_albums WHERE server_id = ?", (server_id,))


def upsert_libraries(conn: sqlite3.Connection, server_id: int, libraries: Sequence[RemoteLibrary]) -> None:
    conn.executemany(
        "INSERT INTO libraries(server_id, key, title) VALUES (?,?,?) "
        "ON CONFLICT(server_id, key) DO UPDATE SET title = excluded.title WHERE title IS NOT excluded.title",
        [(server_id, lib.key, lib.title) for lib in libraries],
    )


def _prepare_merge_libs(conn: sqlite3.Connection, server_id: int, keys: Sequence[str]) -> None:
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS merge_libs(library_key TEXT PRIMARY KEY, library_id INTEGER)"
    )
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS merge_changed(id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.merge_libs")
    conn.execute("DELETE FROM temp.merge_changed")
    conn.executemany(
        "INSERT OR IGNORE INTO temp.merge_libs(library_key, library_id) "
        "SELECT key, id FROM libraries WHERE server_id = ? AND key = ?",
        [(server_id, k) for k in keys],
    )


_GENRE_ROWS = (
    "INSERT OR IGNORE INTO track_genres(genre, year, track_id, rating, is_live, server_id) "
    "SELECT j.value, IFNULL(t.year, 0), t.id, t.rating, t.is_live, t.server_id "
    "FROM tracks t, json_each(t.genres) j "
)


def merge_tracks(
    conn: sqlite3.Connection, server_id: int, delete_vanished: Sequence[str], now: float
) -> MergeCounts:
    staged = conn.execute(
        "SELECT count(*) FROM stage_tracks s JOIN temp.merge_libs m ON m.library_key = s.library_key "
        "WHERE s.server_id = ?",
        (server_id,),
    ).fetchone()[0]
    # Changed rows: remembered first so their genre rows can be rewritten after the update.
    conn.execute(
        "INSERT INTO temp.merge_changed(id) SELECT t.id FROM stage_tracks s "
        "JOIN temp.merge_libs m ON m.library_key = s.library_key "
        "JOIN tracks t ON t.server_id = s.server_id AND t.remote_id = s.remote_id "
        "WHERE s.server_id = ? AND t.content_hash <> s.content_hash",
        (server_id,),
    )
    updated = conn.execute(
        "UPDATE tracks SET library_id = m.library_id, title = s.title, artist = s.artist, album = s.album, "
        "album_artist = s.album_artist, album_remote_id = s.album_remote_id, genre = s.genre, genres = s.genres, "
        "year = s.year, rating = s.rating, duration_ms = s.duration_ms, track_no = s.track_no, "
        "disc_no = s.disc_no, is_live = s.is_live, added_at = s.added_at, content_hash = s.content_hash, "
        "synced_at = ? "
        "FROM stage_tracks s JOIN temp.merge_libs m ON m.library_key = s.library_key "
        "WHERE s.server_id = ? AND tracks.server_id = s.server_id AND tracks.remote_id = s.remote_id "
        "AND tracks.content_hash <> s.content_hash",
        (now, server_id),
    ).rowcount
    if updated:
        conn.execute("DELETE FROM track_genres WHERE track_id IN (SELECT id FROM temp.merge_changed)")
        conn.execute(_GENRE_ROWS + "WHERE t.id IN (SELECT id FROM temp.merge_changed)")  # noqa: S608 - constants
    before = conn.execute("SELECT IFNULL(max(id), 0) FROM tracks").fetchone()[0]
    added = conn.execute(
        "INSERT INTO tracks(server_id, library_id, remote_id, title, artist, album, album_artist, album_remote_id, "
        "genre, genres, year, rating, duration_ms, track_no, disc_no, is_live, added_at, content_hash, synced_at) "
        "SELECT s.server_id, m.library_id, s.remote_id, s.title, s.artist, s.album, s.album_artist, "
        "s.album_remote_id, s.genre, s.genres, s.year, s.rating, s.duration_ms, s.track_no, s.disc_no, "
        "s.is_live, s.added_at, s.content_hash, ? "
        "FROM stage_tracks s JOIN temp.merge_libs m ON m.library_key = s.library_key "
        "WHERE s.server_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM tracks t WHERE t.server_id = s.server_id AND t.remote_id = s.remote_id)",
        (now, server_id),
    ).rowcount
    if added:
        # AUTOINCREMENT: every new row has an id above the old maximum.
        conn.execute(_GENRE_ROWS + "WHERE t.id > ?", (before,))
    removed = 0
    for key in delete_vanished:
        row = conn.execute("SELECT library_id FROM temp.merge_libs WHERE library_key = ?", (key,)).fetchone()
        if row is None:
            continue
        removed += conn.execute(
            "DELETE FROM tracks WHERE library_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM stage_tracks s WHERE s.server_id = ? AND s.remote_id = tracks.remote_id)",
            (row[0], server_id),
        ).rowcount
    return MergeCounts(added=added, updated=updated, removed=removed, unchanged=staged - added - updated)


def merge_albums(
    conn: sqlite3.Connection, server_id: int, delete_vanished: Sequence[str], now: float
) -> None:
    conn.execute(
        "UPDATE albums SET library_id = m.library_id, title = s.title, artist = s.artist, year = s.year, "
        "genres = s.genres, content_hash = s.content_hash, synced_at = ? "
        "FROM stage_albums s JOIN temp.merge_libs m ON m.library_key = s.library_key "
        "WHERE s.server_id = ? AND albums.server_id = s.server_id AND albums.remote_id = s.remote_id "
        "AND albums.content_hash <> s.content_hash",
        (now, server_id),
    )
    conn.execute(
        "INSERT INTO albums(server_id, library_id, remote_id, title, artist, year, genres, content_hash, synced_at) "
        "SELECT s.server_id, m.library_id, s.remote_id, s.title, s.artist, s.year, s.genres, s.content_hash, ? "
        "FROM stage_albums s JOIN temp.merge_libs m ON m.library_key = s.library_key "
        "WHERE s.server_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM albums a WHERE a.server_id = s.server_id AND a.remote_id = s.remote_id)",
        (now, server_id),
    )
    for key in delete_vanished:
        conn.execute(
            "DELETE FROM albums WHERE library_id = (SELECT library_id FROM temp.merge_libs WHERE library_key = ?) "
            "AND NOT EXISTS (SELECT 1 FROM stage_albums s WHERE s.server_id = ? AND s.remote_id = albums.remote_id)",
            (key, server_id),
        )


def commit(
    conn: sqlite3.Connection,
    server_id: int,
    libraries: Sequence[RemoteLibrary],
    merge_keys: Sequence[str],
    delete_vanished_keys: Sequence[str],
    now: float,
) -> MergeCounts:
    """The whole merge; the caller wraps it in one transaction."""
    upsert_libraries(conn, server_id, libraries)
    _prepare_merge_libs(conn, server_id, merge_keys)
    vanish = [k for k in delete_vanished_keys if k in set(merge_keys)]
    counts = merge_tracks(conn, server_id, vanish, now)
    merge_albums(conn, server_id, vanish, now)
    clear_staging(conn, server_id)
    return counts
