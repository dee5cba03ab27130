"""Writing files so that a failure leaves nothing half-written: a temporary file in the same folder, flushed and
fsynced, then renamed over the target (atomic on POSIX and Windows). Every ``OSError`` (full disk, read-only or
missing folder, file size limit) becomes a ``FileWriteError`` whose remedy fits the cause, and the temporary
file is removed. Standard library only; blocking (call it off the event loop).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from app.core.errors import FileWriteError

_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}
_MISSING = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST}  # EEXIST: a file is in the way


def write_failed(what: str, name: str, exc: OSError, *, where: str = "the folder") -> FileWriteError:
    """The error for ``what`` (e.g. "The secrets file") named ``name`` (a file name, never a full path: the user
    message holds no internal path) that could not be written because of ``exc``."""
    code = exc.errno
    place = where[:1].upper() + where[1:]
    if code in _FULL:
        remedy = f"The disk is full (or the file is too large for it). Free some disk space in {where}, then try again."
    elif code in _DENIED:
        remedy = f"{place} is read-only or not yours. Make it writable, then try again."
    elif code in _MISSING:
        remedy = f"{place} does not exist (or is a file). Choose another one, then try again."
    else:
        remedy = FileWriteError.default_remedy
    return FileWriteError(
        f"{what} ({name}) could not be written.",
        remedy=remedy,
        detail=f"writing {name}: {type(exc).__name__} errno={code} {exc.strerror}",
    )


def remove_quietly(path: Path | str) -> None:
    """Deletes ``path`` when it exists; an error doing so is ignored (best-effort clean-up after a failure)."""
    with contextlib.suppress(OSError):
        os.unlink(path)


@contextlib.contextmanager
def atomic_file(
    path: Path, what: str, *, binary: bool = False, mode: int = 0o600, where: str = "the folder"
) -> Iterator[IO[Any]]:
    """Yields a file object for a temporary file next to ``path``; on a clean exit it is flushed, fsynced, given
    ``mode`` and renamed over ``path``. On any failure the temporary file is removed and ``path`` is left as it
    was; an OSError is raised as FileWriteError (other exceptions pass through unchanged)."""
    tmp: str | None = None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        opener: Callable[[], IO[Any]] = (
            (lambda: os.fdopen(fd, "wb"))
            if binary
            else (lambda: os.fdopen(fd, "w", encoding="utf-8", newline=""))
        )
        with opener() as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise write_failed(what, path.name, exc, where=where) from None
    finally:
        if tmp is not None:
            remove_quietly(tmp)
