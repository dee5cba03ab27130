"""Every earlier schema version migrates to the latest without losing a row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.core.filters import TrackFilter, TrackSort
from app.storage import open_cache
from app.storage.schema import LATEST, migrate


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid").fetchall()
    return [r[0] for r in rows if not r[0].startswith(("sqlite_", "tracks_fts"))]


def _value(table: str, column: str, decl: str, fks: dict[str, str]) -> object:
    """One plausible value per column: foreign keys point at row 1 of their parent (inserted first)."""
    if column in fks or column == "id":
        return 1
    if table == "tracks" and column == "title":
        return "Migrated Song"
    if table == "tracks" and column == "genres":
        return '["Rock"]'
    decl = decl.upper()
    if "INT" in decl:
        return 1
    if "REAL" in decl:
        return 1.5
    if "BLOB" in decl:
        return b"\x01\x02"
    return f"{table}.{column}"


def _fill(conn: sqlite3.Connection) -> dict[str, dict[str, object]]:
    rows: dict[str, dict[str, object]] = {}
    for table in _tables(conn):
        fks = {r[3]: r[2] for r in conn.execute(f"PRAGMA foreign_key_list({table})")}
        cols = conn.execute(f"PRAGMA table_info({table})").fetchall()
        row = {c[1]: _value(table, c[1], c[2], fks) for c in cols}
        marks = ",".join("?" * len(row))
        conn.execute(f"INSERT INTO {table}({','.join(row)}) VALUES ({marks})", list(row.values()))  # noqa: S608
        rows[table] = row
    return rows


# Staged rows of an unfinished sync: v6 rebuilds these tables empty (a run's leftovers are dropped anyway).
TRANSIENT = {"stage_tracks", "stage_albums"}


@pytest.mark.parametrize("version", range(LATEST))
def test_migrating_from_every_earlier_version_keeps_every_row(tmp_path: Path, version: int) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / "cache.sqlite3", isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    assert migrate(conn, version) == version
    conn.execute("BEGIN")
    conn.execute("PRAGMA defer_foreign_keys=ON")  # v3 adds users.identity_id, a parent created after users
    rows = _fill(conn)
    conn.execute("COMMIT")
    conn.close()
    if version >= 1:
        assert {"servers", "tracks", "settings", "sync_runs"} <= set(rows)

    with open_cache(data_dir) as cache:
        assert cache.schema_version() == LATEST
        assert cache.integrity_check() == "ok"
        check = sqlite3.connect(cache.path)
        for table, row in rows.items():
            if table in TRANSIENT:
                continue
            where = " AND ".join(f"{col} IS ?" for col in row)
            sql = f"SELECT count(*) FROM {table} WHERE {where}"  # noqa: S608 - names from sqlite_master
            found = check.execute(sql, list(row.values())).fetchone()[0]
            assert found == 1, f"{table} lost its row when migrating from v{version}"
        check.close()
        if "tracks" in rows:
            [t] = cache.tracks.query(TrackFilter(search="migrat"), TrackSort())
            assert t.title == "Migrated Song"
            [t] = cache.tracks.query(TrackFilter(search="m"), TrackSort())  # a 1-letter prefix (v4 index)
            assert t.title == "Migrated Song" and cache.tracks.count(TrackFilter(search="mi")) == 1
            # v7 indexed the filter values as tags: a search with filters is answered by FTS5 alone
            rated = TrackFilter(search="mi", genre="Rock", min_rating=1, server="servers.name")
            assert cache.tracks.count(rated) == 1 and [
                x.id for x in cache.tracks.query(rated, TrackSort(), 5)
            ] == [t.id]
            assert cache.tracks.count(TrackFilter(search="mi", min_rating=2)) == 0
            assert cache.tracks.count(TrackFilter(search="mi", exclude_live=True)) == 0  # is_live = 1
            with cache._db.write("test") as w:
                w.execute("INSERT INTO tracks_fts(tracks_fts) VALUES ('integrity-check')")
                w.execute("DELETE FROM tracks")  # the delete trigger removes exactly the migrated tokens
                w.execute("INSERT INTO tracks_fts(tracks_fts) VALUES ('integrity-check')")
            assert cache.tracks.count(TrackFilter(search="mi", genre="Rock")) == 0
        check = sqlite3.connect(cache.path)
        [fts_sql] = check.execute("SELECT sql FROM sqlite_master WHERE name = 'tracks_fts'").fetchone()
        check.close()
        assert "prefix='1 2 3'" in fts_sql  # v4 rebuilt the index with prefix indexes


def test_latest_has_every_table_of_the_design(tmp_path: Path) -> None:
    with open_cache(tmp_path) as cache:
        conn = sqlite3.connect(cache.path)
        names = set(_tables(conn))
        conn.close()
    assert {
        "servers", "libraries", "albums", "tracks", "track_genres", "users", "sync_runs", "settings",
        "stage_tracks", "stage_albums", "identities", "invitations", "invitation_servers", "invitation_libraries",
        "redemptions", "sync_state", "health_checks", "incidents", "diagnostic_runs", "diagnostic_results",
        "error_events", "task_runs", "user_exclusions",
    } <= names  # fmt: skip


def test_v5_people_tables_and_identity_relink_trigger(tmp_path: Path) -> None:
    """v5 adds identity_links (with the trigger that re-links a re-inserted account), remembered_shares and
    redemptions.remote_id, on top of a v4 file that already holds users and identities."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / "cache.sqlite3", isolation_level=None)
    assert migrate(conn, 4) == 4
    conn.execute(
        "INSERT INTO servers(id, name, kind, url, auth_method, created_at) VALUES (1,'P','plex','u','token',0)"
    )
    conn.execute("INSERT INTO identities(id, display_name, created_at) VALUES (7, 'Ann', 0)")
    conn.execute("INSERT INTO users(server_id, remote_id, username) VALUES (1, 'r1', 'ann')")
    assert migrate(conn) == LATEST >= 5
    conn.execute(
        "INSERT INTO identity_links(server_id, remote_id, identity_id, linked_at) VALUES (1,'r2',7,0)"
    )
    conn.execute("INSERT INTO users(server_id, remote_id, username) VALUES (1, 'r2', 'ann2')")
    linked = dict(conn.execute("SELECT remote_id, identity_id FROM users").fetchall())
    assert linked == {"r1": None, "r2": 7}
    conn.execute("INSERT INTO remembered_shares(server_id, remote_id, removed_at) VALUES (1, 'r1', 0)")
    cols = {r[1] for r in conn.execute("PRAGMA table_info(redemptions)")}
    assert "remote_id" in cols
    conn.close()


