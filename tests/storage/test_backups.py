"""Backups of the cache file (DESIGN §3): consistent copies, the newest N kept, a copy before every migration,
and a restore that checks first, keeps what it replaces, refuses while the cache is in use and is atomic."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.errors import CacheError, NotFoundError, ValidationError
from app.storage import open_cache
from app.storage.backups import create_backup, list_backups, restore_backup
from app.storage.schema import LATEST, migrate
from tests.storage.conftest import add_server

ROOT = Path(__file__).resolve().parents[2]


def _dump(data_dir: Path) -> dict[str, list[str]]:
    """Every row of every table (the FTS index's own tables too) and the schema version."""
    conn = sqlite3.connect(f"file:{data_dir / 'cache.sqlite3'}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        out = {
            name: sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{name}"'))  # noqa: S608
            for name in names
            if name != "tracks_fts"  # contentless: not scannable; its tracks_fts_* tables hold the index
        }
        out["user_version"] = [repr(conn.execute("PRAGMA user_version").fetchone())]
        return out
    finally:
        conn.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 60
        return self.now


def test_create_then_change_then_restore_gives_back_exactly_the_earlier_state(data_dir: Path) -> None:
    with open_cache(data_dir) as cache:
        add_server(cache, "Home Plex")
        cache.settings.save_raw({"page_size": "250"})
        backup = cache.backups.create("manual", 7)
    before = _dump(data_dir)
    with open_cache(data_dir) as cache:
        add_server(cache, "Second")
        cache.settings.save_raw({"page_size": "999"})
    changed = _dump(data_dir)
    assert changed != before

    restored, kept = restore_backup(data_dir, backup.name)

    assert restored.name == backup.name and kept is not None
    assert _dump(data_dir) == before
    with open_cache(data_dir) as cache:
        assert [s.name for s in cache.servers.list()] == ["Home Plex"]
    # the replaced file was kept: restoring it gives back the changed state
    restore_backup(data_dir, kept)
    assert _dump(data_dir) == changed


def test_only_the_newest_n_backups_are_kept(data_dir: Path) -> None:
    clock = Clock()
    open_cache(data_dir).close()
    names = [create_backup(data_dir, "daily", 3, clock=clock).name for _ in range(5)]
    assert [b.name for b in list_backups(data_dir)] == names[::-1][:3]
    assert {b.reason for b in list_backups(data_dir)} == {"daily"}
    assert all(b.schema_version == LATEST for b in list_backups(data_dir))


def test_a_temporary_copy_left_by_a_killed_backup_is_cleared_later(data_dir: Path) -> None:
    import os

    open_cache(data_dir).close()
    folder = data_dir / "backups"
    folder.mkdir()
    old, fresh = folder / ".cache-x-daily.sqlite3.tmp", folder / ".cache-y-daily.sqlite3.tmp"
    for p in (old, fresh):
        p.write_bytes(b"partial copy")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    create_backup(data_dir, "daily", 7)
    assert not old.exists() and fresh.exists()  # a fresh one may belong to a backup still running elsewhere
    assert len(list_backups(data_dir)) == 1


def test_a_backup_is_made_before_every_migration(data_dir: Path) -> None:
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / "cache.sqlite3", isolation_level=None)
    migrate(conn, LATEST - 1)
    conn.execute("INSERT INTO settings(key, value) VALUES ('page_size', '123')")
    conn.close()
    open_cache(data_dir).close()
    [backup] = list_backups(data_dir)
    assert backup.reason == f"before-migration-v{LATEST}"
    assert backup.schema_version == LATEST - 1
    copy = sqlite3.connect(data_dir / "backups" / backup.name)
    assert copy.execute("SELECT value FROM settings").fetchall() == [("123",)]
    copy.close()
    open_cache(data_dir).close()  # no migration: no new backup
    assert len(list_backups(data_dir)) == 1


def test_restore_refuses_while_the_cache_is_open_here_or_in_another_process(data_dir: Path) -> None:
    with open_cache(data_dir) as cache:
        backup = cache.backups.create("manual", 7)
        with pytest.raises(CacheError, match="in use"):
            restore_backup(data_dir, backup.name)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from app.storage import open_cache; c = open_cache(pathlib.Path(sys.argv[1]));"
            " print('open', flush=True); sys.stdin.read()",
            str(data_dir),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(CacheError, match="in use"):
            restore_backup(data_dir, backup.name)
    finally:
        holder.communicate("", timeout=30)
    restore_backup(data_dir, backup.name)  # the holder is gone


