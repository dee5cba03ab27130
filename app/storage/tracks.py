"""The track store (``core.ports.TrackStore``) over the cache."""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence

from app.core.filters import SortColumn, TrackFilter, TrackSort
from app.core.models import (
    AlbumRecord,
    Library,
    ListingMark,
    MergeCounts,
    PartitionLevel,
    RemoteLibrary,
    Track,
    TrackRecord,
)
from app.storage import tracks_query as q
from app.storage import tracks_search as s
from app.storage import tracks_write as w
from app.storage.db import Database

_CHUNK = 500  # at most this many parameters in one IN (...) list


class SqliteTrackStore:
    """Cached tracks, the sync write path, and the library view's queries.

    Threads: write methods (``begin_staging``, ``stage_*``, ``commit_staging``, ``discard_staging``,
    ``clear_server``) run on the db-writer thread, each as ONE transaction. Read methods run on any thread with
    that thread's read-only connection; each call reads one consistent snapshot. Every method raises only
    ``CacheError`` for cache failures.

    Filters follow ``core.filters`` exactly. Sort order (``query`` and ``ids``), for ascending; descending is the
    exact reverse:

    * title, artist, album, genre: ``COLLATE NOCASE`` (ASCII letters compare case-insensitively, every other
      character by code point); ``genre`` is the track's first genre.
    * year, rating, duration, added: numerically.
    * NULLs come first (last when descending), as SQLite orders them.
    * ties are broken by the local ``id``, in the same direction.
    * server: by server name ``COLLATE NOCASE``, then by exact name, then by ``id``. Implemented as one index
      scan per server, concatenated (servers are few), so no sort of the whole table is needed.
    """

    def __init__(
        self, db: Database, clock: Callable[[], float], search_tuning: s.SearchTuning | None = None
    ) -> None:
        """``search_tuning``: the cost model of searched pages (``tracks_search``); tests lower its thresholds."""
        self._db = db
        self._clock = clock
        self._tuning = search_tuning or s.SearchTuning()

    # ---- write side (db-writer thread) ----

    def begin_staging(self, server_id: int) -> None:
        """Drops staged rows a killed or failed earlier run may have left for this server."""
        with self._db.write("clearing staged tracks") as conn:
            w.clear_staging(conn, server_id)

    def stage_albums(self, server_id: int, library_key: str, albums: Sequence[AlbumRecord]) -> None:
        with self._db.write("staging albums") as conn:
            w.stage_albums(conn, server_id, library_key, albums)

    def stage_tracks(self, server_id: int, library_key: str, tracks: Sequence[TrackRecord]) -> None:
        """See ``core.ports.TrackStore.stage_tracks``."""
        with self._db.write("staging tracks") as conn:
            w.stage_tracks(conn, server_id, library_key, tracks)

    def commit_staging(
        self,
        server_id: int,
        libraries: Sequence[RemoteLibrary],
        merge_keys: Sequence[str],
        delete_vanished_keys: Sequence[str],
        *,
        replace: bool = False,
        max_removal_pct: float | None = None,
        marks: Mapping[str, ListingMark] | None = None,
    ) -> MergeCounts:
        """See ``core.ports.TrackStore.commit_staging``. Counts are for tracks (albums merge silently)."""
        with self._db.write("merging synced tracks") as conn:
            counts = w.commit(
                conn,
                server_id,
                libraries,
                merge_keys,
                delete_vanished_keys,
                self._clock(),
                replace=replace,
                max_removal_pct=max_removal_pct,
                marks=marks,
            )
        self._refresh_statistics()
        return counts

    def discard_staging(self, server_id: int) -> None:
        with self._db.write("discarding staged tracks") as conn:
            w.clear_staging(conn, server_id)

    def clear_server(self, server_id: int) -> None:
        """Deletes every cached library/album/track/user row of the server (identity changed)."""
        with self._db.write("clearing a server's cached rows") as conn:
            w.clear_staging(conn, server_id)
            w.clear_server_rows(conn, server_id)
        self._refresh_statistics()

    def _refresh_statistics(self) -> None:
        """Re-runs ANALYZE when the table grew or shrank by more than a quarter since the last one:
        the planner needs row counts to pick the covering filter indexes over the sort indexes."""
        with self._db.write("updating query statistics") as conn:
            have = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
            row = (
                conn.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'tracks' LIMIT 1").fetchone()
                if have
                else None
            )
            known = int(str(row[0]).split()[0]) if row else -1
            actual = conn.execute("SELECT count(*) FROM tracks").fetchone()[0]
            if known >= 0 and 0.8 * known <= actual <= 1.25 * known + 100:
                return
            conn.execute("PRAGMA analysis_limit=0")  # full statistics: about 1 s at 1M tracks, rarely needed
            conn.execute("ANALYZE tracks")
            conn.execute("ANALYZE track_genres")

    # ---- read side (any thread) ----

    def _server_id(self, conn: sqlite3.Connection, name: str | None) -> int | None:
        if name is None:
            return None
        row = conn.execute("SELECT id FROM servers WHERE name = ?", (name,)).fetchone()
        return -1 if row is None else int(row[0])  # -1 matches nothing

    def _names(self, conn: sqlite3.Connection) -> tuple[dict[int, str], dict[int, str]]:
        servers = dict(conn.execute("SELECT id, name FROM servers").fetchall())
        libraries = dict(conn.execute("SELECT id, title FROM libraries").fetchall())
        return servers, libraries

    def _servers_in_order(self, conn: sqlite3.Connection, only: int | None, descending: bool) -> list[int]:
        rows = conn.execute("SELECT id, name FROM servers").fetchall()
        rows.sort(key=lambda r: (_nocase(r[1]), r[1]), reverse=descending)
        return [int(r[0]) for r in rows if only is None or r[0] == only]

    def _tags(self, flt: TrackFilter, sid: int | None) -> q.Tags | None:
        """A searched view's filters as FTS tag tokens (``tracks_query.fold``) when they all can be, so that
        FTS5 intersects them with the search (run with ``TrackFilter(search=flt.search)`` and no server)."""
        if self._tuning.fold_filters and q.search_words(flt.search) and q.has_row_filters(flt, sid):
            return q.fold(flt, sid)
        return None

    def count(self, flt: TrackFilter) -> int:
        with self._db.read("counting tracks", scan=True) as conn:  # one pass over an index: see Database.read
            sid = self._server_id(conn, flt.server)
            tags = self._tags(flt, sid)
            if tags is not None:
                return q.fts_count(conn, q.search_words(flt.search), tags=tags)  # no row is read
            return s.count(conn, flt, sid, self._tuning)

    def query(
        self, flt: TrackFilter, sort: TrackSort, limit: int | None = None, offset: int = 0
    ) -> list[Track]:
        """One page of the view (``limit`` None = to the end)."""
        with self._db.read("reading tracks") as conn:
            sid = self._server_id(conn, flt.server)
            servers, libraries = self._names(conn)
            rows = list(self._rows(conn, flt, sort, sid, q.COLUMNS, limit, max(0, offset)))
            return [q.to_track(r, servers, libraries) for r in rows]

    def ids(self, flt: TrackFilter, sort: TrackSort) -> array[int]:
        """The ordered ids of the whole view as ``array('q')`` (8 bytes per track)."""
        out = array("q")
        with self._db.read("reading track ids", scan=True) as conn:
            sid = self._server_id(conn, flt.server)
            for batch in _batches(self._rows(conn, flt, sort, sid, "id", None, 0)):
                out.extend(int(r[0]) for r in batch)  # type: ignore[call-overload]
        return out

    def _rows(
        self,
        conn: sqlite3.Connection,
        flt: TrackFilter,
        sort: TrackSort,
        sid: int | None,
        select: str,
        limit: int | None,
        offset: int,
    ) -> Iterable[Sequence[object]]:
        if sort.column is not SortColumn.SERVER:
            in_order = False
            fts_drives: bool | None = None
            tags = q.NO_TAGS
            if limit is not None and q.search_words(flt.search):
                folded = self._tags(flt, sid)
                plan = s.choose(conn, flt, sid, offset + limit, self._tuning, folded)
                if plan.folded and folded is not None:
                    flt, sid, tags = TrackFilter(search=flt.search), None, folded
                fts_drives = plan.fts_drives
                if plan.plan is not s.Plan.SORT:
                    found = s.walk(conn, flt, sort, sid, offset + limit, plan, tags)
                    if found is not None:
                        return self._by_ids(conn, found[offset:], select)
                    # the matches cluster in sort order: the walk gave up, the sort plan answers
            elif limit is not None and not q.has_row_filters(flt, sid):
                in_order = True  # every row matches: the sort index gives the page, no count needed
            elif limit is not None:
                # A page: pick the plan from the number of matches (SQLite's planner does not weigh LIMIT).
                matches = q.count(conn, flt, sid)
                if matches <= offset:
                    return []
                total = conn.execute("SELECT count(*) FROM tracks").fetchone()[0]
                in_order = q.prefer_index_order(matches, total, offset + limit)
            sql, params = q.page_sql(flt, sort, sid, select, in_order, fts_drives, tags)
            if limit is not None or offset:
                sql += " LIMIT ? OFFSET ?"
                params += [-1 if limit is None else limit, offset]
            return conn.execute(sql, params)
        return self._server_rows(conn, flt, sort.descending, sid, select, limit, offset)

    def _server_rows(
        self,
        conn: sqlite3.Connection,
        flt: TrackFilter,
        descending: bool,
        sid: int | None,
        select: str,
        limit: int | None,
        offset: int,
    ) -> Iterable[Sequence[object]]:
        left = limit
        for server_id in self._servers_in_order(conn, sid, descending):
            if left is not None and left <= 0:
                return
            if offset:
                n = q.count(conn, flt, server_id)
                if n <= offset:
                    offset -= n
                    continue
            words = q.search_words(flt.search)
            tags = q.fold(flt, server_id) if words and self._tuning.fold_filters else None
            if tags is not None:
                sql, params = q.server_search_page_sql(words, tags, descending, select)
            else:
                sql, params = q.server_page_sql(flt, server_id, descending, select)
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if left is None else left, offset]
            offset = 0
            for row in conn.execute(sql, params):
                yield row
                if left is not None:
                    left -= 1

    def _by_ids(self, conn: sqlite3.Connection, ids: Sequence[int], select: str) -> list[Sequence[object]]:
        """Rows (``select`` starts with ``id``) of a few hundred ids, in the order given."""
        found: dict[int, Sequence[object]] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = [int(i) for i in ids[start : start + _CHUNK]]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT {select} FROM tracks WHERE id IN ({marks})"  # noqa: S608 - only '?' marks
            for row in conn.execute(sql, chunk):
                found[int(row[0])] = row
        return [found[i] for i in ids if i in found]

    def get_many(self, ids: Sequence[int]) -> list[Track]:
        """Tracks by local id, in the order given; ids that no longer exist are skipped."""
        found: dict[int, Track] = {}
        with self._db.read("reading tracks by id") as conn:
            servers, libraries = self._names(conn)
            for start in range(0, len(ids), _CHUNK):
                chunk = [int(i) for i in ids[start : start + _CHUNK]]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT {q.COLUMNS} FROM tracks WHERE id IN ({marks})"  # noqa: S608 - only '?' marks
                for row in conn.execute(sql, chunk):
                    found[row[0]] = q.to_track(row, servers, libraries)
        return [found[i] for i in ids if i in found]

    def genres(self) -> list[str]:
        """Every genre of any cached track, sorted case-insensitively."""
        with self._db.read("reading genres") as conn:
            # A loose index scan: one seek per distinct genre instead of reading every genre row.
            rows = conn.execute(
                "WITH RECURSIVE g(name) AS (SELECT min(genre) FROM track_genres UNION ALL "
                "SELECT (SELECT min(genre) FROM track_genres WHERE genre > g.name) FROM g WHERE g.name IS NOT NULL) "
                "SELECT name FROM g WHERE name IS NOT NULL"
            ).fetchall()
        return sorted((r[0] for r in rows), key=lambda g: (g.casefold(), g))

    def listing_marks(self, server_id: int) -> dict[str, ListingMark]:
        with self._db.read("reading when libraries were listed") as conn:
            rows = conn.execute(
                "SELECT key, listed_since, full_listed_at FROM libraries "
                "WHERE server_id = ? AND listed_since IS NOT NULL",
                (server_id,),
            ).fetchall()
        return {
            str(k): ListingMark(float(since), None if full is None else float(full))
            for k, since, full in rows
        }

    def staged_totals(self, server_id: int, library_key: str) -> tuple[int, int]:
        """See ``core.ports.TrackStore.staged_totals``. Reads staging rows, so it runs on the writer thread
        (after the pages queued before it were written)."""
        with self._db.write("counting staged tracks") as conn:
            return w.staged_totals(conn, server_id, library_key)

    def stage_deleted(self, server_id: int, library_key: str, remote_ids: Sequence[str]) -> None:
        """See ``core.ports.TrackStaging.stage_deleted``."""
        with self._db.write("staging tracks found deleted") as conn:
            w.stage_deleted(conn, server_id, library_key, remote_ids)

    def expected_partition(
        self, server_id: int, library_key: str, levels: Sequence[PartitionLevel], fixed: Sequence[object]
    ) -> tuple[list[object], list[object], list[int]]:
        """See ``core.ports.TrackStaging.expected_partition`` (writer thread: it reads staging rows)."""
        with self._db.write("counting tracks by partition") as conn:
            return w.expected_partition(conn, server_id, library_key, levels, fixed)

    def expected_ids(
        self,
        server_id: int,
        library_key: str,
        levels: Sequence[PartitionLevel],
        fixed: Sequence[object],
        groups: Sequence[object],
        limit: int,
    ) -> list[str]:
        """See ``core.ports.TrackStaging.expected_ids`` (writer thread: it reads staging rows)."""
        with self._db.write("reading tracks of a partition") as conn:
            return w.expected_ids(conn, server_id, library_key, levels, fixed, groups, limit)

    def library_track_counts(self, server_id: int) -> dict[str, int]:
        with self._db.read("counting tracks per library") as conn:
            rows = conn.execute(
                "SELECT l.key, (SELECT count(*) FROM tracks t WHERE t.library_id = l.id) "
                "FROM libraries l WHERE l.server_id = ?",
                (server_id,),
            ).fetchall()
        return {str(k): int(n) for k, n in rows}

    def libraries(self, server_id: int | None = None) -> list[Library]:
        with self._db.read("reading libraries") as conn:
            rows = conn.execute(
                "SELECT l.id, l.server_id, l.key, l.title, (SELECT count(*) FROM tracks t WHERE t.library_id = l.id) "
                "FROM libraries l WHERE ?1 IS NULL OR l.server_id = ?1 ORDER BY l.server_id, l.title, l.id",
                (server_id,),
            ).fetchall()
        return [Library(id=r[0], server_id=r[1], key=r[2], title=r[3], track_count=r[4]) for r in rows]


def _nocase(text: str) -> str:
    """SQLite's NOCASE: only ASCII letters fold."""
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in text)


def _batches(rows: Iterable[Sequence[object]], size: int = 65536) -> Iterable[list[Sequence[object]]]:
    if isinstance(rows, sqlite3.Cursor):
        while batch := rows.fetchmany(size):
            yield batch
        return
    pending: list[Sequence[object]] = []
    for row in rows:
        pending.append(row)
        if len(pending) >= size:
            yield pending
            pending = []
    if pending:
        yield pending
