"""File → Backups…: the copies of the cache (newest first: when, why, size), "Back up now", and how to restore
one. Restoring replaces the open cache file, so it is done with Zondarr closed: the dialog gives the exact
command (``zondarr backup restore NAME``), which keeps a copy of the current file first.

Non-modal; GUI thread only; the list and the copy run on the read pool as tasks of the dialog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ZondarrError
from app.ui.models.simple_table import format_when
from app.ui.tasks import TaskGroup

if TYPE_CHECKING:
    from app.core.models import Backup
    from app.services.backups import BackupService

RESTORE_HINT = (
    "To restore one, quit Zondarr (File → Quit) and run: zondarr backup restore NAME. "
    "The current cache is copied first, so a restore can be undone the same way."
)


class BackupsDialog(QDialog):
    def __init__(self, backups: BackupService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("backupsDialog")
        self.setWindowTitle("Backups")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._backups = backups
        self.tasks = TaskGroup("backups-dialog")
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(["Name", "Made", "Why", "Size"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.empty_label = QLabel(
            "No backups yet. Zondarr makes one a day; Back up now makes one at once.", self
        )
        self.empty_label.setObjectName("hint")
        self.status = QLabel(RESTORE_HINT, self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.backup_button = QPushButton("&Back up now", self)
        buttons.addButton(self.backup_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.backup_button.clicked.connect(self._on_backup_button_clicked)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(700, 420)
        self.tasks.start("list", self.reload())

    async def reload(self) -> None:
        try:
            rows = await self._backups.list()
        except ZondarrError as err:
            self.status.setText(err.display())
            return
        self._fill(rows)

    def _fill(self, rows: list[Backup]) -> None:
        self.table.setRowCount(len(rows))
        for r, b in enumerate(rows):
            cells = [b.name, format_when(b.created_at), b.reason, f"{b.size / 1e6:,.1f} MB"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.empty_label.setVisible(not rows)

    def _on_backup_button_clicked(self) -> None:
        self.backup_button.setEnabled(False)
        self.tasks.start("create", self._create(), replace=True)

    async def _create(self) -> None:
        try:
            made = await self._backups.create("manual")
        except ZondarrError as err:
            self.status.setText(err.display())
        else:
            self.status.setText(f"Backed up to {made.name}. {RESTORE_HINT}")
            await self.reload()
        finally:
            self.backup_button.setEnabled(True)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.tasks.cancel_all()  # the dialog is deleted on close: nothing may touch it afterwards
        super().closeEvent(event)
