"""The test session keeps out of the user's profile: Qt's settings and config paths are in the session's
temporary folder, and the watched files of the real home folder are as they were."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

from app.core.errors import KNOWN_SECRETS, redact, register_secret
from tests.conftest import HOME_BEFORE, REAL_HOME, SESSION_HOME, WATCHED, _state


def test_qt_settings_and_config_paths_are_temporary() -> None:
    settings = QSettings("Zondarr", "Zondarr")
    path = Path(settings.fileName()).resolve()
    assert path.is_relative_to(SESSION_HOME.resolve()), path
    assert not path.is_relative_to((REAL_HOME / ".config").resolve())
    config = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation))
    assert config.resolve().is_relative_to(SESSION_HOME.resolve()), config
    assert os.environ["XDG_CONFIG_HOME"].startswith(str(SESSION_HOME))
    settings.setValue("probe", 1)
    settings.sync()
    assert path.exists()  # written, and in the temporary folder


def test_the_home_folder_is_unchanged_so_far() -> None:
    assert {p: _state(p) for p in WATCHED} == HOME_BEFORE


def test_a_registered_secret_is_forgotten_after_the_test_that_registered_it() -> None:
    register_secret("session-probe-secret")
    assert "session-probe-secret" in KNOWN_SECRETS.values()
    assert redact("x session-probe-secret y") == "x *** y"


def test_the_previous_tests_secret_is_gone() -> None:
    assert "session-probe-secret" not in KNOWN_SECRETS.values()
