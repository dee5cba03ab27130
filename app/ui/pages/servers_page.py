"""The Servers page: every configured server with kind, URL, status, last sync and cached track count;
Add / Edit / Test / Remove. GUI thread only; reads and network calls run in background tasks."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from app.core.models import Server
from app.services.context import AppContext
from app.services.servers import ServerUpdate
from app.ui.exception_hook import as_zondarr_error
from app.ui.models.simple_table import SimpleTableModel, add_page_title, format_when, make_table_view
from app.ui.tasks import TaskGroup

HEADERS = ["Name", "Kind", "URL", "Status", "Last sync", "Tracks"]
RUN_STATUS = {
    "succeeded": "synced",
    "partial": "partly synced",
    "failed": "sync failed",
    "cancelled": "sync cancelled",
}


class ServersPage(QWidget):
    server_added = Signal(object)  # Server
    server_removed = Signal(str)
    credentials_updated = Signal(str)  # name of an edited server (URL and/or credentials changed)
    server_updated = Signal(object)  # ServerUpdate
    message = Signal(str, str)  # text, kind ("info" | "success" | "error") for the window's toasts
    error = Signal(object)  # ZondarrError to show in a dialog

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("servers-page")
        self.status: dict[str, str] = {}  # name -> "online" / "offline" / ... from connection tests
        self.servers: list[Server] = []
        self.dialog: QWidget | None = None
        self.confirm: QMessageBox | None = None
        layout = QVBoxLayout(self)
        add_page_title(layout, "Servers", self)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("&Add server…", self)
        self.add_button.setToolTip("Add a Plex or Jellyfin server (Ctrl+N)")
        self.edit_button = QPushButton("&Edit…", self)
        self.test_button = QPushButton("&Test", self)
        self.remove_button = QPushButton("&Remove…", self)
        self.remove_button.setToolTip("Remove the selected server and its cached data (Del)")
        for b in (self.add_button, self.edit_button, self.test_button, self.remove_button):
            b.setAccessibleName(b.text().replace("&", "").rstrip("…") + " server")
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.model = SimpleTableModel(HEADERS, numeric_columns=[5])
        self.view = make_table_view(self.model, "serversTable", self, widths=(180, 90, 260, 150, 150))
        self.view.doubleClicked.connect(self._on_view_double_clicked)
        layout.addWidget(self.view, 1)
        self.empty_label = QLabel(
            "No servers yet. Click “Add server…” to add your Plex or Jellyfin server.", self
        )
        self.empty_label.setObjectName("hint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty_label)
        self.add_button.clicked.connect(self.open_add_dialog)
        self.edit_button.clicked.connect(self._on_edit_button_clicked)
        self.test_button.clicked.connect(self._on_test_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        QShortcut(QKeySequence.StandardKey.Delete, self.view, self._on_remove_button_clicked)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    # ---- loading

    def reload(self) -> None:
        """Re-reads servers, counts and last runs in the background."""
        self.tasks.start("reload", self._reload(), replace=True)

    async def _reload(self) -> None:
        ctx = self._ctx
        servers = await ctx.runner.read(ctx.server_store.list)
        counts = {
            s.id: sum((await ctx.runner.read(ctx.tracks.library_track_counts, s.id)).values())
            for s in servers
        }
        last = {s.id: await ctx.runner.read(ctx.runs.last_finished, s.id) for s in servers}
        self.servers = servers
        rows, tips = [], []
        for s in servers:
            run = last[s.id]
            if ctx.sync.is_syncing(s.id):
                status = "syncing…"
            elif s.name in self.status:
                status = self.status[s.name]
            elif run is not None:
                status = RUN_STATUS.get(run.status.value, run.status.value)
            else:
                status = "never synced"
            rows.append(
                (
                    s.name,
                    s.kind.value.capitalize(),
                    s.url,
                    status,
                    format_when(s.last_synced_at),
                    counts[s.id],
                )
            )
            tips.append(run.message if run is not None and run.message else "")
        self.model.set_rows(rows, [s.name for s in servers], tips)
        self.empty_label.setVisible(not servers)
        self._update_buttons()

    def selected(self) -> Server | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        name = self.model.row_keys[rows[0].row()]
        return next((s for s in self.servers if s.name == name), None)

    def _update_buttons(self, *_: object) -> None:
        has = self.selected() is not None
        for b in (self.edit_button, self.test_button, self.remove_button):
            b.setEnabled(has)

    # ---- add / edit

    def open_add_dialog(self) -> None:
        from app.ui.dialogs.server_dialog import ServerDialog

        dialog = ServerDialog(self._ctx, self)
        dialog.server_saved.connect(self._on_dialog_server_saved)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._on_dialog_finished)
        self.dialog = dialog
        dialog.open()

    def _on_edit_button_clicked(self) -> None:
        from app.ui.dialogs.server_dialog import ServerDialog

        server = self.selected()
        if server is None:
            return
        dialog = ServerDialog(self._ctx, self, edit=server)
        dialog.server_saved.connect(self._on_dialog_server_saved)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._on_dialog_finished)
        self.dialog = dialog
        dialog.open()

    def _on_dialog_finished(self, _result: int) -> None:
        self.dialog = None  # deleted on close

    def _on_view_double_clicked(self, *_: object) -> None:
        self._on_edit_button_clicked()

    def _on_dialog_server_saved(self, saved: object) -> None:
        if isinstance(saved, Server):
            self.message.emit(f"Added {saved.name}.", "success")
            self.server_added.emit(saved)
        elif isinstance(saved, ServerUpdate):
            name = saved.server.name
            self.status.pop(name, None)  # a test result of the old address says nothing about the new one
            self.message.emit(f"Saved {name}: it is reached at {saved.server.url}.", "success")
            if saved.warning:
                self.message.emit(f"{name}: {saved.warning}", "info")
            self.server_updated.emit(saved)
            self.credentials_updated.emit(name)
        self.reload()

    # ---- test

    def _on_test_button_clicked(self) -> None:
        server = self.selected()
        if server is not None:
            self.tasks.start(f"test:{server.name}", self._test(server.name), replace=True)

    async def _test(self, name: str) -> None:
        try:
            identity = await self._ctx.servers.test(name)
        except Exception as exc:
            err = as_zondarr_error(exc)
            self.status[name] = "offline" if type(err).__name__ == "ServerUnreachable" else "error"
            self.error.emit(err)
        else:
            self.status[name] = "online"
            self.message.emit(f"{name}: connected to {identity.name} ({identity.version}).", "success")
        await self._reload()

    # ---- remove

    def _on_remove_button_clicked(self) -> None:
        server = self.selected()
        if server is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Remove server",
            f"Remove {server.name}?\n\nIts cached tracks and users are deleted from this computer. "
            "Nothing changes on the server itself.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.button(QMessageBox.StandardButton.Yes).setText("Remove server")  # the button names its action
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setProperty("server", server.name)
        box.finished.connect(self._on_confirm_finished)
        self.confirm = box
        box.open()

    def _on_confirm_finished(self, result: int) -> None:
        box, self.confirm = self.confirm, None
        if box is None:
            return
        name = str(box.property("server"))
        box.deleteLater()
        if result == QMessageBox.StandardButton.Yes:
            self.tasks.start(f"remove:{name}", self._remove(name))

    async def _remove(self, name: str) -> None:
        try:
            await self._ctx.servers.remove(name)
        except Exception as exc:
            self.error.emit(as_zondarr_error(exc))
            return
        self.status.pop(name, None)
        self.message.emit(f"Removed {name} and its cached data.", "info")
        self.server_removed.emit(name)
        await self._reload()
