"""The Identities page: people with their accounts across servers; auto-suggested links to accept; manual
link / unlink; the person × server × library access grid, editable (tick a library on a server: the server
changes at once, per-server results); the person's timeline (what Zondarr did to their accounts); identity-wide
enable / disable / delete (after a confirmation naming the servers, with per-server results).

GUI thread only; reads run on the read pool, changes as background tasks (``ctx.people.identities``).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.models import AccountEvent, AccountRef
from app.services.context import AppContext
from app.services.identities import AccessRow, IdentityView, LinkSuggestion
from app.ui.dialogs.link_dialog import LinkDialog
from app.ui.dialogs.outcomes import OutcomesDialog, confirm, summarize
from app.ui.exception_hook import as_zondarr_error
from app.ui.models.simple_table import (
    HEADER_ALIGNMENT,
    SimpleTableModel,
    add_empty_state,
    add_page_title,
    make_table_view,
)
from app.ui.tasks import TaskGroup
from app.ui.widgets.filter_bar import counted


def grid_cells(rows: list[AccessRow]) -> tuple[list[str], list[list[str]]]:
    """Columns (Server, Account, then every library title in first-seen order) and one row per account:
    "✓" access, "✗" no access, "" the server has no such library. Pure."""
    titles: list[str] = []
    for r in rows:
        for title, _ in r.libraries:
            if title not in titles:
                titles.append(title)
    table = []
    for r in rows:
        access = dict(r.libraries)
        account = r.username + (" (disabled)" if r.is_disabled else "")
        table.append([r.server, account] + [
            "" if t not in access else ("✓" if access[t] else "✗") for t in titles
        ])  # fmt: skip
    return ["Server", "Account", *titles], table


def timeline_rows(events: list[AccountEvent]) -> list[tuple[str, str, str, str, str]]:
    """(when, server: account, what, by, result) per event, newest first as given. Pure."""
    return [
        (
            datetime.fromtimestamp(e.at).strftime("%Y-%m-%d %H:%M"),
            f"{e.server}: {e.username}",
            e.action,
            e.trigger,
            ("OK" if e.ok else "FAILED") + (f" — {e.message}" if e.message else ""),
        )
        for e in events
    ]


class IdentitiesPage(QWidget):
    message = Signal(str, str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("identities-page")
        self._views: list[IdentityView] = []
        self._suggestions: list[LinkSuggestion] = []
        self._grid_rows: list[AccessRow] = []
        self.link_dialog: LinkDialog | None = None
        self.confirm_box: QWidget | None = None
        self.results: OutcomesDialog | None = None
        layout = QVBoxLayout(self)
        add_page_title(layout, "Identities", self)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        left = QWidget(split)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(QLabel("People", left))
        self.model = SimpleTableModel(["Person", "Email", "Accounts"], numeric_columns=(2,))
        self.view = make_table_view(self.model, "identitiesTable", left, widths=(130, 170, 80))
        self.empty_state = add_empty_state(
            self.view, "No people yet.\nAccept a suggestion below, or Link accounts… of one person."
        )
        lv.addWidget(self.view, 2)
        lv.addWidget(QLabel("Suggested links (same email or username on several servers)", left))
        self.suggestions = QListWidget(left)
        self.suggestions.setObjectName("suggestions")
        self.suggestions.setAccessibleName("Suggested links")
        self.suggestions.setWordWrap(True)  # long suggestions wrap instead of being cut
        lv.addWidget(self.suggestions, 1)
        srow = QHBoxLayout()
        self.accept_button = QPushButton("&Accept suggestion", left)
        self.accept_button.setAccessibleName("Accept the suggested link")
        self.link_button = QPushButton("&Link accounts…", left)
        self.link_button.setAccessibleName("Link accounts manually")
        srow.addWidget(self.accept_button)
        srow.addWidget(self.link_button)
        srow.addStretch(1)
        lv.addLayout(srow)
        right = QWidget(split)
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        self.person_label = QLabel("Select a person.", right)
        self.person_label.setObjectName("hint")
        rv.addWidget(self.person_label)
        self.grid = QTableWidget(0, 2, right)
        self.grid.setHorizontalHeaderLabels(["Server", "Account"])
        self.grid.horizontalHeader().setDefaultAlignment(HEADER_ALIGNMENT)
        self.grid.setObjectName("accessGrid")
        self.grid.setAccessibleName("Access per server and library")
        self.grid.verticalHeader().setVisible(False)
        self.grid.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.grid.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.grid.itemChanged.connect(self._on_grid_item_changed)
        rv.addWidget(self.grid, 1)
        rv.addWidget(QLabel("Timeline", right))
        self.timeline = SimpleTableModel(["When", "Account", "What", "By", "Result"])
        self.timeline_view = make_table_view(
            self.timeline, "timelineTable", right, widths=(135, 150, 110, 70)
        )
        self.timeline_view.setAccessibleName("What Zondarr did to this person's accounts")
        rv.addWidget(self.timeline_view, 1)
        arow = QHBoxLayout()
        self.unlink_button = QPushButton("&Unlink account", right)
        self.enable_button = QPushButton("&Enable all…", right)
        self.disable_button = QPushButton("&Disable all…", right)
        self.delete_button = QPushButton("De&lete…", right)
        self.delete_button.setObjectName("danger")
        for b, name in (
            (self.unlink_button, "Unlink the selected account"),
            (self.enable_button, "Enable every account of the person"),
            (self.disable_button, "Disable every account of the person"),
            (self.delete_button, "Delete the person and their accounts"),
        ):
            b.setAccessibleName(name)
            arow.addWidget(b)
        arow.addStretch(1)
        rv.addLayout(arow)
        split.setSizes([420, 640])
        layout.addWidget(split, 1)
        self.view.selectionModel().selectionChanged.connect(self._on_person_changed)
        self.suggestions.currentRowChanged.connect(self._update_buttons)
        self.grid.itemSelectionChanged.connect(self._update_buttons)
        self.accept_button.clicked.connect(self._on_accept_clicked)
        self.link_button.clicked.connect(self.open_link_dialog)
        self.unlink_button.clicked.connect(self._on_unlink_clicked)
        for action, b in (("enable", self.enable_button), ("disable", self.disable_button)):
            b.clicked.connect(lambda _=False, a=action: self._on_action_clicked(a))
        self.delete_button.clicked.connect(lambda: self._on_action_clicked("delete"))
        self._update_buttons()

    def reload(self) -> None:
        self.tasks.start("reload", self._reload(), replace=True)

    async def _reload(self) -> None:
        service = self._ctx.people.identities
        current = self.current()
        self._views = await self._ctx.runner.read(service.views)
        self._suggestions = await self._ctx.runner.read(service.suggestions)
        self.model.set_rows(
            [(v.identity.display_name, v.identity.email, len(v.accounts)) for v in self._views],
            [v.identity.id for v in self._views],
        )
        self.suggestions.clear()
        for s in self._suggestions:
            accounts = ", ".join(f"{u.server}: {u.username}" for u in s.accounts)
            item = QListWidgetItem(f"{s.key} (same {s.by}) — {accounts}")
            item.setToolTip(item.text())
            self.suggestions.addItem(item)
        if current is not None:
            self.select_person(current.identity.display_name)
        await self._show_grid()
        self._update_buttons()

    def current(self) -> IdentityView | None:
        rows = self.view.selectionModel().selectedRows()
        return self._views[rows[0].row()] if rows and rows[0].row() < len(self._views) else None

    def select_person(self, name: str) -> None:
        for r, v in enumerate(self._views):
            if v.identity.display_name == name:
                self.view.selectRow(r)

    def _on_person_changed(self, *_: object) -> None:
        self.tasks.start("grid", self._show_grid(), replace=True)
        self._update_buttons()

    async def _show_grid(self) -> None:
        view, service = self.current(), self._ctx.people.identities
        if view is None:
            self.person_label.setText("Select a person to see their accounts and library access.")
            self.grid.setRowCount(0)
            self.grid.setColumnCount(2)
            self.grid.setHorizontalHeaderLabels(["Server", "Account"])
            return
        rows = await self._ctx.runner.read(service.grid, str(view.identity.id))
        events = await self._ctx.runner.read(service.history, str(view.identity.id))
        self.timeline.set_rows(timeline_rows(events), [e.id for e in events])
        headers, cells = grid_cells(rows)
        self.grid.blockSignals(True)  # filling is not the admin ticking
        self.grid.clear()
        self.grid.setColumnCount(len(headers))
        self.grid.setHorizontalHeaderLabels(headers)
        self.grid.setRowCount(len(cells))
        for r, row in enumerate(cells):
            for c, value in enumerate(row):
                item = QTableWidgetItem(value)
                if c >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    item.setToolTip(
                        {"✓": "has access (untick to take it away)", "✗": "no access (tick to give it)",
                         "": "no such library"}[value]
                    )  # fmt: skip
                    if value:
                        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
                                      | Qt.ItemFlag.ItemIsSelectable)  # fmt: skip
                        item.setCheckState(Qt.CheckState.Checked if value == "✓" else Qt.CheckState.Unchecked)
                self.grid.setItem(r, c, item)
        self.grid.resizeColumnsToContents()
        self.grid.blockSignals(False)
        self._grid_rows = rows
        i = view.identity
        self.person_label.setText(f"{i.display_name}" + (f" <{i.email}>" if i.email else "") +
                                  f" — {counted(len(view.accounts), 'account')}")  # fmt: skip
        self._update_buttons()

    def _on_grid_item_changed(self, item: QTableWidgetItem) -> None:
        r, c = item.row(), item.column()
        if c < 2 or r >= len(self._grid_rows) or not item.text():
            return
        row = self._grid_rows[r]
        header = self.grid.horizontalHeaderItem(c)
        title = header.text() if header is not None else ""
        key = next((k for k, (t, _) in zip(row.keys, row.libraries, strict=False) if t == title), None)
        if key is None:
            return
        on = item.checkState() == Qt.CheckState.Checked
        self.tasks.start("toggle", self._toggle(row, key, title, on))

    def toggle_cell(self, row: int, column: int) -> None:
        """Flips one grid cell as a click on its box would (tests and keyboard users)."""
        item = self.grid.item(row, column)
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            checked = item.checkState() == Qt.CheckState.Checked
            item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)

    async def _toggle(self, row: AccessRow, key: str, title: str, on: bool) -> None:
        service = self._ctx.people.identities
        assert service is not None
        self.grid.setEnabled(False)
        try:
            outcomes = await service.toggle(row, key, on)
        except Exception as exc:
            self.message.emit(as_zondarr_error(exc).user_message, "error")
            outcomes = []
        finally:
            self.grid.setEnabled(True)
        verb = "Gave" if on else "Took away"
        if outcomes and all(o.ok for o in outcomes):
            self.message.emit(f"{verb} {title} on {row.server} ({row.username}).", "success")
        elif outcomes:
            text = summarize(outcomes, "Library access")
            self.message.emit(text, "error")
            self.results = OutcomesDialog("Library access", text, outcomes, self)
            self.results.show()
        await self._show_grid()

    def grid_texts(self) -> list[list[str]]:
        return [
            [item.text() if (item := self.grid.item(r, c)) else "" for c in range(self.grid.columnCount())]
            for r in range(self.grid.rowCount())
        ]

    def _update_buttons(self, *_: object) -> None:
        view = self.current()
        self.accept_button.setEnabled(self.suggestions.currentRow() >= 0)
        has = view is not None and bool(view.accounts)
        for b in (self.enable_button, self.disable_button):
            b.setEnabled(has)
            b.setToolTip("" if has else "Select a person with accounts.")
        self.delete_button.setEnabled(view is not None)
        self.unlink_button.setEnabled(view is not None and bool(self.grid.selectedItems()))

    # ---- linking

    def _on_accept_clicked(self) -> None:
        row = self.suggestions.currentRow()
        if 0 <= row < len(self._suggestions):
            self.tasks.start("accept", self._accept(self._suggestions[row]))

    async def _accept(self, s: LinkSuggestion) -> None:
        service = self._ctx.people.identities
        name = s.accounts[0].username
        email = next((u.email for u in s.accounts if u.email), None)
        try:
            await service.link(name, [AccountRef(u.server_id, u.remote_id) for u in s.accounts], email)
        except Exception as exc:
            self.message.emit(as_zondarr_error(exc).user_message, "error")
            return
        self.message.emit(f"Linked {counted(len(s.accounts), 'account')} to {name}.", "success")
        await self._reload()
        self.select_person(name)

    def open_link_dialog(self) -> None:
        self.tasks.start("link-dialog", self._open_link_dialog())

    async def _open_link_dialog(self) -> None:
        users = [u for u in await self._ctx.runner.read(self._ctx.users.list) if not u.is_admin]
        view = self.current()
        dialog = LinkDialog(self._ctx, users, view.identity.display_name if view else "", self)
        dialog.linked.connect(lambda name: self.message.emit(f"Linked accounts to {name}.", "success"))
        dialog.linked.connect(lambda _name: self.reload())
        self.link_dialog = dialog
        dialog.show()

    def _on_unlink_clicked(self) -> None:
        rows = sorted({i.row() for i in self.grid.selectedItems()})
        view = self.current()
        if view is None or not rows:
            return
        chosen = [self._grid_rows[r] for r in rows if r < len(self._grid_rows)]
        refs = [
            AccountRef(u.server_id, u.remote_id)
            for u in view.accounts
            if any(u.server == c.server and u.username == c.username for c in chosen)
        ]
        self.tasks.start("unlink", self._unlink(refs))

    async def _unlink(self, refs: list[AccountRef]) -> None:
        service = self._ctx.people.identities
        await service.unlink(refs)
        self.message.emit(f"Unlinked {len(refs)} account(s).", "success")
        await self._reload()

    # ---- identity-wide actions

    def _on_action_clicked(self, action: str) -> None:
        view = self.current()
        if view is None:
            return
        name = view.identity.display_name
        servers = sorted({u.server for u in view.accounts})
        where = f" on {', '.join(servers)}" if servers else ""
        if action == "delete":
            text = f"Delete {name} and every linked account{where}?"
            detail = "The accounts are removed from their servers for good."
        else:
            text, detail = f"{action.capitalize()} every account of {name}{where}?", ""
        self.confirm_box = confirm(
            self,
            f"{action.capitalize()} {name}",
            text,
            lambda: self.tasks.start("act", self._act(action, str(view.identity.id))),
            detail,
        )

    async def _act(self, action: str, identity_id: str) -> None:
        service = self._ctx.people.identities
        try:
            if action == "delete":
                outcomes = await service.delete(identity_id, with_accounts=True)
            else:
                outcomes = await service.act(identity_id, action)
        except Exception as exc:
            self.message.emit(as_zondarr_error(exc).user_message, "error")
            return
        text = summarize(outcomes, action.capitalize()) if outcomes else f"{action.capitalize()}d."
        self.message.emit(text, "success" if all(o.ok for o in outcomes) else "error")
        if outcomes:
            self.results = OutcomesDialog(f"{action.capitalize()} person", text, outcomes, self)
            self.results.show()
        await self._reload()
