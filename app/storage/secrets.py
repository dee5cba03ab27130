"""Secrets (``core.ports.SecretStore``): the OS keychain through ``keyring``, or a 0600 JSON file.

When keyring has no usable backend (``KeyringError``, e.g. ``NoKeyringError`` on a headless machine) the store
falls back to ``secrets.json`` in the data dir, created with mode 0600 (a looser mode is fixed on every read),
and sets ``fallback_in_use`` so the app can tell the admin once. Values are never logged or put in errors.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from pathlib import Path
from typing import Any

from app.core.errors import ConfigurationError, register_secret
from app.core.files import atomic_file

SERVICE = "zondarr"
FILE_NAME = "secrets.json"
_PROBE = "__zondarr_probe__"
log = logging.getLogger(__name__)


class FileSecrets:
    """A JSON object ``{ref: value}`` in a 0600 file, rewritten atomically. Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _load(self) -> dict[str, str]:
        try:
            mode = stat.S_IMODE(self.path.stat().st_mode)
        except (FileNotFoundError, NotADirectoryError):  # nothing stored yet (or no folder: saving says so)
            return {}
        if mode & 0o077 and os.name == "posix":
            log.warning("secrets file had mode %o; setting it to 600", mode)
            try:
                os.chmod(self.path, 0o600)
            except OSError as exc:  # a read-only folder: reading still works
                log.warning("could not tighten the secrets file's mode: %s", exc.strerror)
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                "The stored secrets file could not be read.",
                remedy="Move secrets.json out of the data folder and enter the servers' tokens again.",
                detail=f"{type(exc).__name__} reading the secrets file",
            ) from None
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _save(self, data: dict[str, str]) -> None:
        """Rewrites the file atomically (mode 0600). Raises FileWriteError (full disk, read-only folder); the
        previous file stays as it was and no temporary file is left."""
        with atomic_file(self.path, "The secrets file", where="the data folder") as fh:
            json.dump(data, fh)

    def get(self, ref: str) -> str | None:
        with self._lock:
            return self._load().get(ref)

    def set(self, ref: str, value: str) -> None:
        with self._lock:
            data = self._load()
            data[ref] = value
            self._save(data)

    def delete(self, ref: str) -> None:
        with self._lock:
            data = self._load()
            if data.pop(ref, None) is not None:
                self._save(data)


class KeyringSecretStore:
    """Any thread. Raises ConfigurationError when the fallback file is unreadable, FileWriteError when it cannot
    be written.

    ``keyring`` is imported and probed on first use, not at start-up: finding its backends costs ~100 ms and the
    window paints from the cache without any secret. ``fallback_in_use`` is known after the first call.
    Every value read or written is registered with ``core.errors.register_secret`` so logs redact it.
    """

    def __init__(self, data_dir: Path) -> None:
        self.file = FileSecrets(data_dir / FILE_NAME)
        self.fallback_in_use = False
        self._probed = False
        self._probe_lock = threading.Lock()

    def _keyring(self) -> Any:
        import keyring
        import keyring.errors

        with self._probe_lock:
            if not self._probed:
                self._probed = True
                try:
                    keyring.get_password(SERVICE, _PROBE)
                except keyring.errors.KeyringError as exc:
                    self._fall_back(exc)
        return keyring

    def _fall_back(self, exc: Exception) -> None:
        if not self.fallback_in_use:
            log.warning(
                "no usable keychain (%s); secrets go to a 0600 file in the data folder", type(exc).__name__
            )
        self.fallback_in_use = True

    def get(self, ref: str) -> str | None:
        keyring = self._keyring()
        if not self.fallback_in_use:
            try:
                value = keyring.get_password(SERVICE, ref)
            except keyring.errors.KeyringError as exc:
                self._fall_back(exc)
            else:
                if value is not None:
                    register_secret(value)
                    return value
        # Also consulted with a keychain: a secret saved while none was available is still found.
        value = self.file.get(ref)
        register_secret(value)
        return value

    def set(self, ref: str, value: str) -> None:
        register_secret(value)
        keyring = self._keyring()
        if not self.fallback_in_use:
            try:
                keyring.set_password(SERVICE, ref, value)
                return
            except keyring.errors.KeyringError as exc:
                self._fall_back(exc)
        self.file.set(ref, value)

    def delete(self, ref: str) -> None:
        keyring = self._keyring()
        if not self.fallback_in_use:
            try:
                keyring.delete_password(SERVICE, ref)
            except keyring.errors.PasswordDeleteError:
                pass  # nothing stored under this name
            except keyring.errors.KeyringError as exc:
                self._fall_back(exc)
        self.file.delete(ref)


def open_secret_store(data_dir: Path) -> KeyringSecretStore:
    """The secret store for ``data_dir``; check ``.fallback_in_use`` to tell the admin about the file fallback."""
    return KeyringSecretStore(data_dir)