def test_restore_refuses_damaged_foreign_newer_or_missing_files_and_changes_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    with open_cache(data_dir) as cache:
        add_server(cache, "Home Plex")
        good = cache.backups.create("manual", 7)
    before = _dump(data_dir)
    not_db = tmp_path / "notes.txt"
    not_db.write_bytes(b"just some text\n" * 500)
    foreign = tmp_path / "other.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    newer = tmp_path / "newer.sqlite3"
    newer.write_bytes((data_dir / "backups" / good.name).read_bytes())
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version={LATEST + 1}")
    damaged = tmp_path / "damaged.sqlite3"
    raw = bytearray((data_dir / "backups" / good.name).read_bytes())
    for page in range(2, len(raw) // 4096):  # scribble over every page but the header page
        raw[page * 4096 + 10 : page * 4096 + 400] = b"\xff" * 390
    damaged.write_bytes(bytes(raw))

    for path, words in (
        (not_db, "not a readable"),
        (foreign, "not a Zondarr cache"),
        (newer, "newer version"),
        (damaged, "damaged"),
    ):
        with pytest.raises(ValidationError, match=words):
            restore_backup(data_dir, str(path))
    with pytest.raises(NotFoundError):
        restore_backup(data_dir, "cache-19990101-000000-manual.sqlite3")
    assert _dump(data_dir) == before
    assert [b.name for b in list_backups(data_dir)] == [good.name]  # nothing kept: nothing was replaced
    assert sorted(p.name for p in data_dir.iterdir() if "restoring" in p.name) == []


def test_a_damaged_cache_names_the_latest_backup_and_the_restore_command(data_dir: Path) -> None:
    with open_cache(data_dir) as cache:
        add_server(cache, "Home Plex")
        backup = cache.backups.create("daily", 7)
    (data_dir / "cache.sqlite3").write_bytes(b"this is not a database" * 200)
    for suffix in ("-wal", "-shm"):
        (data_dir / f"cache.sqlite3{suffix}").unlink(missing_ok=True)
    with pytest.raises(CacheError) as err:
        open_cache(data_dir)
    assert f"zondarr backup restore {backup.name}" in err.value.remedy
    assert "fetched again" not in err.value.remedy

    restored, kept = restore_backup(data_dir, backup.name)
    assert kept is not None and (data_dir / "backups" / kept).read_bytes().startswith(b"this is not")
    with open_cache(data_dir) as cache:
        assert [s.name for s in cache.servers.list()] == ["Home Plex"]


def test_with_no_backup_the_damaged_message_does_not_say_delete_it(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "cache.sqlite3").write_bytes(b"this is not a database" * 200)
    with pytest.raises(CacheError) as err:
        open_cache(data_dir)
    assert "No backup exists yet" in err.value.remedy and "invitations" in err.value.remedy


_RESTORER = """
import sys, pathlib
from app.storage.backups import restore_backup
print("go", flush=True)
restore_backup(pathlib.Path(sys.argv[1]), sys.argv[2])
print("done", flush=True)
"""


def _marker(data_dir: Path) -> str:
    with open_cache(data_dir) as cache:
        cache.quick_check()
        raw = cache.settings.load_raw()
    assert len(raw["pad"]) == 3_000_000
    return raw["marker"]


def _restore_in_child(data_dir: Path, name: str, kill_after: float | None) -> bool:
    """Runs a restore in a child process, SIGKILLed ``kill_after`` seconds after it starts restoring.
    True when it finished first."""
    child = subprocess.Popen(
        [sys.executable, "-c", _RESTORER, str(data_dir), name], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "go"
    if kill_after is not None:
        time.sleep(kill_after)
        child.kill()
    out, _ = child.communicate(timeout=60)
    return "done" in out


def test_kill_9_during_restore_leaves_the_old_or_the_new_file_never_a_mix(data_dir: Path) -> None:
    with open_cache(data_dir) as cache:
        for i in range(8):
            cache.settings.save_raw({f"pad{i}": "p" * 3_000_000})  # a file big enough to kill mid-copy
        cache.settings.save_raw({"marker": "old", "pad": "o" * 3_000_000})
        backup = cache.backups.create("manual", 100)
    with open_cache(data_dir) as cache:
        cache.settings.save_raw({"marker": "new", "pad": "n" * 3_000_000})
    started = time.monotonic()
    assert _restore_in_child(data_dir, backup.name, None)
    duration = time.monotonic() - started
    assert _marker(data_dir) == "old"

    rng = random.Random(7)
    seen: dict[str, int] = {"old": 0, "new": 0}
    finished = 0
    for _ in range(14):
        with open_cache(data_dir) as cache:  # back to "new" before each attempt
            cache.settings.save_raw({"marker": "new", "pad": "n" * 3_000_000})
        finished += _restore_in_child(data_dir, backup.name, rng.uniform(0, duration))
        marker = _marker(data_dir)  # quick_check passes and the pad is whole: never a mix
        assert marker in seen
        seen[marker] += 1
    assert seen["new"] >= 1, f"no kill landed before the swap ({seen}, restore took {duration:.2f} s)"
    assert finished < 14, "every restore finished before the kill: the test did not test anything"
