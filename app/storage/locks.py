"""Cross-process single-flight locks (``core.ports.JobLocks``): one lock file per name in ``data_dir/locks``.

The operating system releases a lock when its holder dies, so a killed process never leaves a stale lock.
Every acquisition opens its own file object, so two acquisitions in one process conflict as well.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path
from types import TracebackType
from typing import IO

from app.core.errors import CacheError

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def _try_lock(fh: IO[bytes], *, shared: bool = False) -> bool:
    if sys.platform == "win32":
        import msvcrt

        if shared:  # msvcrt has no shared locks: readers do not announce themselves on Windows
            return True

        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError: another holder
        return False
    return True


def _unlock(fh: IO[bytes], *, shared: bool = False) -> None:
    if sys.platform == "win32":
        if shared:
            return
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class HeldLock:
    """A held lock. Leaving the ``with`` block (or ``release()``) releases it; releasing twice is harmless."""

    def __init__(self, fh: IO[bytes], *, shared: bool = False) -> None:
        self._fh: IO[bytes] | None = fh
        self._shared = shared

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            try:
                _unlock(fh, shared=self._shared)
            finally:
                fh.close()


class FileJobLocks:
    """Any thread. ``try_acquire`` never blocks."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "locks"

    def _path(self, name: str) -> Path:
        safe = _SAFE.sub("_", name)[:80]
        if safe != name:  # keep distinct names distinct after cleaning
            safe += "-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]
        return self.dir / f"{safe}.lock"

    def try_acquire(self, name: str) -> HeldLock | None:
        """A held lock, or None when another holder (this or another process) has it. Raises CacheError when
        the lock file cannot be created."""
        return try_lock_path(self._path(name), what=repr(name))


CACHE_IN_USE = "cache-in-use"  # held shared by every open cache, exclusively by a restore


def try_lock_path(path: Path, *, shared: bool = False, what: str = "") -> HeldLock | None:
    """Locks ``path`` (created 0600, folder 0700): exclusively, or ``shared`` with other shared holders. None when
    a conflicting holder has it. Raises CacheError when the lock file cannot be created."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise CacheError(
            "Zondarr could not create a lock file in its data folder.",
            detail=f"lock {what or path.name}: {exc}",
        ) from exc
    fh = os.fdopen(fd, "r+b")
    if not _try_lock(fh, shared=shared):
        fh.close()
        return None
    return HeldLock(fh, shared=shared)


def cache_lock_path(data_dir: Path) -> Path:
    """The lock every process holds (shared) while it has the cache of ``data_dir`` open."""
    return data_dir / "locks" / f"{CACHE_IN_USE}.lock"
