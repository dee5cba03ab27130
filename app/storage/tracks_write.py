"""The sync write path: staging rows, then one set-based merge transaction (DESIGN §4 points 5-7).

Functions here take the writer connection inside an open transaction; ``tracks.SqliteTrackStore`` owns the
transactions.

Staging (schema v6) goes into plain rowid tables without any index, so a page is appended at the end of the table
whatever order its remote ids come in (random Jellyfin ids into a primary-key index cost 3× more). A remote id
listed twice is de-duplicated by the merge: the row staged last wins.

Change detection is done in SQL, column by column (``IS NOT``), in the merge: no per-row hashing in Python, and
exactly the rows whose content changed are written (no writes, no FTS trigger, for the others). The legacy
``content_hash`` column of ``tracks``/``albums`` is written as an empty blob and not read any more.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import chain, islice

from app.core.errors import RemovalsHeld
from app.core.models import (
    AlbumRecord,
    ListingMark,
    MergeCounts,
    PartitionLevel,
    RemoteLibrary,
    TrackRecord,
)

# Stored columns compared by the merge (besides ``library_id``), in staging-table order.
TRACK_COLUMNS = (
    "title", "artist", "album", "album_artist", "album_remote_id", "genre", "genres", "year", "rating",
    "duration_ms", "track_no", "disc_no", "is_live", "added_at",
)  # fmt: skip
ALBUM_COLUMNS = ("title", "artist", "year", "genres")

# Rows per INSERT statement when staging. A page goes in as multi-row ``VALUES`` statements, not
# ``executemany``: the sqlite3 module releases and re-takes the GIL around every step, and with the parse of the
# next page running on another thread each re-take waited for it (staging measured 10x slower in a sync than
# alone). 500 rows x 17 parameters stays far below SQLite's 32,766 parameter limit.
_ROWS_PER_INSERT = 500


@lru_cache(maxsize=8192)
def _genres(genres: tuple[str, ...]) -> tuple[str | None, str]:
    """(first genre, JSON list) of a genre tuple without blanks and repeats. Cached: a library has few distinct
    genre combinations, and ``json.dumps`` per row was a large share of staging time."""
    unique = list(dict.fromkeys(g for g in genres if g))
    return (unique[0] if unique else None), json.dumps(unique, ensure_ascii=False)


def album_row(server_id: int, library_key: str, a: AlbumRecord) -> tuple[object, ...]:
    _, genres = _genres(tuple(a.genres))
    return (server_id, library_key, a.remote_id, a.title, a.artist, a.year, genres)


def track_row(server_id: int, library_key: str, t: TrackRecord) -> tuple[object, ...]:
    """The staging row of one track, as the server listed it (``fill_from_albums`` completes it)."""
    first, genres_json = _genres(tuple(t.genres))
    return (
        server_id, library_key, t.remote_id, t.title, t.artist, t.album, t.album_artist, t.album_remote_id,
        first, genres_json, t.year, None if t.rating is None else float(t.rating), t.duration_ms, t.track_no,
        t.disc_no, 1 if t.is_live else 0, None if t.added_at is None else float(t.added_at),
    )  # fmt: skip


def _insert_rows(conn: sqlite3.Connection, head: str, width: int, rows: Iterable[tuple[object, ...]]) -> None:
    """``head`` + ``VALUES (...), (...)`` for ``rows`` of ``width`` values, ``_ROWS_PER_INSERT`` at a time."""
    one = "(" + ",".join("?" * width) + ")"
    it = iter(rows)
    while chunk := list(islice(it, _ROWS_PER_INSERT)):
        conn.execute(head + " VALUES " + ",".join([one] * len(chunk)), list(chain.from_iterable(chunk)))


def stage_albums(
    conn: sqlite3.Connection, server_id: int, library_key: str, albums: Sequence[AlbumRecord]
) -> None:
    _insert_rows(
        conn,
        "INSERT INTO stage_albums(server_id, library_key, remote_id, title, artist, year, genres)",
        7,
        (album_row(server_id, library_key, a) for a in albums),
    )


def stage_tracks(
    conn: sqlite3.Connection, server_id: int, library_key: str, tracks: Sequence[TrackRecord]
) -> None:
    _insert_rows(
        conn,
        f"INSERT INTO stage_tracks(server_id, library_key, remote_id, {', '.join(TRACK_COLUMNS)})",
        3 + len(TRACK_COLUMNS),
        (track_row(server_id, library_key, t) for t in tracks),
    )


def fill_from_albums(conn: sqlite3.Connection, server_id: int) -> None:
    """Gives a staged track without genres its album's genres, and one without a year its album's year (real Plex
    tracks carry neither; SERVER-PROTOCOLS.md). A track keeps whatever it has. The album is the one staged (the
    album staged last wins for a remote id listed twice, as in the merge); a refresh stages only the albums that
    changed, so a track whose album was not staged takes the cached album's. Nothing to do for a server without
    albums (Jellyfin)."""
    has_staged = conn.execute(
        "SELECT 1 FROM stage_albums WHERE server_id = ? LIMIT 1", (server_id,)
    ).fetchone()
    has_cached = conn.execute("SELECT 1 FROM albums WHERE server_id = ? LIMIT 1", (server_id,)).fetchone()
    if has_staged is None and has_cached is None:
        return
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS merge_album_info(remote_id TEXT PRIMARY KEY, genres TEXT, year INTEGER)"
    )
    conn.execute("DELETE FROM temp.merge_album_info")
    conn.execute(
        "INSERT OR REPLACE INTO temp.merge_album_info(remote_id, genres, year) "
        "SELECT remote_id, genres, year FROM stage_albums WHERE server_id = ? ORDER BY rowid",
        (server_id,),
    )
    if has_cached is not None:
        conn.execute(
            "INSERT OR IGNORE INTO temp.merge_album_info(remote_id, genres, year) "
            "SELECT a.remote_id, a.genres, a.year FROM albums a "
            "WHERE a.server_id = ? AND a.remote_id IN (SELECT album_remote_id FROM stage_tracks "
            "WHERE server_id = ? AND (genres = '[]' OR year IS NULL))",
            (server_id, server_id),
        )
    conn.execute(
        "UPDATE stage_tracks SET "
        "genre = CASE WHEN stage_tracks.genres = '[]' THEN json_extract(a.genres, '$[0]') ELSE stage_tracks.genre END, "
        "genres = CASE WHEN stage_tracks.genres = '[]' THEN a.genres ELSE stage_tracks.genres END, "
        "year = IFNULL(stage_tracks.year, a.year) "
        "FROM temp.merge_album_info a WHERE stage_tracks.server_id = ? "
        "AND a.remote_id = stage_tracks.album_remote_id "
        "AND (stage_tracks.genres = '[]' OR stage_tracks.year IS NULL)",
        (server_id,),
    )


def set_listing_marks(conn: sqlite3.Connection, server_id: int, marks: Mapping[str, ListingMark]) -> None:
    """Records when each library was listed (a None ``full_at`` keeps the stored one)."""
    conn.executemany(
        "UPDATE libraries SET listed_since = ?, full_listed_at = IFNULL(?, full_listed_at) "
        "WHERE server_id = ? AND key = ?",
        [(m.since, m.full_at, server_id, key) for key, m in marks.items()],
    )


def staged_totals(conn: sqlite3.Connection, server_id: int, library_key: str) -> tuple[int, int]:
    """(tracks, albums) of the library after a merge of its staged rows without deletions."""
    out = []
    for table, stage in (("tracks", "stage_tracks"), ("albums", "stage_albums")):
        row = conn.execute(
            f"SELECT (SELECT count(*) FROM {table} t JOIN libraries l ON l.id = t.library_id "  # noqa: S608
            "WHERE l.server_id = ? AND l.key = ?) + "
            f"(SELECT count(DISTINCT s.remote_id) FROM {stage} s WHERE s.server_id = ? AND s.library_key = ? "
            f"AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.server_id = s.server_id "
            "AND t.remote_id = s.remote_id))",
            (server_id, library_key, server_id, library_key),
        ).fetchone()
        out.append(int(row[0]))
    return out[0], out[1]


def stage_deleted(
    conn: sqlite3.Connection, server_id: int, library_key: str, remote_ids: Sequence[str]
) -> None:
    conn.executemany(
        "INSERT INTO stage_gone(server_id, library_key, remote_id) VALUES (?,?,?)",
        [(server_id, library_key, r) for r in remote_ids],
    )


# The library's tracks after a merge of what is staged, without deletions: cached rows neither staged again (in
# any library) nor found deleted, plus the last staged row of every remote id staged for the library.
# Parameters: ?1 server id, ?2 library key.
_EXPECTED = (
    "SELECT remote_id, {cols} FROM tracks WHERE library_id = "
    "(SELECT id FROM libraries WHERE server_id = ?1 AND key = ?2) "
    "AND remote_id NOT IN (SELECT remote_id FROM stage_tracks WHERE server_id = ?1) "
    "AND remote_id NOT IN (SELECT remote_id FROM stage_gone WHERE server_id = ?1) "
    "UNION ALL SELECT remote_id, {cols} FROM stage_tracks WHERE rowid IN "
    "(SELECT max(rowid) FROM stage_tracks WHERE server_id = ?1 GROUP BY remote_id) AND library_key = ?2"
)


def _expected_view(levels: Sequence[PartitionLevel], fixed: Sequence[object]) -> tuple[str, list[object]]:
    """``SELECT ... FROM (<the expected library>) WHERE 1 AND <group> = ? ...`` for the leading ``fixed`` levels,
    and its parameters after the server id and library key. Every level's columns must be stored track columns
    (a whitelist: they are put into the SQL text)."""
    cols = [c for lv in levels for c in (lv.group, lv.handle)]
    unknown = [c for c in cols if c not in TRACK_COLUMNS]
    if unknown:
        raise ValueError(f"not a partition column: {unknown}")
    expected = _EXPECTED.format(cols=", ".join(dict.fromkeys(cols)))
    where = "".join(f" AND {lv.group} = ?" for lv in levels[: len(fixed)])
    return f"FROM ({expected}) WHERE 1{where}", list(fixed)


def expected_partition(
    conn: sqlite3.Connection,
    server_id: int,
    library_key: str,
    levels: Sequence[PartitionLevel],
    fixed: Sequence[object],
) -> tuple[list[object], list[object], list[int]]:
    """See ``core.ports.TrackStaging.expected_partition``. Streams the rows into three lists (a library of
    1,000,000 tracks with distinct ``added_at`` gives 1,000,000 entries: tens of MB, not a list of tuples)."""
    level = levels[len(fixed)]
    view, params = _expected_view(levels, fixed)
    handle = level.group if level.group == level.handle else f"min({level.handle})"
    cursor = conn.execute(
        f"SELECT {level.group}, {handle}, count(*) {view} "  # columns: whitelisted by _expected_view
        f"GROUP BY {level.group} ORDER BY {handle} IS NULL, {level.group}",
        [server_id, library_key, *params],
    )
    groups: list[object] = []
    handles: list[object] = []
    counts: list[int] = []
    for g, h, n in cursor:
        groups.append(g)
        handles.append(h)
        counts.append(n)
    return groups, handles, counts


def expected_ids(
    conn: sqlite3.Connection,
    server_id: int,
    library_key: str,
    levels: Sequence[PartitionLevel],
    fixed: Sequence[object],
    groups: Sequence[object],
    limit: int,
) -> list[str]:
    """See ``core.ports.TrackStaging.expected_ids``."""
    group = levels[len(fixed)].group
    view, params = _expected_view(levels, fixed)
    values = [g for g in groups if g is not None]
    alternatives = [f"{group} IN ({','.join('?' * len(values))})"] if values else []
    if len(values) < len(groups):
        alternatives.append(f"{group} IS NULL")
    rows = conn.execute(
        f"SELECT remote_id {view} "  # columns: whitelisted by _expected_view
        f"AND ({' OR '.join(alternatives) or '0'}) LIMIT ?",
        [server_id, library_key, *params, *values, limit + 1],
    ).fetchall()
    return [str(r[0]) for r in rows]


def clear_staging(conn: sqlite3.Connection, server_id: int) -> None:
    conn.execute("DELETE FROM stage_tracks WHERE server_id = ?", (server_id,))
    conn.execute("DELETE FROM stage_albums WHERE server_id = ?", (server_id,))
    conn.execute("DELETE FROM stage_gone WHERE server_id = ?", (server_id,))


def clear_server_rows(conn: sqlite3.Connection, server_id: int) -> None:
    """Deletes every cached library/album/track/user row of the server (its staging rows stay)."""
    conn.execute("DELETE FROM tracks WHERE server_id = ?", (server_id,))
    conn.execute("DELETE FROM albums WHERE server_id = ?", (server_id,))
    conn.execute("DELETE FROM users WHERE server_id = ?", (server_id,))
    conn.execute("DELETE FROM libraries WHERE server_id = ?", (server_id,))


def upsert_libraries(conn: sqlite3.Connection, server_id: int, libraries: Sequence[RemoteLibrary]) -> None:
    conn.executemany(
        "INSERT INTO libraries(server_id, key, title) VALUES (?,?,?) "
        "ON CONFLICT(server_id, key) DO UPDATE SET title = excluded.title WHERE title IS NOT excluded.title",
        [(server_id, lib.key, lib.title) for lib in libraries],
    )


def _prepare_merge(conn: sqlite3.Connection, server_id: int, keys: Sequence[str]) -> None:
    """Temp tables of the merge (connection-private, never seen by readers)."""
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS merge_libs(library_key TEXT PRIMARY KEY, library_id INTEGER)"
    )
    # The cached row (track or album id) each staged remote id matches, and the staged row that wins.
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS merge_match(id INTEGER PRIMARY KEY, srow INTEGER NOT NULL)")
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS merge_changed(id INTEGER PRIMARY KEY)")
    for table in ("merge_libs", "merge_match", "merge_changed"):
        conn.execute(f"DELETE FROM temp.{table}")  # noqa: S608 - constants
    conn.executemany(
        "INSERT OR IGNORE INTO temp.merge_libs(library_key, library_id) "
        "SELECT key, id FROM libraries WHERE server_id = ? AND key = ?",
        [(server_id, k) for k in keys],
    )


def _match(conn: sqlite3.Connection, table: str, stage: str, server_id: int) -> None:
    """Fills ``merge_match`` with (cached id, last staged rowid) for every staged row of the server that is
    cached already, whatever library it was staged in (so a staged row is never deleted as vanished)."""
    conn.execute("DELETE FROM temp.merge_match")
    conn.execute("DELETE FROM temp.merge_changed")
    # Staging order = rowid order; OR REPLACE keeps the row staged last for a remote id listed twice.
    conn.execute(
        f"INSERT OR REPLACE INTO temp.merge_match(id, srow) SELECT t.id, s.rowid FROM {stage} s "  # noqa: S608
        f"JOIN {table} t ON t.server_id = s.server_id AND t.remote_id = s.remote_id "
        "WHERE s.server_id = ? ORDER BY s.rowid",
        (server_id,),
    )


def _differs(columns: Sequence[str]) -> str:
    return " OR ".join(["c.library_id IS NOT m.library_id", *(f"c.{n} IS NOT s.{n}" for n in columns)])


def _update_changed(
    conn: sqlite3.Connection, table: str, stage: str, columns: Sequence[str], now: float
) -> int:
    """Writes the matched rows whose content differs from their staged row; their ids end in merge_changed."""
    conn.execute(
        f"INSERT INTO temp.merge_changed(id) SELECT c.id FROM temp.merge_match x "  # noqa: S608
        f"JOIN {stage} s ON s.rowid = x.srow JOIN temp.merge_libs m ON m.library_key = s.library_key "
        f"JOIN {table} c ON c.id = x.id WHERE {_differs(columns)}"
    )
    sets = ", ".join(f"{n} = u.{n}" for n in columns)
    return conn.execute(
        f"UPDATE {table} SET library_id = u.library_id, {sets}, content_hash = X'', synced_at = ? "  # noqa: S608
        f"FROM (SELECT x.id AS cid, m.library_id, {', '.join('s.' + n for n in columns)} "
        f"FROM temp.merge_changed k JOIN temp.merge_match x ON x.id = k.id "
        f"JOIN {stage} s ON s.rowid = x.srow JOIN temp.merge_libs m ON m.library_key = s.library_key) AS u "
        f"WHERE {table}.id = u.cid",
        (now,),
    ).rowcount


def _insert_new(
    conn: sqlite3.Connection, table: str, stage: str, columns: Sequence[str], server_id: int, now: float
) -> None:
    """Inserts staged rows whose remote id is not cached; a remote id staged twice ends as its last row."""
    cols = ", ".join(columns)
    conn.execute(
        f"INSERT INTO {table}(server_id, library_id, remote_id, {cols}, content_hash, synced_at) "  # noqa: S608
        f"SELECT s.server_id, m.library_id, s.remote_id, {', '.join('s.' + n for n in columns)}, X'', ? "
        f"FROM {stage} s JOIN temp.merge_libs m ON m.library_key = s.library_key "
        f"WHERE s.server_id = ? AND NOT EXISTS "
        f"(SELECT 1 FROM {table} t WHERE t.server_id = s.server_id AND t.remote_id = s.remote_id) "
        "ORDER BY s.rowid "
        "ON CONFLICT(server_id, remote_id) DO UPDATE SET library_id = excluded.library_id, "
        + ", ".join(f"{n} = excluded.{n}" for n in columns),
        (now, server_id),
    )


def _delete_vanished(
    conn: sqlite3.Connection, table: str, stage: str, server_id: int, keys: Sequence[str]
) -> int:
    """Deletes cached rows of the (completely listed) libraries ``keys`` that were not staged. Runs before new
    rows are inserted, so ``merge_match`` holds every cached row that was staged."""
    removed = 0
    for key in keys:
        row = conn.execute("SELECT library_id FROM temp.merge_libs WHERE library_key = ?", (key,)).fetchone()
        if row is None:
            continue
        removed += conn.execute(
            f"DELETE FROM {table} WHERE library_id = ? AND server_id = ? "  # noqa: S608
            "AND id NOT IN (SELECT id FROM temp.merge_match)",
            (row[0], server_id),
        ).rowcount
    return removed


_GENRE_ROWS = (
    "INSERT OR IGNORE INTO track_genres(genre, year, track_id, rating, is_live, server_id) "
    "SELECT j.value, IFNULL(t.year, 0), t.id, t.rating, t.is_live, t.server_id "
    "FROM tracks t, json_each(t.genres) j "
)


def _gone_keys(conn: sqlite3.Connection, server_id: int) -> list[str]:
    """Libraries with tracks found deleted by a refresh (staged in ``stage_gone``)."""
    rows = conn.execute("SELECT DISTINCT library_key FROM stage_gone WHERE server_id = ?", (server_id,))
    return [str(r[0]) for r in rows]


def _delete_found_gone(conn: sqlite3.Connection, server_id: int) -> int:
    """Deletes the cached tracks of merged libraries that a refresh found deleted (and that no page listed)."""
    return conn.execute(
        "DELETE FROM tracks WHERE server_id = ?1 "
        "AND remote_id IN (SELECT remote_id FROM stage_gone WHERE server_id = ?1) "
        "AND library_id IN (SELECT library_id FROM temp.merge_libs) "
        "AND id NOT IN (SELECT id FROM temp.merge_match)",
        (server_id,),
    ).rowcount


def _check_removal_floor(
    conn: sqlite3.Connection, server_id: int, keys: Sequence[str], max_removal_pct: float
) -> None:
    """Raises RemovalsHeld when deleting the unstaged tracks of any library in ``keys``, or the tracks found
    deleted, would remove more than ``max_removal_pct`` of a library's cached tracks. Runs after ``_match``
    (``merge_match`` = cached rows staged)."""
    over: list[tuple[str, int, int]] = []
    vanish = set(keys)
    for key in dict.fromkeys([*keys, *_gone_keys(conn, server_id)]):
        row = conn.execute("SELECT library_id FROM temp.merge_libs WHERE library_key = ?", (key,)).fetchone()
        if row is None:
            continue
        cached, gone = conn.execute(
            "SELECT count(*), IFNULL(sum(id NOT IN (SELECT id FROM temp.merge_match) AND (?3 OR remote_id IN "
            "(SELECT remote_id FROM stage_gone WHERE server_id = ?2))), 0) FROM tracks "
            "WHERE library_id = ?1 AND server_id = ?2",
            (row[0], server_id, key in vanish),
        ).fetchone()
        if gone and gone * 100 > max_removal_pct * cached:
            over.append((key, int(gone), int(cached)))
    if over:
        raise RemovalsHeld(tuple(over))


def merge_tracks(
    conn: sqlite3.Connection,
    server_id: int,
    delete_vanished: Sequence[str],
    now: float,
    max_removal_pct: float | None = None,
) -> MergeCounts:
    _match(conn, "tracks", "stage_tracks", server_id)
    if max_removal_pct is not None:
        _check_removal_floor(conn, server_id, delete_vanished, max_removal_pct)
    matched = conn.execute(
        "SELECT count(*) FROM temp.merge_match x JOIN stage_tracks s ON s.rowid = x.srow "
        "JOIN temp.merge_libs m ON m.library_key = s.library_key"
    ).fetchone()[0]
    updated = _update_changed(conn, "tracks", "stage_tracks", TRACK_COLUMNS, now)
    if updated:
        conn.execute("DELETE FROM track_genres WHERE track_id IN (SELECT id FROM temp.merge_changed)")
        conn.execute(_GENRE_ROWS + "WHERE t.id IN (SELECT id FROM temp.merge_changed)")  # noqa: S608 - constants
    removed = _delete_vanished(conn, "tracks", "stage_tracks", server_id, delete_vanished)
    removed += _delete_found_gone(conn, server_id)
    before = conn.execute("SELECT IFNULL(max(id), 0) FROM tracks").fetchone()[0]
    _insert_new(conn, "tracks", "stage_tracks", TRACK_COLUMNS, server_id, now)
    # AUTOINCREMENT: every new row has an id above the old maximum (a duplicate's upsert adds no row).
    added = conn.execute("SELECT count(*) FROM tracks WHERE id > ?", (before,)).fetchone()[0]
    if added:
        conn.execute(_GENRE_ROWS + "WHERE t.id > ?", (before,))
    return MergeCounts(added=added, updated=updated, removed=removed, unchanged=matched - updated)


def merge_albums(
    conn: sqlite3.Connection, server_id: int, delete_vanished: Sequence[str], now: float
) -> None:
    _match(conn, "albums", "stage_albums", server_id)
    _update_changed(conn, "albums", "stage_albums", ALBUM_COLUMNS, now)
    _delete_vanished(conn, "albums", "stage_albums", server_id, delete_vanished)
    _insert_new(conn, "albums", "stage_albums", ALBUM_COLUMNS, server_id, now)


def commit(
    conn: sqlite3.Connection,
    server_id: int,
    libraries: Sequence[RemoteLibrary],
    merge_keys: Sequence[str],
    delete_vanished_keys: Sequence[str],
    now: float,
    *,
    replace: bool = False,
    max_removal_pct: float | None = None,
    marks: Mapping[str, ListingMark] | None = None,
) -> MergeCounts:
    """The whole merge; the caller wraps it in one transaction (a RemovalsHeld raised here rolls it back).
    ``replace``: the server is another installation now; its old rows go in this same transaction."""
    if replace:
        clear_server_rows(conn, server_id)
    upsert_libraries(conn, server_id, libraries)
    _prepare_merge(conn, server_id, merge_keys)
    vanish = [k for k in delete_vanished_keys if k in set(merge_keys)]
    fill_from_albums(conn, server_id)
    counts = merge_tracks(conn, server_id, vanish, now, max_removal_pct)
    merge_albums(conn, server_id, vanish, now)
    set_listing_marks(conn, server_id, marks or {})
    clear_staging(conn, server_id)
    return counts
