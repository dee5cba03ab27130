"""Look and feel: resource paths, the app icon and the theme (dark qss on a dark palette, light qss otherwise).

GUI thread only. The theme follows ``ZONDARR_THEME`` (``dark``, ``light`` or ``auto``, the default): ``auto``
applies the dark theme only when the system palette's window colour is dark, so a light desktop stays light.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication


def resources_dir() -> Path:
    """``resources/`` next to the ``app`` package (source checkout), or inside a frozen bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def app_icon() -> QIcon:
    """The Zondarr icon (an empty icon when the resources folder is missing, never an error)."""
    path = resources_dir() / "icons" / "zondarr.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def _dark_palette() -> QPalette:
    p = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#1e2127",
        QPalette.ColorRole.WindowText: "#d7dae0",
        QPalette.ColorRole.Base: "#181a1f",
        QPalette.ColorRole.AlternateBase: "#21252b",
        QPalette.ColorRole.Text: "#d7dae0",
        QPalette.ColorRole.Button: "#2c313a",
        QPalette.ColorRole.ButtonText: "#d7dae0",
        QPalette.ColorRole.Highlight: "#3d6fb6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2c313a",
        QPalette.ColorRole.ToolTipText: "#d7dae0",
        QPalette.ColorRole.PlaceholderText: "#8b919c",
        QPalette.ColorRole.Link: "#6cb4ff",
    }
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6b717d"))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6b717d"))
    return p


_system_palette: QPalette | None = None  # the desktop's own palette, kept before the first switch


def apply_theme(app: QApplication, mode: str | None = None) -> str:
    """Applies Fusion plus the dark or light style sheet; returns the theme used (``"dark"``/``"light"``).
    ``mode``: ``dark``, ``light``, or ``system``/``auto`` (dark only when the desktop's palette is dark). Can be
    called again at any time (Settings, View → Theme): the switch is live."""
    global _system_palette
    mode = (mode or os.environ.get("ZONDARR_THEME", "auto")).lower()
    if _system_palette is None:
        _system_palette = QPalette(app.palette())
    app.setStyle("Fusion")
    dark = _is_dark(_system_palette) if mode not in ("dark", "light") else mode == "dark"
    if dark:
        app.setPalette(_dark_palette())
    elif _is_dark(_system_palette):
        app.setPalette(app.style().standardPalette())  # light on a dark desktop: Fusion's light palette
    else:
        app.setPalette(_system_palette)
    name = "dark" if dark else "light"
    qss = resources_dir() / f"theme-{name}.qss" if not dark else resources_dir() / "theme.qss"
    sheet = qss.read_text(encoding="utf-8") if qss.exists() else ""
    app.setStyleSheet(sheet.replace("@ICONS@", (resources_dir() / "icons").as_posix()))
    return name
