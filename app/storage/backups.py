"""Backups of the cache file (DESIGN §3): consistent copies made with SQLite's backup API into the data folder's
``backups/``, the newest N kept; and an atomic restore.

A backup is a self-contained file (rollback-journal mode, no ``-wal`` beside it) named
``cache-<UTC yyyymmdd-hhmmss>-<reason>.sqlite3``, so names sort by age. Restore never runs while another process
has the cache open (every open cache holds ``locks/cache-in-use.lock`` shared; restore takes it exclusively),
checks the file's integrity and schema version on a private copy first, keeps the file it replaces as a
``before-restore`` backup, and puts the copy in place with one rename: a process killed at any moment leaves the
old file or the new one, never a mix. Blocking; any thread.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from app.core.errors import CacheError, NotFoundError, ValidationError
from app.core.files import remove_quietly, write_failed
from app.core.models import Backup
from app.storage import schema
from app.storage.locks import cache_lock_path, try_lock_path
from app.storage.paths import CACHE_FILE

BACKUP_DIR = "backups"
_NAME = re.compile(r"^cache-(\d{8}-\d{6})(?:-(\d+))?-([a-z0-9-]+)\.sqlite3$")
_RESTORING = CACHE_FILE + ".restoring"
_HEADER = b"SQLite format 3\x00"


def backups_dir(data_dir: Path) -> Path:
    return data_dir / BACKUP_DIR


def _info(path: Path) -> Backup | None:
    m = _NAME.match(path.name)
    if m is None:
        return None
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
        size = path.stat().st_size
    except OSError:
        return None
    created = datetime.strptime(m.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC).timestamp()
    version = int.from_bytes(header[60:64], "big") if header.startswith(_HEADER) else -1
    return Backup(path.name, created, m.group(3), size, version)


def list_backups(data_dir: Path) -> list[Backup]:
    """The backups in ``data_dir/backups``, newest first (an unreadable or foreign file is left out)."""
    folder = backups_dir(data_dir)
    try:
        paths = list(folder.iterdir())
    except OSError:
        return []
    found = [b for b in (_info(p) for p in paths if p.is_file()) if b is not None]
    return sorted(found, key=_age_key, reverse=True)


def _age_key(backup: Backup) -> tuple[str, int]:
    m = _NAME.match(backup.name)
    assert m is not None  # _info parsed it
    return m.group(1), int(m.group(2) or 1)


def latest_backup(data_dir: Path) -> Backup | None:
    found = list_backups(data_dir)
    return found[0] if found else None


def damaged_remedy(data_dir: Path | None) -> str:
    """What to do about a damaged cache file: restore the latest backup (named), never "delete the file" (it
    holds servers, invitations, identities and settings, not only tracks)."""
    latest = latest_backup(data_dir) if data_dir is not None else None
    if latest is not None:
        made = datetime.fromtimestamp(latest.created_at).strftime("%Y-%m-%d %H:%M")
        return (
            f"Close Zondarr and restore the latest backup (made {made}): "
            f"zondarr backup restore {latest.name}. The damaged file is kept as a backup too."
        )
    return (
        "No backup exists yet. Close Zondarr and copy cache.sqlite3 from the data folder somewhere safe: it holds "
        "your servers, invitations, identities and settings. Then move it out of the data folder and start again "
        "(servers and invitations must be added again; tracks and users are fetched again)."
    )


def _new_path(folder: Path, reason: str, now: float) -> Path:
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d-%H%M%S")
    same_second = len(list(folder.glob(f"cache-{stamp}-*.sqlite3")))
    if not same_second:
        return folder / f"cache-{stamp}-{reason}.sqlite3"
    return (
        folder / f"cache-{stamp}-{same_second + 1}-{reason}.sqlite3"
    )  # sorts after the others of that second


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_database(source: sqlite3.Connection, target: Path) -> None:
    """Copies ``source`` into a new file ``target`` as one consistent snapshot (one backup step), in rollback
    journal mode so that the copy is one self-contained file."""
    dst = sqlite3.connect(str(target), isolation_level=None)
    try:
        source.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
    _fsync_file(target)


@contextlib.contextmanager
def _tmp_in(folder: Path, name: str) -> Iterator[Path]:
    """A temporary path in ``folder``, removed (with any journal SQLite left beside it) unless renamed away."""
    tmp = folder / name
    for leftover in (tmp, Path(f"{tmp}-journal")):
        remove_quietly(leftover)
    try:
        yield tmp
    finally:
        remove_quietly(tmp)
        remove_quietly(f"{tmp}-journal")


def _connect_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None)


STALE_TMP_S = 3600.0


def _prune(folder: Path, keep: int | None) -> None:
    """Removes backups beyond the ``keep`` newest, and temporary copies a killed process left over an hour ago."""
    if keep is None:
        return
    cutoff = time.time() - STALE_TMP_S
    for tmp in folder.glob(".cache-*.sqlite3.tmp*"):
        with contextlib.suppress(OSError):
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
    for old in list_backups(folder.parent)[max(1, keep) :]:
        remove_quietly(folder / old.name)


def create_backup(
    data_dir: Path,
    reason: str,
    keep: int | None,
    *,
    source: sqlite3.Connection | None = None,
    clock: Callable[[], float] = time.time,
) -> Backup:
    """A consistent copy of the cache (read through ``source`` when given, else a read-only connection of its
    own) as a new backup; then only the ``keep`` newest backups remain (None: none is removed). Raises FileWriteError (full disk,
    unwritable folder: no partial file is left) or CacheError (the cache could not be read)."""
    folder = backups_dir(data_dir)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = _new_path(folder, reason, clock())
        with _tmp_in(folder, f".{target.name}.tmp") as tmp:
            own = source is None
            conn = _connect_ro(data_dir / CACHE_FILE) if source is None else source
            try:
                _copy_database(conn, tmp)
            finally:
                if own:
                    conn.close()
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        _fsync_dir(folder)
    except OSError as exc:
        raise write_failed("The backup of the cache", "backups", exc, where="the data folder") from None
    except sqlite3.Error as exc:
        if "full" in str(exc) or "I/O" in str(exc):
            raise write_failed(
                "The backup of the cache", "backups", OSError(28, str(exc)), where="the data folder"
            ) from None
        raise CacheError(
            "The cache could not be backed up.",
            remedy="Check that the cache is not damaged (zondarr diagnose), then try again.",
            detail=f"backup ({reason}): {type(exc).__name__}: {exc}",
        ) from None
    _prune(folder, keep)
    found = _info(target)
    assert found is not None  # a name made by _new_path always parses
    return found


class FileBackups:
    """``core.ports.BackupStore`` over ``data_dir``: create on the read pool, list anywhere."""

    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.data_dir = data_dir
        self._clock = clock

    def create(self, reason: str, keep: int) -> Backup:
        return create_backup(self.data_dir, reason, keep, clock=self._clock)

    def list(self) -> list[Backup]:
        return list_backups(self.data_dir)


# ---------------------------------------------------------------- restore


def resolve(data_dir: Path, name_or_path: str) -> Path:
    """A backup's NAME (in ``backups/``) or a PATH to a file. Raises NotFoundError."""
    by_name = backups_dir(data_dir) / name_or_path
    if "/" not in name_or_path and os.sep not in name_or_path and by_name.is_file():
        return by_name
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    raise NotFoundError(
        f"There is no backup named {name_or_path!r}.",
        remedy="See the names with `zondarr backup list`, or give the path of a backup file.",
    )


