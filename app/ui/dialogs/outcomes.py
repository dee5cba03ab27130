"""Confirmations and per-server results for the people pages (account actions, redemption).

GUI thread only. Dialogs are shown with ``open()`` (never ``exec()``), so the qasync loop keeps running; the
caller gets the answer through a callback. Texts are the services' plain-words messages (no secrets).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.services.people_common import Outcome


def confirm(
    parent: QWidget, title: str, text: str, on_yes: Callable[[], object], detail: str = ""
) -> QMessageBox:
    """A non-blocking question whose confirming button names the action (``title``, e.g. "Delete invitation";
    it is the box's Yes button); ``on_yes`` runs only after it. Returns the box (tests click it)."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Yes).setText(title)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setInformativeText(detail)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def finished(code: int) -> None:
        if code == QMessageBox.StandardButton.Yes:
            on_yes()

    box.finished.connect(finished)
    box.open()
    return box


def outcome_rows(outcomes: Sequence[Outcome]) -> list[tuple[str, str, str, str]]:
    """(server, user, result, message) per outcome: what the results table shows."""
    return [(o.server, o.user, "OK" if o.ok else (o.reason or "failed"), o.message) for o in outcomes]


class OutcomeTable(QTableWidget):
    """Server · User · Result · Message, one row per outcome; failed rows are marked for the theme."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.setObjectName("outcomeTable")
        self.setAccessibleName("Results per server")
        self.setHorizontalHeaderLabels(["Server", "User", "Result", "Message"])
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        for column, width in enumerate((140, 120, 150)):
            self.setColumnWidth(column, width)

    def set_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        rows = outcome_rows(outcomes)
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                if c == 2:
                    item.setForeground(Qt.GlobalColor.green if value == "OK" else Qt.GlobalColor.red)
                self.setItem(r, c, item)
        self.resizeRowsToContents()

    def texts(self) -> list[tuple[str, ...]]:
        return [
            tuple(item.text() if (item := self.item(r, c)) else "" for c in range(self.columnCount()))
            for r in range(self.rowCount())
        ]


class OutcomesDialog(QDialog):
    """Shows the results of one action (non-modal; deletes itself on close)."""

    def __init__(self, title: str, summary: str, outcomes: Sequence[Outcome], parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumSize(860, 300)
        layout = QVBoxLayout(self)
        self.summary = QLabel(summary, self)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = OutcomeTable(self)
        self.table.set_outcomes(outcomes)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)


def summarize(outcomes: Sequence[Outcome], verb: str) -> str:
    ok = sum(o.ok for o in outcomes)
    if ok == len(outcomes):
        return f"{verb}: all {ok} succeeded."
    return f"{verb}: {ok} of {len(outcomes)} succeeded; see the reasons below."
