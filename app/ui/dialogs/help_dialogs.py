"""Help menu windows: Keyboard shortcuts, the Admin guide (docs/RUNBOOK.md rendered) and About (versions of
Zondarr, Qt, PySide6, Python and SQLite). Non-modal; GUI thread only."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.ui.theme import resources_dir


def runbook_path() -> Path:
    """docs/RUNBOOK.md next to ``resources/`` (source checkout and frozen bundle alike)."""
    return resources_dir().parent / "docs" / "RUNBOOK.md"


class _Window(QDialog):
    def __init__(self, title: str, parent: QWidget | None, name: str) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.layout_ = QVBoxLayout(self)

    def add_close(self) -> None:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        self.layout_.addWidget(buttons)


class ShortcutsDialog(_Window):
    def __init__(self, shortcuts: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__("Keyboard shortcuts", parent, "shortcutsDialog")
        self.table = QTableWidget(len(shortcuts), 2, self)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (what, keys) in enumerate(shortcuts):
            self.table.setItem(row, 0, QTableWidgetItem(what))
            self.table.setItem(row, 1, QTableWidgetItem(keys))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.layout_.addWidget(self.table)
        self.add_close()
        self.resize(440, 520)


class GuideDialog(_Window):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Zondarr admin guide", parent, "guideDialog")
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        try:
            self.browser.setMarkdown(runbook_path().read_text(encoding="utf-8"))
        except OSError:
            self.browser.setPlainText("The admin guide is not installed with this copy of Zondarr.")
        self.layout_.addWidget(self.browser)
        self.add_close()
        self.resize(820, 680)


def versions(sqlite_version: str) -> dict[str, str]:
    """``sqlite_version``: the cache's SQLite library (the storage layer reads it; the UI imports no sqlite3)."""
    return {
        "Zondarr": __version__,
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "Python": platform.python_version(),
        "SQLite": sqlite_version,
    }


class AboutDialog(_Window):
    def __init__(self, sqlite_version: str, parent: QWidget | None = None) -> None:
        super().__init__("About Zondarr", parent, "aboutDialog")
        self.versions = versions(sqlite_version)
        rows = "".join(f"<tr><td>{k}</td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in self.versions.items())
        text = QLabel(
            "<h3>Zondarr</h3><p>One place for your Plex and Jellyfin servers: library, people, invitations and"
            f" health, local-first.</p><table>{rows}</table>",
            self,
        )
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout_.addWidget(text)
        self.add_close()