def _check_copy(copy: Path, label: str) -> int:
    """Integrity and schema version of the private copy; returns the version. Raises ValidationError."""
    try:
        conn = sqlite3.connect(str(copy), isolation_level=None)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
            version = schema.schema_version(conn)
            has_servers = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'servers'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise ValidationError(
            f"{label} is not a readable Zondarr cache.",
            remedy="Choose another backup (zondarr backup list).",
            detail=f"restore check: {type(exc).__name__}: {exc}",
        ) from None
    text = "; ".join(str(r[0]) for r in rows)
    if text != "ok":
        raise ValidationError(
            f"{label} is damaged; nothing was restored.",
            remedy="Choose another backup (zondarr backup list).",
            detail=f"integrity_check: {text[:500]}",
        )
    if version < 1 or not has_servers:
        raise ValidationError(
            f"{label} is not a Zondarr cache; nothing was restored.",
            remedy="Choose a file from the data folder's backups (zondarr backup list).",
        )
    if version > schema.LATEST:
        raise ValidationError(
            f"{label} was made by a newer version of Zondarr (schema {version}); nothing was restored.",
            remedy="Update Zondarr first, or choose an older backup.",
        )
    return version


def _keep_current(data_dir: Path, clock: Callable[[], float]) -> str | None:
    """Backs up the cache file about to be replaced; returns the backup's name (None when there is no cache).
    A damaged file that SQLite cannot copy is kept byte for byte (with its ``-wal``)."""
    current = data_dir / CACHE_FILE
    if not current.exists() or current.stat().st_size == 0:
        return None
    try:
        return create_backup(data_dir, "before-restore", None, clock=clock).name
    except CacheError:
        pass
    folder = backups_dir(data_dir)
    target = _new_path(folder, "before-restore", clock())
    try:
        for suffix in ("-wal", ""):  # the main file last: its name is what makes the copy a backup
            src = Path(f"{current}{suffix}")
            if src.exists():
                dst = Path(f"{target}{suffix}")
                with src.open("rb") as fin, dst.open("wb") as fout:
                    while chunk := fin.read(1 << 20):
                        fout.write(chunk)
                    fout.flush()
                    os.fsync(fout.fileno())
    except OSError as exc:
        raise write_failed(
            "The backup of the current cache", "backups", exc, where="the data folder"
        ) from None
    return target.name


