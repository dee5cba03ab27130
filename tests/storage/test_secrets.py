"""The secret store: keyring when it works, a 0600 file when it does not."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail

from app.storage import open_secret_store


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.data.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@pytest.fixture
def restore_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


def test_keyring_backend_is_used(tmp_path: Path, restore_keyring: None) -> None:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    store = open_secret_store(tmp_path)
    assert store.fallback_in_use is False
    store.set("server:Home", "tok-123")
    assert backend.data == {("zondarr", "server:Home"): "tok-123"}
    assert store.get("server:Home") == "tok-123"
    store.delete("server:Home")
    store.delete("server:Home")  # deleting twice is fine
    assert store.get("server:Home") is None
    assert not (tmp_path / "secrets.json").exists()


def test_no_keyring_falls_back_to_a_private_file(tmp_path: Path, restore_keyring: None) -> None:
    keyring.set_keyring(fail.Keyring())
    store = open_secret_store(tmp_path / "data")
    assert store.fallback_in_use is False  # keyring is probed on first use, not at start-up
    store.set("server:Home", "tok-123")
    assert store.fallback_in_use is True
    store.set("server:Away", "tok-456")
    path = tmp_path / "data" / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert open_secret_store(tmp_path / "data").get("server:Home") == "tok-123"
    store.delete("server:Home")
    assert store.get("server:Home") is None and store.get("server:Away") == "tok-456"


def test_fallback_file_mode_is_fixed(
    tmp_path: Path, restore_keyring: None, caplog: pytest.LogCaptureFixture
) -> None:
    keyring.set_keyring(fail.Keyring())
    store = open_secret_store(tmp_path)
    store.set("server:Home", "tok-secret-value")
    path = tmp_path / "secrets.json"
    os.chmod(path, 0o644)
    assert store.get("server:Home") == "tok-secret-value"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "tok-secret-value" not in caplog.text
