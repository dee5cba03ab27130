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


@pytest.mark.parametrize("version", range(LATEST))
def test_migrating_from_every_earlier_version_keeps_every_row(tmp_path: Path, version: int) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / "cache.sqlite3", isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    assert migrate(conn, version) == version
    conn.execute("BEGIN")
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
            where = " AND ".join(f"{col} IS ?" for col in row)
            sql = f"SELECT count(*) FROM {table} WHERE {where}"  # noqa: S608 - names from sqlite_master
            found = check.execute(sql, list(row.values())).fetchone()[0]
            assert found == 1, f"{table} lost its row when migrating from v{version}"
        check.close()
        if "tracks" in rows:
            [t] = cache.tracks.query(TrackFilter(search="migrat"), TrackSort())
            assert t.title == "Migrated Song"


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
