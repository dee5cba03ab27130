"""What the main window keeps between runs in QSettings: its geometry, the page it showed, and the column state
(widths, order, sort indicator) of each table by key (``library``, ``servers`` …).

GUI thread only. Never raises: a missing or foreign value is ignored and the default stays.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QTableView, QWidget


class WindowSettings:
    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def restore_geometry(self, window: QWidget) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            window.restoreGeometry(geometry)

    def page(self, pages: int) -> int:
        """The row of the page shown last (0 when unknown or not below ``pages``)."""
        page = str(self.settings.value("window/page", 0))
        return int(page) if page.isdigit() and int(page) < pages else 0

    def restore_columns(self, key: str, view: QTableView) -> None:
        state = self.settings.value(f"columns/{key}")
        if isinstance(state, QByteArray) and not state.isEmpty():
            view.horizontalHeader().restoreState(state)

    def save(self, window: QWidget, page: int, tables: Mapping[str, QTableView]) -> None:
        """Writes the geometry, ``page`` and the column state of ``tables`` (the others keep theirs) to disk."""
        self.settings.setValue("window/geometry", window.saveGeometry())
        self.settings.setValue("window/page", page)
        for key, view in tables.items():
            self.settings.setValue(f"columns/{key}", view.horizontalHeader().saveState())
        self.settings.sync()