def _checkpoint_and_drop_wal(current: Path) -> None:
    """Folds the current file's WAL into it and removes ``-wal``/``-shm``: a WAL left beside the restored file
    would be replayed into it (a mix of both). A file too damaged to checkpoint was kept as a backup already."""
    if current.exists():
        with contextlib.suppress(sqlite3.Error):
            conn = sqlite3.connect(str(current), isolation_level=None)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
    for suffix in ("-wal", "-shm", "-journal"):
        p = Path(f"{current}{suffix}")
        if p.exists():
            os.unlink(p)


def restore_backup(
    data_dir: Path,
    name_or_path: str,
    *,
    clock: Callable[[], float] = time.time,
    before_swap: Callable[[], None] | None = None,
) -> tuple[Backup, str | None]:
    """Replaces the cache file of ``data_dir`` with the backup ``name_or_path``. Returns (what was restored,
    the name of the backup of the replaced file or None). Removes no backup. ``before_swap`` runs right before the
    swap (tests).

    Raises CacheError when another process has the cache open, NotFoundError, ValidationError (damaged,
    foreign or newer file: nothing changed), FileWriteError (full disk: nothing changed)."""
    source = resolve(data_dir, name_or_path)
    label = f"The backup {source.name}"
    lock = try_lock_path(cache_lock_path(data_dir))
    if lock is None:
        raise CacheError(
            "The cache is in use by another Zondarr (the window, a sync or another command); nothing was restored.",
            remedy="Close Zondarr everywhere it runs on this data folder (the tray too), then restore again.",
            detail="restore: cache-in-use lock is held",
        )
    with lock:
        current = data_dir / CACHE_FILE
        try:
            with _tmp_in(data_dir, _RESTORING) as copy:
                src = _connect_ro(source)
                try:
                    _copy_database(src, copy)
                except sqlite3.Error as exc:
                    raise ValidationError(
                        f"{label} is not a readable Zondarr cache; nothing was restored.",
                        remedy="Choose another backup (zondarr backup list).",
                        detail=f"restore copy: {type(exc).__name__}: {exc}",
                    ) from None
                finally:
                    src.close()
                version = _check_copy(copy, label)
                os.chmod(copy, 0o600)
                kept = _keep_current(data_dir, clock)
                _checkpoint_and_drop_wal(current)
                if before_swap is not None:
                    before_swap()
                os.replace(copy, current)
                _fsync_dir(data_dir)
        except OSError as exc:
            raise write_failed("The restored cache", CACHE_FILE, exc, where="the data folder") from None
    info = _info(source)
    restored = info or Backup(source.name, source.stat().st_mtime, "file", source.stat().st_size, version)
    return restored, kept
