"""Manual link: pick accounts (any server) and the person they belong to (an existing name, or a new one).

GUI thread only; the link runs as a background task (``ctx.people.identities.link``).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.models import AccountRef, User
from app.services.context import AppContext
from app.ui.exception_hook import as_zondarr_error
from app.ui.tasks import TaskGroup


class LinkDialog(QDialog):
    linked = Signal(str)  # the person's name

    def __init__(
        self, ctx: AppContext, users: Sequence[User], name: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("link-dialog")
        self.setWindowTitle("Link accounts to a person")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumSize(460, 420)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.name = QLineEdit(name, self)
        self.name.setAccessibleName("Person name")
        self.name.setPlaceholderText("An existing person or a new one")
        form.addRow("&Person:", self.name)
        self.email = QLineEdit(self)
        self.email.setAccessibleName("Person email")
        form.addRow("&Email (new person):", self.email)
        layout.addLayout(form)
        layout.addWidget(QLabel("Accounts to link:", self))
        self.accounts = QListWidget(self)
        self.accounts.setAccessibleName("Accounts to link")
        self.accounts.setObjectName("linkAccounts")
        for u in users:
            item = QListWidgetItem(f"{u.server}: {u.username}" + (f" <{u.email}>" if u.email else ""))
            item.setData(Qt.ItemDataRole.UserRole, AccountRef(u.server_id, u.remote_id))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.accounts.addItem(item)
        layout.addWidget(self.accounts, 1)
        self.error = QLabel(self)
        self.error.setObjectName("testFailed")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("&Link")
        buttons.accepted.connect(self._on_link_clicked)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def checked(self) -> list[AccountRef]:
        out = []
        for i in range(self.accounts.count()):
            item = self.accounts.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def _on_link_clicked(self) -> None:
        refs = self.checked()
        if not refs:
            self.error.setText("Tick at least one account.")
            return
        self.ok_button.setEnabled(False)
        self.tasks.start("link", self._link(refs))

    async def _link(self, refs: list[AccountRef]) -> None:
        service = self._ctx.people.identities
        try:
            identity = await service.link(self.name.text(), refs, self.email.text().strip() or None)
        except Exception as exc:
            err = as_zondarr_error(exc)
            self.error.setText(err.user_message + (f" {err.remedy}" if err.remedy else ""))
            self.ok_button.setEnabled(True)
            return
        self.linked.emit(identity.display_name)
        self.accept()

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)