def test_v6_staging_has_no_index_and_v5_rows_merge_unchanged(tmp_path: Path) -> None:
    """v6: staging is a plain rowid table (appends in arrival order); rows merged by a v5 build (with a real
    content hash) are compared column by column, so re-staging the same content writes nothing."""
    from app.core.models import (
        AuthMethod,
        ConnectResult,
        MergeCounts,
        NewServer,
        RemoteLibrary,
        ServerIdentity,
        ServerKind,
        TrackRecord,
    )

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / "cache.sqlite3", isolation_level=None)
    assert migrate(conn, 5) == 5
    conn.close()
    with open_cache(data_dir) as cache:
        s = cache.servers.add(
            NewServer("Home", ServerKind.PLEX, "http://127.0.0.1:1", AuthMethod.TOKEN),
            ConnectResult(ServerIdentity("m", "Home", "1", ServerKind.PLEX), token="t"),
        )
        song = TrackRecord(
            remote_id="r1", title="Song", genres=("Rock",), year=1990, rating=7.0, added_at=5.0
        )
        cache.tracks.begin_staging(s.id)
        cache.tracks.stage_tracks(s.id, "1", [song])
        assert cache.tracks.commit_staging(s.id, [RemoteLibrary("1", "L")], ["1"], ["1"]).added == 1
        with cache._db.write("test") as w:
            w.execute("UPDATE tracks SET content_hash = X'0102'")  # what a v5 build stored
        check = sqlite3.connect(cache.path)
        indexes = check.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'stage_%'"
        ).fetchall()
        check.close()
        assert indexes == []
        cache.tracks.begin_staging(s.id)
        cache.tracks.stage_tracks(s.id, "1", [song, song])
        before = cache._db.writer.execute("SELECT synced_at FROM tracks").fetchone()
        counts = cache.tracks.commit_staging(s.id, [RemoteLibrary("1", "L")], ["1"], ["1"])
        assert counts == MergeCounts(unchanged=1)
        assert cache._db.writer.execute("SELECT synced_at FROM tracks").fetchone() == before
