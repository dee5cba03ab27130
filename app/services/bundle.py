"""The redacted diagnostics bundle (``zondarr diagnose --bundle FILE.zip``, File → Save diagnostics bundle).

A zip of JSON files and a log tail: versions, settings (minus anything secret), servers (no secrets), the last
sync runs, the last error events, the schema version, the latest diagnostics run and the log tail. Every text is
passed through ``redact`` with every stored server secret, and the finished archive is checked byte for byte:
if a secret were still in it the file is deleted and CacheError raised (nothing leaks, even through a bug).

Coroutine for the event loop thread; secrets are read on the net pool (the keychain may block).
"""

from __future__ import annotations

import importlib.metadata
import io
import os
import platform
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from app import __version__
from app.core import jsontext
from app.core.errors import CacheError, redact
from app.core.files import atomic_file
from app.core.ports import (
    Clock,
    DiagnosticStore,
    ErrorEventStore,
    Runner,
    SecretStore,
    ServerStore,
    SyncRunStore,
)
from app.core.settings import Settings
from app.services.notifications import WEBHOOK_URL_REF

LOG_TAIL_BYTES = 256 * 1024
_SECRET_SETTING = ("token", "key", "password", "secret")
_DISTRIBUTIONS = {
    "plexapi": "PlexAPI",
    "jellyfin_client": "jellyfin-apiclient-python",
    "qt": "PySide6-Essentials",
    "qasync": "qasync",
    "requests": "requests",
    "keyring": "keyring",
}


def versions(sqlite_version: str) -> dict[str, str]:
    """App, Python, OS and library versions (from package metadata: nothing heavy is imported)."""
    out = {
        "app": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite_version,
    }
    for key, dist in _DISTRIBUTIONS.items():
        try:
            out[key] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[key] = "not installed"
    return out


def latest_crash_report(log_dir: Path) -> Path | None:
    """The newest crash report (``crash-<UTC time>.log``, written by ``app/crashlog.py``), or None."""
    reports = sorted(log_dir.glob("crash-*.log"))
    return reports[-1] if reports else None


def log_tail(log_dir: Path, limit: int = LOG_TAIL_BYTES, name: str = "zondarr.log") -> str:
    """The last ``limit`` bytes of a log file (from a line start), or "" when there is none."""
    path = log_dir / name
    if not path.exists():
        return ""
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - limit))
        data = fh.read()
    text = data.decode("utf-8", errors="replace")
    return text if size <= limit else text.partition("\n")[2]


@dataclass(frozen=True, slots=True)
class BundleInfo:
    path: Path
    files: tuple[str, ...]
    size: int


class BundleWriter:
    def __init__(
        self,
        *,
        settings: Settings,
        servers: ServerStore,
        sync_runs: SyncRunStore,
        errors: ErrorEventStore,
        diagnostics: DiagnosticStore,
        secrets: SecretStore,
        runner: Runner,
        schema_version: Callable[[], int],
        sqlite_version: str,
        log_dir: Path,
        clock: Clock = time.time,
    ) -> None:
        self._settings = settings
        self._servers = servers
        self._runs = sync_runs
        self._errors = errors
        self._diagnostics = diagnostics
        self._secrets = secrets
        self._runner = runner
        self._schema_version = schema_version
        self._sqlite_version = sqlite_version
        self._log_dir = log_dir
        self._clock = clock

    @property
    def sqlite_version(self) -> str:
        return self._sqlite_version

    async def export(self, path: Path) -> BundleInfo:
        """Writes the bundle to ``path`` (atomically, mode 0600). Raises FileWriteError when it cannot be written
        (nothing half-written is left), CacheError when it would have held a secret."""
        servers = await self._runner.read(self._servers.list)
        refs = [s.secret_ref for s in servers] + [WEBHOOK_URL_REF]
        secrets = [v for v in [await self._runner.net(self._secrets.get, ref) for ref in refs] if v]
        latest = await self._runner.read(self._diagnostics.runs, 1)
        files: dict[str, object] = {
            "versions.json": versions(self._sqlite_version),
            "settings.json": {
                k: v
                for k, v in self._settings.to_raw().items()
                if not any(w in k.lower() for w in _SECRET_SETTING)
            },
            "schema.json": {"schema_version": self._schema_version(), "created_at": self._clock()},
            "servers.json": [
                {
                    "name": s.name,
                    "kind": s.kind.value,
                    "url": s.url,
                    "auth_method": s.auth_method.value,
                    "status": s.status,
                    "enabled": s.enabled,
                    "version": s.version,
                    "last_synced_at": s.last_synced_at,
                    "last_verified_at": s.last_verified_at,
                }
                for s in servers
            ],
            "sync_runs.json": [
                {
                    "id": r.id,
                    "server_id": r.server_id,
                    "removed_server": r.removed_server,
                    "trigger": r.trigger,
                    "status": r.status.value,
                    "stage": r.stage.value,
                    "started_at": r.started_at,
                    "duration_s": r.duration_s,
                    "total": r.total,
                    "added": r.added,
                    "updated": r.updated,
                    "removed": r.removed,
                    "failed_items": r.failed_items,
                    "message": r.message,
                    "error": r.error,
                    "correlation_id": r.correlation_id,
                }
                for r in (await self._runner.read(self._runs.list, 50))
            ],
            "error_events.json": [
                e.to_json() for e in await self._runner.read(partial(self._errors.list, limit=100))
            ],
            "diagnostics.json": None
            if not latest
            else await self._runner.read(self._diagnostics_json, latest[0].id),
        }
        texts = {name: jsontext.dumps(value, indent=2) for name, value in files.items()}
        texts["zondarr.log.tail.txt"] = log_tail(self._log_dir)
        crash = latest_crash_report(self._log_dir)
        if crash is not None:  # the stacks of the last hard crash (app/crashlog.py)
            texts["crash.txt"] = log_tail(self._log_dir, name=crash.name)
        return await self._runner.net(_write_zip, path, texts, tuple(secrets))

    def _diagnostics_json(self, run_id: int) -> object:
        run = self._diagnostics.get(run_id)
        return None if run is None else run.to_json()


def _write_zip(path: Path, texts: dict[str, str], secrets: tuple[str, ...]) -> BundleInfo:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in texts.items():
            zf.writestr(name, redact(text, *secrets))
    _verify_clean(buffer.getvalue(), secrets)
    path = path.expanduser()
    with atomic_file(path, "The diagnostics bundle", binary=True) as fh:
        fh.write(buffer.getvalue())
    return BundleInfo(path, tuple(texts), len(buffer.getvalue()))


def _verify_clean(data: bytes, secrets: tuple[str, ...]) -> None:
    """Reads the archive back and refuses it when any secret is still inside (a last line of defence)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            content = zf.read(name)
            for secret in secrets:
                if len(secret) >= 4 and secret.encode() in content:
                    raise CacheError(
                        "The diagnostics bundle was not written: it would have contained a secret.",
                        remedy="Report this with the reference; nothing was written.",
                        detail=f"secret found in {name}",
                    )
