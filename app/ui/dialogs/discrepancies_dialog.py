"""The Discrepancies review of one server: orphaned accounts (on the server, not managed by Zondarr) and stale
ones (managed by Zondarr, gone from the server), as of the last user sync. Orphaned accounts can be excluded
from the users cache; nothing else is changed here.

GUI thread only; reads run on the read pool through ``ctx.runner``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ZondarrError
from app.services.context import AppContext
from app.ui.tasks import TaskGroup


class DiscrepanciesDialog(QDialog):
    excluded = Signal()

    def __init__(self, ctx: AppContext, servers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("discrepancies")
        self.setWindowTitle("Discrepancies")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumSize(560, 400)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.server = QComboBox(self)
        self.server.setAccessibleName("Server to review")
        for name in servers:
            self.server.addItem(name, name)
        label = QLabel("&Server:", self)
        label.setBuddy(self.server)
        top.addWidget(label)
        top.addWidget(self.server, 1)
        layout.addLayout(top)
        lists = QHBoxLayout()
        left, right = QVBoxLayout(), QVBoxLayout()
        self.orphaned_label = QLabel("Orphaned", self)
        self.orphaned = QListWidget(self)
        self.orphaned.setAccessibleName("Orphaned accounts")
        self.orphaned.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        left.addWidget(self.orphaned_label)
        left.addWidget(self.orphaned, 1)
        self.stale_label = QLabel("Stale", self)
        self.stale = QListWidget(self)
        self.stale.setAccessibleName("Stale accounts")
        right.addWidget(self.stale_label)
        right.addWidget(self.stale, 1)
        lists.addLayout(left)
        lists.addLayout(right)
        layout.addLayout(lists, 1)
        self.status = QLabel(
            "Orphaned: on the server, not managed by Zondarr. Stale: managed by Zondarr, gone from the server. "
            "As of the last user sync; nothing is changed on the servers here.",
            self,
        )
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.exclude_button = QPushButton("&Exclude selected", self)
        self.exclude_button.setToolTip("Never import the selected orphaned accounts again.")
        buttons.addButton(self.exclude_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.exclude_button.clicked.connect(self._on_exclude_clicked)
        self.server.currentIndexChanged.connect(self.reload)
        self.reload()

    def reload(self, *_: object) -> None:
        self.tasks.start("load", self._load(), replace=True)

    async def _load(self) -> None:
        admin, name = self._ctx.people.users, self.server.currentData()
        if not name:
            return
        try:
            orphaned, stale = await self._ctx.runner.read(admin.discrepancies, name)
        except ZondarrError as err:
            self.status.setText(err.user_message)
            return
        self.orphaned.clear()
        for u in orphaned:
            self.orphaned.addItem(f"{u.username} ({u.email or 'no email'})")
            self.orphaned.item(self.orphaned.count() - 1).setData(Qt.ItemDataRole.UserRole, u.username)
        self.stale.clear()
        self.stale.addItems([ref.remote_id for ref in stale])
        self.orphaned_label.setText(f"Orphaned: {len(orphaned)}")
        self.stale_label.setText(f"Stale: {len(stale)}")

    def _on_exclude_clicked(self) -> None:
        names = [i.data(Qt.ItemDataRole.UserRole) for i in self.orphaned.selectedItems()]
        if names:
            self.tasks.start("exclude", self._exclude(names))

    async def _exclude(self, names: list[str]) -> None:
        admin, server = self._ctx.people.users, self.server.currentData()
        try:
            for n in names:
                await admin.exclude(server, n)
        except ZondarrError as err:
            self.status.setText(err.user_message)
        self.excluded.emit()
        await self._load()

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)
