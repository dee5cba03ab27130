"""The headless demo's closing hint names the command as the admin can type it (README set-up: .venv/bin/zondarr,
not on PATH)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.cli.demo import command_name


def test_a_venv_script_not_on_path_is_named_by_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / ".venv" / "bin" / "zondarr"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert command_name(str(script), cwd=tmp_path) == ".venv/bin/zondarr"
    assert command_name(str(script), cwd=tmp_path / "elsewhere") == str(script.resolve())


def test_on_path_it_is_just_zondarr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "bin" / "zondarr"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(script.parent))
    assert command_name(str(script), cwd=tmp_path) == "zondarr"


def test_python_dash_m_app_is_named_as_such(tmp_path: Path) -> None:
    assert command_name(str(tmp_path / "__main__.py"), cwd=tmp_path).endswith(" -m app")
    assert sys.executable in command_name(str(tmp_path / "__main__.py"), cwd=tmp_path)
