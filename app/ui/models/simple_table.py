"""A small read-only table model for the little lists (servers, users, sync runs) that are fine to load fully.

GUI thread only. Rows are tuples of display values; ``row_keys`` keep one identifying value per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

_Index = QModelIndex | QPersistentModelIndex


class SimpleTableModel(QAbstractTableModel):
    def __init__(self, headers: Sequence[str], numeric_columns: Sequence[int] = ()) -> None:
        super().__init__()
        self._headers = list(headers)
        self._numeric = set(numeric_columns)
        self._rows: list[tuple[object, ...]] = []
        self._tooltips: list[str] = []
        self.row_keys: list[object] = []

    def set_rows(
        self, rows: Sequence[tuple[object, ...]], keys: Sequence[object] = (), tooltips: Sequence[str] = ()
    ) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.row_keys = list(keys) or list(range(len(self._rows)))
        self._tooltips = list(tooltips)
        self.endResetModel()

    def row(self, index: int) -> tuple[object, ...]:
        return self._rows[index]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            value = self._rows[index.row()][index.column()]
            if value is None:
                return ""
            if isinstance(value, int) and not isinstance(value, bool):
                return f"{value:,}"
            return str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self._numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and index.row() < len(self._tooltips):
            return self._tooltips[index.row()] or None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._headers[section]
        return None


def add_page_title(layout: Any, text: str, parent: Any) -> Any:
    """Adds the heading every page starts with to ``layout`` (styled by the theme's ``#pageTitle`` rule)."""
    from PySide6.QtWidgets import QLabel

    title = QLabel(text, parent)
    title.setObjectName("pageTitle")
    layout.addWidget(title)
    return title


HEADER_ALIGNMENT = (
    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
)  # every table's headers, one way


def add_empty_state(view: Any, text: str) -> Any:
    """A centred text over ``view``'s viewport while its model has no rows (``"No invitations yet. …"``).
    Returns the label (``objectName`` ``emptyState``; tests read it)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QLabel

    label = QLabel(text, view.viewport())
    label.setObjectName("emptyState")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    def update() -> None:
        model = view.model()
        label.setGeometry(view.viewport().rect())
        label.setVisible(model is not None and model.rowCount() == 0)

    class Resized(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Resize:
                update()
            return False

    watcher = Resized(label)
    view.viewport().installEventFilter(watcher)
    model = view.model()
    for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved):
        signal.connect(update)
    update()
    return label


def make_table_view(
    model: QAbstractTableModel, name: str, parent: Any = None, widths: Sequence[int] = ()
) -> Any:
    """A QTableView for a small list: whole-row selection, fixed row height, interactive column widths."""
    from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

    view = QTableView(parent)
    view.setObjectName(name)
    view.setAccessibleName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(26)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setDefaultAlignment(HEADER_ALIGNMENT)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setDefaultSectionSize(130)
    for column, width in enumerate(widths):  # starting widths; saved widths are restored over them
        view.horizontalHeader().resizeSection(column, width)
    return view


def refill_choices(combo: Any, all_text: str, names: Sequence[str]) -> bool:
    """Replaces the choices of the QComboBox ``combo`` with ``all_text`` (data None) and ``names`` (data: the
    name), keeping the current choice when it is still offered, without emitting change signals. Returns
    whether the current choice changed (it is not offered any more)."""
    current = combo.currentData()
    blocked = combo.blockSignals(True)
    try:
        combo.clear()
        combo.addItem(all_text, None)
        for name in names:
            combo.addItem(name, name)
        combo.setCurrentIndex(max(0, combo.findData(current)) if current is not None else 0)
    finally:
        combo.blockSignals(blocked)
    return bool(combo.currentData() != current)


def format_when(ts: float | None) -> str:
    """Local date and time, ``2024-05-01 14:03``; empty for None or ±Infinity; "after 9999" for a time no
    calendar holds (an older build could store one): a stored value never breaks a page."""
    import math
    import time as _time

    if ts is None or not math.isfinite(ts):
        return ""
    try:
        return _time.strftime("%Y-%m-%d %H:%M", _time.localtime(ts))
    except (OverflowError, OSError, ValueError):
        return "after 9999" if ts > 0 else "before 1970"
