"""Start at login: the per-user entry that starts Zondarr hidden in the tray when the admin logs in.

Linux (and other XDG desktops): ``$XDG_CONFIG_HOME/autostart/zondarr.desktop`` (default ``~/.config``); Windows:
the value ``Zondarr`` under ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``; macOS: the LaunchAgent
``~/Library/LaunchAgents/org.zondarr.Zondarr.plist``. Nothing needs administrator rights, and turning the setting
off removes exactly the entry this module wrote.

Any thread (plain file or registry writes, a few ms). Every method raises CacheError (what happened, what to do)
when the entry cannot be written or removed.
"""

from __future__ import annotations

import os
import plistlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from app.core.errors import CacheError, FileWriteError
from app.core.files import atomic_file

ENTRY_NAME = "Zondarr"
HIDDEN_FLAG = "--hidden"  # the window starts hidden in the tray
_DESKTOP_FILE = "zondarr.desktop"
_AGENT_LABEL = "org.zondarr.Zondarr"
_RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


def login_command(data_dir: Path | None = None) -> list[str]:
    """The command the entry runs: the installed app (frozen bundle) or this Python with ``-m app``, hidden in
    the tray, with ``--data-dir`` when the app runs on another folder than the default."""
    base = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "app"]
    extra = ["--data-dir", str(data_dir)] if data_dir is not None else []
    return [*base, *extra, HIDDEN_FLAG]


def _desktop_quote(arg: str) -> str:
    """One argument of a desktop entry's ``Exec`` key (freedesktop Desktop Entry spec, "The Exec key")."""
    escaped = arg.replace("%", "%%")
    if not any(c in escaped for c in " \t\n\"'\\><~|&;$*?#()`"):
        return escaped
    for c in ("\\", '"', "`", "$"):
        escaped = escaped.replace(c, "\\" + c)
    # The desktop file's own string escaping doubles every backslash once more.
    return '"' + escaped.replace("\\", "\\\\") + '"'


class LoginEntry:
    """The start-at-login entry of this platform that runs ``command`` (default: ``login_command()``;
    ``platform``/``environ``/``home`` exist for the tests)."""

    def __init__(
        self,
        command: Sequence[str] | None = None,
        platform: str | None = None,
        environ: Mapping[str, str] | None = None,
        home: Path | None = None,
    ) -> None:
        self._platform = platform or sys.platform
        self._environ = os.environ if environ is None else environ
        self._home = home if home is not None else Path.home()
        self.command = list(command) if command is not None else login_command()

    @property
    def path(self) -> Path | None:
        """The file that holds the entry (None on Windows, where it is a registry value)."""
        if self._platform == "win32":
            return None
        if self._platform == "darwin":
            return self._home / "Library" / "LaunchAgents" / f"{_AGENT_LABEL}.plist"
        config = self._environ.get("XDG_CONFIG_HOME") or str(self._home / ".config")
        return Path(config) / "autostart" / _DESKTOP_FILE

    def is_enabled(self) -> bool:
        if self._platform == "win32":
            return self._windows_value() is not None
        path = self.path
        return path is not None and path.exists()

    def enable(self) -> None:
        """Writes (or rewrites) the entry so that login runs ``command``."""
        command = self.command
        try:
            if self._platform == "win32":
                self._windows_set(" ".join(_windows_quote(a) for a in command))
                return
            path = self.path
            assert path is not None
            if self._platform == "darwin":
                data = plistlib.dumps(
                    {"Label": _AGENT_LABEL, "ProgramArguments": list(command), "RunAtLoad": True}
                )
            else:
                data = _desktop_entry(command).encode("utf-8")
            # Whole or not at all: a session starting meanwhile never reads a half-written entry.
            with atomic_file(path, "The start-at-login entry", binary=True, mode=0o644) as fh:
                fh.write(data)
        except FileWriteError as err:
            raise CacheError(
                "Zondarr could not set itself to start at login.",
                remedy=err.remedy,
                detail=err.detail,
            ) from err
        except OSError as exc:
            raise CacheError(
                f"Zondarr could not set itself to start at login ({type(exc).__name__}).",
                remedy="Check that your user's settings folder is writable, then turn the setting on again.",
                detail=f"{exc!r}",
            ) from exc

    def disable(self) -> None:
        """Removes the entry (nothing to do when there is none)."""
        try:
            if self._platform == "win32":
                self._windows_set(None)
                return
            path = self.path
            if path is not None:
                path.unlink(missing_ok=True)
        except OSError as exc:
            raise CacheError(
                f"Zondarr could not remove its start-at-login entry ({type(exc).__name__}).",
                remedy="Remove Zondarr from your desktop's startup applications by hand.",
                detail=f"{exc!r}",
            ) from exc

    def _windows_value(self) -> str | None:
        if sys.platform != "win32":
            return None
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, _RUN_KEY) as key:
                value, _kind = winreg.QueryValueEx(key, ENTRY_NAME)
                return str(value)
        except OSError:
            return None

    def _windows_set(self, value: str | None) -> None:
        if sys.platform != "win32":
            raise OSError("the Run key exists on Windows only")
        import winreg

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, _RUN_KEY) as key:
            if value is None:
                try:
                    winreg.DeleteValue(key, ENTRY_NAME)
                except FileNotFoundError:
                    pass
            else:
                winreg.SetValueEx(key, ENTRY_NAME, 0, winreg.REG_SZ, value)


def _windows_quote(arg: str) -> str:
    return f'"{arg}"' if (" " in arg or not arg) else arg


def _desktop_entry(command: Sequence[str]) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={ENTRY_NAME}\n"
        "Comment=Keeps watching your Plex and Jellyfin servers from the tray\n"
        f"Exec={' '.join(_desktop_quote(a) for a in command)}\n"
        "Icon=zondarr\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )
