"""Start at login: the entry is written where each platform looks for it, and removed again."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from app.core.errors import CacheError
from app.storage.autostart import HIDDEN_FLAG, LoginEntry, login_command


def test_linux_entry_is_written_in_xdg_autostart_and_removed(tmp_path: Path) -> None:
    config = tmp_path / "config"
    command = ["/opt/my apps/zondarr", "--data-dir", "/data/50% $HOME", HIDDEN_FLAG]
    entry = LoginEntry(command, "linux", {"XDG_CONFIG_HOME": str(config)}, home=tmp_path / "home")
    assert not entry.is_enabled()
    entry.enable()
    path = config / "autostart" / "zondarr.desktop"
    assert entry.is_enabled() and entry.path == path
    lines = dict(line.split("=", 1) for line in path.read_text().splitlines()[1:])
    assert lines["Type"] == "Application" and lines["Name"] == "Zondarr"
    assert _exec_arguments(lines["Exec"]) == command
    entry.disable()
    assert not path.exists() and not entry.is_enabled()
    entry.disable()  # removing what is not there is fine


def test_without_xdg_config_home_the_entry_goes_to_dot_config(tmp_path: Path) -> None:
    entry = LoginEntry(["zondarr", HIDDEN_FLAG], "linux", {}, home=tmp_path)
    entry.enable()
    assert (tmp_path / ".config" / "autostart" / "zondarr.desktop").exists()


def test_macos_launch_agent_runs_the_command_at_load(tmp_path: Path) -> None:
    entry = LoginEntry(
        ["/Applications/Zondarr.app/Contents/MacOS/Zondarr", HIDDEN_FLAG], "darwin", {}, tmp_path
    )
    entry.enable()
    assert entry.path is not None
    agent = plistlib.loads(entry.path.read_bytes())
    assert agent["RunAtLoad"] is True
    assert agent["ProgramArguments"][-1] == HIDDEN_FLAG
    entry.disable()
    assert not entry.is_enabled()


def test_an_unwritable_folder_is_a_plain_error(tmp_path: Path) -> None:
    blocker = tmp_path / "config"
    blocker.write_text("a file where the folder should be")
    entry = LoginEntry(["zondarr"], "linux", {"XDG_CONFIG_HOME": str(blocker)}, home=tmp_path)
    with pytest.raises(CacheError) as info:
        entry.enable()
    assert "start at login" in info.value.user_message and str(tmp_path) not in info.value.display()


def test_the_command_starts_hidden_on_the_chosen_data_dir(tmp_path: Path) -> None:
    command = login_command(tmp_path)
    assert command[-1] == HIDDEN_FLAG and command[-3:-1] == ["--data-dir", str(tmp_path)]
    assert login_command()[-1] == HIDDEN_FLAG and "--data-dir" not in login_command()


def _exec_arguments(value: str) -> list[str]:
    """The arguments of an ``Exec`` value as the Desktop Entry spec reads them: the string escapes first (``\\\\``
    is one backslash), then quoted arguments whose backslash escapes one of ``"`$\\``, then ``%%`` is ``%``."""
    text = value.replace("\\\\", "\\")
    args: list[str] = []
    current, quoted, i, started = "", False, 0, False
    while i < len(text):
        c = text[i]
        if quoted and c == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
            current, i = current + text[i + 1], i + 2
            continue
        if c == '"':
            quoted, started = not quoted, True
        elif c == " " and not quoted:
            if started or current:
                args.append(current)
            current, started = "", False
        else:
            current += c
        i += 1
    if started or current:
        args.append(current)
    return [a.replace("%%", "%") for a in args]
