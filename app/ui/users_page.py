"""The Users page (read-only in issue 3): every cached account on every server, filter by server, search.
GUI thread only; the list is read in a background task (it is small, so it is loaded fully)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from app.services.context import AppContext
from app.ui.simple_table import SimpleTableModel, make_table_view
from app.ui.tasks import TaskGroup

HEADERS = ["Server", "Username", "Email", "Role", "State"]


class UsersPage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("users-page")
        layout = QVBoxLayout(self)
        title = QLabel("Users", self)
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        bar = QHBoxLayout()
        self.server = QComboBox(self)
        self.server.setAccessibleName("Filter users by server")
        self.server.addItem("All servers", None)
        label = QLabel("&Server:", self)
        label.setBuddy(self.server)
        bar.addWidget(label)
        bar.addWidget(self.server)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search users…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search users")
        bar.addWidget(self.search, 1)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("hint")
        bar.addWidget(self.count_label)
        layout.addLayout(bar)
        self.model = SimpleTableModel(HEADERS)
        self.view = make_table_view(self.model, "usersTable", self, widths=(160, 200, 260, 90))
        layout.addWidget(self.view, 1)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.server.currentIndexChanged.connect(self._on_server_current_index_changed)

    def reload(self) -> None:
        """Re-reads the server names and the users in the background."""
        self.tasks.start("reload", self._reload(True), replace=True)

    async def _reload(self, servers_too: bool) -> None:
        ctx = self._ctx
        if servers_too:
            names = [s.name for s in await ctx.runner.read(ctx.server_store.list)]
            current = self.server.currentData()
            self.server.blockSignals(True)
            self.server.clear()
            self.server.addItem("All servers", None)
            for n in names:
                self.server.addItem(n, n)
            index = self.server.findData(current) if current else 0
            self.server.setCurrentIndex(max(0, index))
            self.server.blockSignals(False)
        server = self.server.currentData()
        search = self.search.text().strip() or None
        users = await ctx.runner.read(ctx.users.list, server, search)
        rows = [
            (
                u.server,
                u.username,
                u.email,
                "admin" if u.is_admin else "user",
                "disabled" if u.is_disabled else "active",
            )
            for u in users
        ]
        self.model.set_rows(rows, [u.id for u in users])
        self.count_label.setText(f"{len(users):,} user{'' if len(users) == 1 else 's'}")

    def _on_search_text_changed(self, _: str) -> None:
        self._debounce.start()

    def _on_server_current_index_changed(self, _: int) -> None:
        self.tasks.start("reload", self._reload(False), replace=True)

    def _on_debounce_timeout(self) -> None:
        self.tasks.start("reload", self._reload(False), replace=True)
