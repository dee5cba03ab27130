"""The Errors page: every error event the admin was shown (newest first), search by correlation ID (the
"Reference" in error dialogs) or text, and the operator detail of the selected event (redacted at recording).

GUI thread only; reads run on the read pool (``ctx.errors``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.health import ErrorEvent
from app.services.context import AppContext
from app.ui.models.simple_table import SimpleTableModel, add_page_title, format_when, make_table_view
from app.ui.tasks import TaskGroup
from app.ui.widgets.filter_bar import counted

HEADERS = ["Time", "Reference", "Type", "Server", "Message"]


def detail_text(e: ErrorEvent) -> str:
    return "\n".join(
        [
            f"Reference: {e.correlation_id}",
            f"When: {format_when(e.created_at)}",
            f"Type: {e.error_type}",
            f"Server: {e.server or '-'}",
            "",
            e.user_message,
            "",
            "Operator detail:",
            e.detail or "(none)",
        ]
    )


class ErrorsPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("errors-page")
        self._events: list[ErrorEvent] = []
        layout = QVBoxLayout(self)
        add_page_title(layout, "Errors", self)
        bar = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search by reference (correlation ID) or text…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search errors")
        self.copy_button = QPushButton("&Copy detail", self)
        self.copy_button.setAccessibleName("Copy the selected error's detail")
        self.count_label = QLabel(self)
        self.count_label.setObjectName("hint")
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.copy_button)
        layout.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical, self)
        self.model = SimpleTableModel(HEADERS)
        self.view = make_table_view(self.model, "errorsTable", split, widths=(130, 110, 150, 130))
        self.detail = QPlainTextEdit(split)
        self.detail.setObjectName("errorDetail")
        self.detail.setReadOnly(True)
        self.detail.setAccessibleName("Operator detail of the selected error")
        self.detail.setPlaceholderText("Select an error to see its operator detail.")
        split.setSizes([360, 180])
        layout.addWidget(split, 1)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.view.selectionModel().selectionChanged.connect(self._on_selected)
        self.copy_button.clicked.connect(self._on_copy_clicked)

    def reload(self) -> None:
        self.tasks.start("reload", self._reload(), replace=True)

    async def _reload(self) -> None:
        errors = self._ctx.errors
        search = self.search.text().strip() or None
        self._events = await self._ctx.runner.read(errors.list, 500, search)
        self.model.set_rows(
            [(format_when(e.created_at), e.correlation_id, e.error_type, e.server, e.user_message)
             for e in self._events],
            [e.id for e in self._events],
            [e.user_message for e in self._events],
        )  # fmt: skip
        self.count_label.setText(counted(len(self._events), "error"))
        self.detail.clear()
        if len(self._events) == 1 or (search and self._events):
            self.view.selectRow(0)

    def _on_selected(self, *_: object) -> None:
        rows = self.view.selectionModel().selectedRows()
        if rows and rows[0].row() < len(self._events):
            self.detail.setPlainText(detail_text(self._events[rows[0].row()]))

    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.detail.toPlainText())
