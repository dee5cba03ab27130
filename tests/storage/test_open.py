"""Opening the cache: modes, pragmas, checks, errors, data dir."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from app.core.errors import CacheError
from app.core.filters import TrackFilter
from app.storage import default_data_dir, open_cache
from app.storage.schema import LATEST


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_creates_private_folder_and_files(data_dir: Path) -> None:
    with open_cache(data_dir) as c:
        c.settings.save_raw({"x": "1"})
        assert _mode(data_dir) == 0o700
        for suffix in ("", "-wal", "-shm"):
            assert _mode(data_dir / f"cache.sqlite3{suffix}") == 0o600
        assert c.path == data_dir / "cache.sqlite3" and c.data_dir == data_dir
        assert c.schema_version() == LATEST and c.integrity_check() == "ok"


def test_pragmas(data_dir: Path) -> None:
    with open_cache(data_dir) as c:
        w = c._db.writer
        assert w.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert w.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert w.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert w.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        with c._db.read("test") as r:
            assert r.execute("PRAGMA query_only").fetchone()[0] == 1
            with pytest.raises(sqlite3.OperationalError):
                r.execute("DELETE FROM settings")


def test_reads_from_other_threads_use_their_own_connection(data_dir: Path) -> None:
    with open_cache(data_dir) as c:
        seen: list[object] = []

        def read() -> None:
            seen.append(c.tracks.count(TrackFilter()))
            with c._db.read("t") as conn:
                seen.append(id(conn))

        threads = [threading.Thread(target=read) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert seen.count(0) == 3 and len({x for x in seen if x != 0}) == 3


def test_damaged_file_is_refused_with_a_remedy(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "cache.sqlite3").write_bytes(b"this is not a database" * 200)
    with pytest.raises(CacheError) as err:
        open_cache(data_dir)
    assert "damaged" in err.value.user_message and "cache.sqlite3" in err.value.remedy


def test_newer_schema_is_refused(data_dir: Path) -> None:
    open_cache(data_dir).close()
    with sqlite3.connect(data_dir / "cache.sqlite3") as conn:
        conn.execute(f"PRAGMA user_version={LATEST + 1}")
    with pytest.raises(CacheError, match="newer version"):
        open_cache(data_dir)


def test_busy_cache_maps_to_cache_error(data_dir: Path) -> None:
    with open_cache(data_dir) as c:
        other = sqlite3.connect(data_dir / "cache.sqlite3", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        c._db.writer.execute("PRAGMA busy_timeout=50")
        try:
            with pytest.raises(CacheError) as err:
                c.settings.save_raw({"a": "b"})
            assert "busy" in err.value.user_message and "sqlite3" not in err.value.user_message
        finally:
            other.execute("ROLLBACK")
            other.close()


def test_default_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZONDARR_DATA_DIR", str(tmp_path / "d"))
    assert default_data_dir() == tmp_path / "d"
    monkeypatch.delenv("ZONDARR_DATA_DIR")
    assert "zondarr" in str(default_data_dir()).lower()
