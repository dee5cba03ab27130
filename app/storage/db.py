"""Connections to the cache file: one writer connection, one read-only connection per reading thread.

Every ``sqlite3.Error`` is turned into ``core.errors.CacheError`` here (``guard``), so nothing above this package
sees a ``sqlite3`` exception.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from app.core.errors import CacheError
from app.storage.backups import damaged_remedy

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
_LOCKED_REMEDY = (
    "Another program (or a second Zondarr) is holding the cache file. Close it and try again; "
    "if nothing else is running, restart Zondarr."
)


def to_cache_error(exc: sqlite3.Error, action: str, data_dir: Path | None = None) -> CacheError:
    """Maps a sqlite3 error to a CacheError with a remedy (operator detail keeps SQLite's own words); a damaged
    file's remedy names the latest backup of ``data_dir``."""
    text = str(exc)
    detail = f"{action}: {type(exc).__name__}: {text}"
    if "locked" in text or "busy" in text:
        return CacheError("The local cache is busy.", remedy=_LOCKED_REMEDY, detail=detail)
    if "is full" in text:
        return CacheError(
            "The disk holding the local cache is full.", remedy="Free some disk space.", detail=detail
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return CacheError("The local cache file is damaged.", remedy=damaged_remedy(data_dir), detail=detail)
    return CacheError(detail=detail)


@contextlib.contextmanager
def guard(action: str, data_dir: Path | None = None) -> Iterator[None]:
    """Re-raises any sqlite3 error inside the block as CacheError."""
    try:
        yield
    except sqlite3.Error as exc:
        raise to_cache_error(exc, action, data_dir) from exc


CACHE_KIB = -32768  # PRAGMA cache_size: negative = KiB
SCAN_CACHE_KIB = -2048


def _configure(conn: sqlite3.Connection, *, read_only: bool) -> None:
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    if read_only:
        conn.execute("PRAGMA query_only=ON")
    else:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    # Repeated page queries and merges benefit from a larger page cache: 32 MB per connection. One-pass scans
    # (``Database.read(scan=True)``) run with a small one instead: a cache only grows, and a 1M-row id snapshot
    # or an integrity check would otherwise keep ~25-32 MB of pages in the process for good.
    conn.execute(f"PRAGMA cache_size={CACHE_KIB}")
    conn.execute("PRAGMA temp_store=MEMORY")


def connect_writer(path: Path) -> sqlite3.Connection:
    """The writer connection. ``check_same_thread=False``: it is created on one thread and used on the
    db-writer thread; the caller guarantees a single user at a time. Autocommit mode: transactions are explicit."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    _configure(conn, read_only=False)
    return conn


def connect_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection (``mode=ro`` URI) for one thread. Autocommit: no read transaction outlives a call."""
    uri = f"file:{quote(str(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    _configure(conn, read_only=True)
    return conn


class Database:
    """Owns the writer connection and the per-thread readers of one cache file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer = connect_writer(path)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextlib.contextmanager
    def write(self, action: str) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``; rollback on any error).

        Call on the db-writer thread only. Raises CacheError for any SQLite failure."""
        conn = self._writer()
        with guard(action, self.path.parent):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def read(self, action: str, *, scan: bool = False) -> Iterator[sqlite3.Connection]:
        """This thread's read-only connection inside one deferred read transaction (a consistent snapshot for
        the statements of one call, released at the end). ``scan``: a one-pass read of much of the file (an id
        snapshot, a check), run with a small page cache so that it does not leave the pages it read in memory.
        Any thread. Raises CacheError."""
        conn = self._reader()
        with guard(action, self.path.parent):
            if scan:
                conn.execute(f"PRAGMA cache_size={SCAN_CACHE_KIB}")  # also drops pages cached beyond it
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
                if scan:
                    conn.execute(f"PRAGMA cache_size={CACHE_KIB}")

    def _writer(self) -> sqlite3.Connection:
        if self._closed:
            raise CacheError(
                "The local cache is closed.", remedy="Restart Zondarr.", detail="write after close"
            )
        return self.writer

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise CacheError(
                "The local cache is closed.", remedy="Restart Zondarr.", detail="read after close"
            )
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            with guard("opening a read connection", self.path.parent):
                conn = connect_reader(self.path)
            self._local.conn = conn
            with self._lock:
                self._readers.append(conn)
        return conn

    def close(self) -> None:
        """Closes every connection (readers of other threads too). Idempotent."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            readers, self._readers = self._readers, []
        for conn in [*readers, self.writer]:
            try:
                conn.close()
            except sqlite3.Error as exc:  # closing is best effort; the data is already committed
                log.warning("closing a cache connection failed: %s", exc)
