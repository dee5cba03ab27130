"""What the main window asks of every page (``app/ui/main_window.py`` builds them, saves their tables and reloads
them after a sync or when shown). GUI thread only."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from PySide6.QtWidgets import QTableView


@runtime_checkable
class Page(Protocol):
    """A page of the main window: a widget with its table and a way to re-read what it shows."""

    view: QTableView  # its table: the window saves and restores the column widths

    def reload(self) -> None:
        """Re-reads what the page shows: returns at once, the reading runs as one of the page's tasks."""
        ...
