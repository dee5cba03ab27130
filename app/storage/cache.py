"""Opening the cache: data folder, file modes, pragmas, integrity check, migrations (DESIGN §3)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from app.core.errors import CacheError
from app.storage import schema
from app.storage.accounts import SqliteAccountStore, SqliteExclusionStore
from app.storage.backups import FileBackups, create_backup, damaged_remedy
from app.storage.db import Database, guard, to_cache_error
from app.storage.diagnostics import SqliteDiagnosticStore
from app.storage.error_events import SqliteErrorEventStore
from app.storage.expiry import SqliteExpiryStore
from app.storage.health import SqliteHealthStore
from app.storage.history import SqliteHistoryStore
from app.storage.identities import SqliteIdentityStore
from app.storage.invitations import SqliteInvitationStore
from app.storage.locks import FileJobLocks, HeldLock, cache_lock_path, try_lock_path
from app.storage.paths import CACHE_FILE
from app.storage.runs import SqliteSettingsStore, SqliteSyncRunStore
from app.storage.servers import SqliteServerStore
from app.storage.shares import SqliteShareMemory
from app.storage.task_runs import SqliteTaskRunStore
from app.storage.tracks import SqliteTrackStore
from app.storage.users import SqliteUserStore

FILE_NAME = CACHE_FILE


class Cache:
    """The open cache and its stores. Create with ``open_cache``; ``close()`` when done (any thread, once no
    store call is running)."""

    def __init__(
        self, data_dir: Path, db: Database, clock: Callable[[], float], in_use: HeldLock | None = None
    ) -> None:
        self.data_dir = data_dir
        self.path = db.path
        self._db = db
        self._in_use = in_use  # shared "cache-in-use" lock: a restore waits until every holder has closed
        self.backups = FileBackups(data_dir, clock)
        self.servers = SqliteServerStore(db, clock)
        self.tracks = SqliteTrackStore(db, clock)
        self.users = SqliteUserStore(db, clock)
        self.sync_runs = SqliteSyncRunStore(db, clock)
        self.settings = SqliteSettingsStore(db)
        self.locks = FileJobLocks(data_dir)
        self.invitations = SqliteInvitationStore(db, clock)
        self.identities = SqliteIdentityStore(db, clock)
        self.accounts = SqliteAccountStore(db, clock)
        self.exclusions = SqliteExclusionStore(db, clock)
        self.shares = SqliteShareMemory(db)
        self.task_runs = SqliteTaskRunStore(db, clock)
        self.health = SqliteHealthStore(db, clock)
        self.diagnostics = SqliteDiagnosticStore(db, clock)
        self.error_events = SqliteErrorEventStore(db, clock)
        self.expiry = SqliteExpiryStore(db, clock)
        self.history = SqliteHistoryStore(db)

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check`` ("ok" when the file is sound). Any thread; slow on big caches."""
        with self._db.read("checking the cache") as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(r[0]) for r in rows)

    def quick_check(self) -> None:
        """``PRAGMA quick_check`` on this thread's read connection; raises CacheError (with the remedy) unless the
        file is sound. Any thread; reads the whole file (with a small page cache: see ``Database.read``)."""
        with self._db.read("checking the cache", scan=True) as conn:
            _raise_unless_ok(conn, self.data_dir)

    def schema_version(self) -> int:
        with self._db.read("reading the schema version") as conn:
            return schema.schema_version(conn)

    def close(self) -> None:
        self._db.close()
        if self._in_use is not None:
            self._in_use.release()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _secure_files(data_dir: Path, path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists() and os.name == "posix":
            with contextlib.suppress(OSError):  # best effort: the files were created 0600 already
                os.chmod(p, 0o600)


def _raise_unless_ok(conn: sqlite3.Connection, data_dir: Path) -> None:
    with guard("checking the cache", data_dir):
        result = conn.execute("PRAGMA quick_check").fetchall()
    text = "; ".join(str(r[0]) for r in result)
    if text != "ok":
        raise CacheError(
            "The local cache file is damaged.", remedy=damaged_remedy(data_dir), detail=f"quick_check: {text}"
        )


def _lock_in_use(data_dir: Path) -> HeldLock:
    lock = try_lock_path(cache_lock_path(data_dir), shared=True)
    if lock is None:
        raise CacheError(
            "A backup is being restored into this data folder.",
            remedy="Wait a moment for the restore to finish, then start Zondarr again.",
            detail="open: the cache-in-use lock is held exclusively",
        )
    return lock


def _backup_before_migration(db: Database, data_dir: Path) -> None:
    """A copy of a cache that a migration is about to change (DESIGN §3); a new, empty cache needs none."""
    with guard("reading the schema version", data_dir):
        version = schema.schema_version(db.writer)
    if 0 < version < schema.LATEST:
        create_backup(data_dir, f"before-migration-v{schema.LATEST}", None, source=db.writer)


def open_cache(data_dir: Path, clock: Callable[[], float] = time.time, *, check: bool = True) -> Cache:
    """Opens (creating if needed) ``data_dir/cache.sqlite3``: folder 0700, files 0600, WAL pragmas, a
    ``quick_check`` (unless ``check`` is False: the desktop app runs ``Cache.quick_check()`` after its first
    paint, since it reads the whole file — over a second at 1M tracks), a backup before any migration, migrations
    to the latest schema, and marks sync runs a killed process left running as failed. Holds the shared
    "cache-in-use" lock until ``close()`` (a restore refuses meanwhile). Call on the thread that will become the
    db-writer (or before it starts). Raises CacheError with a remedy (damaged file, newer schema, unwritable
    folder, a restore running), FileWriteError (no room for the pre-migration backup)."""
    try:
        if not data_dir.exists():
            data_dir.mkdir(mode=0o700, parents=True)
        path = data_dir / FILE_NAME
        if not path.exists():
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # SQLite gives -wal/-shm the same mode
    except OSError as exc:
        raise CacheError(
            "Zondarr could not create its data folder.",
            remedy="Check that the data folder is writable, or choose another one with --data-dir.",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    in_use = _lock_in_use(data_dir)
    try:
        db = Database(path)
    except sqlite3.Error as exc:
        in_use.release()
        raise to_cache_error(exc, "opening the cache", data_dir) from exc
    try:
        if check:
            _raise_unless_ok(db.writer, data_dir)
        _backup_before_migration(db, data_dir)
        with guard("upgrading the cache", data_dir):
            schema.migrate(db.writer)
        _secure_files(data_dir, path)
        cache = Cache(data_dir, db, clock, in_use)
        cache.sync_runs.abandon_running()
        # Zondarr's client identifier towards Plex/plex.tv and Jellyfin: random once, then the same every run
        cache.settings.ensure("client_identifier", str(uuid.uuid4()))
        return cache
    except BaseException:
        db.close()
        in_use.release()
        raise
