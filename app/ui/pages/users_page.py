"""The Users page: every cached account on every server with its expiry and last activity, filter by server,
search and "inactive for N days"; enable / disable / delete for one or many selected accounts (after a
confirmation naming the servers affected), library access and expiry of the selection, per-server results, the
Discrepancies review (orphaned / stale accounts) and the confirmation of expired accounts waiting for deletion.

GUI thread only; reads and actions run as background tasks on the qasync loop (``ctx.people.users``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.models import AccountRef, Server, ServerKind, User
from app.services.context import AppContext
from app.services.people_common import Outcome
from app.services.users import inactive_for
from app.ui.dialogs.account_time_dialogs import AccessDialog, ExpiryDialog, RestrictionsDialog
from app.ui.dialogs.device_signin_dialog import DeviceSignInDialog
from app.ui.dialogs.discrepancies_dialog import DiscrepanciesDialog
from app.ui.dialogs.outcomes import OutcomesDialog, confirm, summarize
from app.ui.models.simple_table import SimpleTableModel, add_page_title, make_table_view, refill_choices
from app.ui.pages.invite_actions import InviteActions, pending_text
from app.ui.tasks import TaskGroup

HEADERS = ["Server", "Username", "Email", "Role", "State", "Expires", "Last seen"]
ACTIONS = ("enable", "disable", "delete")
# What each server kind lets Zondarr do to an account (Plex "disables" by removing the library shares).
KIND_ACTIONS: dict[ServerKind, frozenset[str]] = {
    ServerKind.PLEX: frozenset(ACTIONS),
    ServerKind.JELLYFIN: frozenset(ACTIONS),
}


def block_reason(action: str, users: Sequence[User], servers: dict[int, Server]) -> str | None:
    """Why ``action`` cannot be applied to the selected ``users`` (None = it can). Pure."""
    if not users:
        return "Select one or more users first."
    for u in users:
        server = servers.get(u.server_id)
        if server is None:
            return f"{u.server} is no longer configured."
        if not server.enabled:
            return f"{server.name} is disabled in Zondarr: enable it on the Servers page first."
        if action not in KIND_ACTIONS.get(server.kind, frozenset()):
            return f"A {server.kind.value} server cannot {action} accounts from Zondarr."
        if u.is_admin:
            return f"{u.username} is an administrator of {u.server}: change it on the server itself."
    if action == "enable" and all(not u.is_disabled for u in users):
        return "The selected users are already active."
    if action == "disable" and all(u.is_disabled for u in users):
        return "The selected users are already disabled."
    return None


def device_block_reason(users: Sequence[User], servers: dict[int, Server]) -> str | None:
    """Why no device can be signed in for the selection (None = it can): one Jellyfin account. Pure."""
    if len(users) != 1:
        return "Select one account."
    server = servers.get(users[0].server_id)
    if server is None or server.kind is not ServerKind.JELLYFIN:
        return "Only Jellyfin signs in devices by code; on Plex people sign in with their plex.tv account."
    if users[0].is_disabled:
        return "The account is disabled: enable it first."
    return None


def access_block_reason(users: Sequence[User], servers: dict[int, Server]) -> str | None:
    """Why the library access of the selection cannot be edited (None = it can): one server at a time. Pure."""
    if not users:
        return "Select one or more users first."
    if len({u.server_id for u in users}) > 1:
        return "Select accounts of one server: each server has its own libraries."
    server = servers.get(users[0].server_id)
    if server is None or not server.enabled:
        return f"{users[0].server} is not available: enable it on the Servers page first."
    admin = next((u for u in users if u.is_admin), None)
    return None if admin is None else f"{admin.username} is an administrator: it sees every library."


def day_text(when: float | None) -> str:
    return "" if when is None else datetime.fromtimestamp(when).strftime("%Y-%m-%d")


def seen_text(when: float | None, now: float) -> str:
    """ "today", "3 days ago", "unknown" (the server does not say). Pure."""
    if when is None:
        return "unknown"
    days = int((now - when) // 86_400)
    return "today" if days <= 0 else ("yesterday" if days == 1 else f"{days} days ago")


class UsersPage(QWidget):
    message = Signal(str, str)  # text, kind (info | success | error)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("users-page")
        self._users: list[User] = []
        self._servers: dict[int, Server] = {}
        self.confirm_box: QWidget | None = None
        self.results: OutcomesDialog | None = None
        self.change_dialog: AccessDialog | ExpiryDialog | RestrictionsDialog | None = None
        self._pending: list[AccountRef] = []
        self.discrepancies: DiscrepanciesDialog | None = None
        self.device_dialog: DeviceSignInDialog | None = None
        layout = QVBoxLayout(self)
        add_page_title(layout, "Users", self)
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
        self.inactive = QSpinBox(self)
        self.inactive.setRange(0, 3650)
        self.inactive.setSuffix(" days")
        self.inactive.setSpecialValueText("any")
        self.inactive.setAccessibleName("Only accounts inactive for at least this many days")
        self.inactive.setToolTip("Only accounts whose last activity is older (unknown activity is left out).")
        inactive_label = QLabel("&Inactive for:", self)
        inactive_label.setBuddy(self.inactive)
        bar.addWidget(inactive_label)
        bar.addWidget(self.inactive)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("hint")
        bar.addWidget(self.count_label)
        layout.addLayout(bar)
        self.model = SimpleTableModel(HEADERS)
        self.view = make_table_view(self.model, "usersTable", self, widths=(150, 165, 180, 60, 180, 90))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        layout.addWidget(self.view, 1)
        actions = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for action in ACTIONS:
            button = QPushButton(f"&{action.capitalize()}…", self)
            button.setAccessibleName(f"{action.capitalize()} selected users")
            button.clicked.connect(lambda _=False, a=action: self._on_action_clicked(a))
            actions.addWidget(button)
            self.buttons[action] = button
        self.buttons["delete"].setObjectName("danger")
        self.device_button = QPushButton("Sign in a de&vice…", self)
        self.device_button.setAccessibleName("Sign in the selected person's device with a Quick Connect code")
        self.device_button.setToolTip("Jellyfin: approve the 6-digit Quick Connect code their app shows.")
        self.device_button.clicked.connect(self.open_device_dialog)
        actions.addWidget(self.device_button)
        self.access_button = QPushButton("Library &access…", self)
        self.access_button.setAccessibleName("Change the libraries of the selected users")
        self.access_button.clicked.connect(self._on_access_clicked)
        self.expiry_button = QPushButton("E&xpiry…", self)
        self.expiry_button.setAccessibleName("Set, extend or clear the expiry of the selected users")
        self.expiry_button.clicked.connect(self._on_expiry_clicked)
        self.restrict_button = QPushButton("&Restrictions…", self)
        self.restrict_button.setAccessibleName("Sessions, downloads and remote access of the selected users")
        self.restrict_button.clicked.connect(self._on_restrict_clicked)
        actions.addWidget(self.access_button)
        actions.addWidget(self.expiry_button)
        actions.addWidget(self.restrict_button)
        self.invites = InviteActions(ctx, self, self.tasks, self.selected_users, self._on_invites_done)
        actions.addWidget(self.invites.button)
        actions.addStretch(1)
        self.pending_button = QPushButton(self)
        self.pending_button.setObjectName("danger")
        self.pending_button.setAccessibleName("Delete the expired accounts past their grace period")
        self.pending_button.clicked.connect(self._on_pending_clicked)
        self.pending_button.hide()
        actions.addWidget(self.pending_button)
        self.discrepancies_button = QPushButton("Dis&crepancies…", self)
        self.discrepancies_button.setAccessibleName("Review orphaned and stale accounts")
        self.discrepancies_button.clicked.connect(self._on_discrepancies_clicked)
        actions.addWidget(self.discrepancies_button)
        layout.addLayout(actions)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.server.currentIndexChanged.connect(self._on_server_current_index_changed)
        self.inactive.valueChanged.connect(self._on_inactive_value_changed)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def reload(self) -> None:
        """Re-reads the server names and the users in the background."""
        self.tasks.start("reload", self._reload(True), replace=True)

    def selected_users(self) -> list[User]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self._users[r] for r in rows if r < len(self._users)]

    async def _reload(self, servers_too: bool) -> None:
        ctx = self._ctx
        servers = await ctx.runner.read(ctx.server_store.list)
        self._servers = {s.id: s for s in servers}
        if servers_too:
            refill_choices(self.server, "All servers", [s.name for s in servers])
        server = self.server.currentData()
        search = self.search.text().strip() or None
        users = await ctx.runner.read(ctx.users.list, server, search)
        now = time.time()
        if self.inactive.value() > 0:
            users = inactive_for(users, now, self.inactive.value())
        rows = [
            (
                u.server,
                u.username,
                u.email,
                "admin" if u.is_admin else "user",
                pending_text(u) or ("disabled" if u.is_disabled else "active"),
                day_text(u.expires_at),
                seen_text(u.last_active_at, now),
            )
            for u in users
        ]
        pending = await ctx.runner.read(ctx.people.expiry.pending_deletions)
        self._pending = [AccountRef(p.server_id, p.remote_id) for p in pending]
        self.pending_button.setText(f"Expired: {len(pending)} to &delete…")
        self.pending_button.setVisible(bool(pending))
        self._users = list(users)
        self.model.set_rows(rows, [u.id for u in users])
        self.count_label.setText(f"{len(users):,} user{'' if len(users) == 1 else 's'}")
        self._update_buttons()

    def _update_buttons(self, *_: object) -> None:
        users = self.selected_users()
        self.invites.update()
        for action, button in self.buttons.items():
            reason = block_reason(action, users, self._servers)
            button.setEnabled(reason is None)
            button.setToolTip(reason or f"{action.capitalize()} the selected accounts on their servers.")
        self.discrepancies_button.setEnabled(bool(self._servers))
        reason = device_block_reason(users, self._servers)
        self.device_button.setEnabled(reason is None)
        self.device_button.setToolTip(
            reason or "Approve the 6-digit Quick Connect code their Jellyfin app shows."
        )
        reason = access_block_reason(users, self._servers)
        self.access_button.setEnabled(reason is None)
        self.access_button.setToolTip(reason or "Choose the libraries of the selected accounts.")
        can_expire = bool(users) and not any(u.is_admin for u in users)
        self.expiry_button.setEnabled(can_expire)
        self.expiry_button.setToolTip(
            "Set, extend or clear when the selected accounts end."
            if can_expire
            else "Select non-admin users."
        )
        self.restrict_button.setEnabled(can_expire)
        self.restrict_button.setToolTip(
            "Limit sessions, downloads or remote access where the servers have them."
            if can_expire
            else "Select non-admin users."
        )

    # ---- actions

    def open_device_dialog(self) -> DeviceSignInDialog | None:
        users = self.selected_users()
        if device_block_reason(users, self._servers) is not None:
            return None
        dialog = DeviceSignInDialog(self._ctx, users[0], self)
        dialog.signed_in.connect(lambda outcome: self.message.emit(outcome.message, "success"))
        self.device_dialog = dialog
        dialog.show()
        return dialog

    def _on_action_clicked(self, action: str) -> None:
        users = self.selected_users()
        if block_reason(action, users, self._servers) is not None:
            return
        servers = sorted({u.server for u in users})
        who = users[0].username if len(users) == 1 else f"{len(users)} users"
        detail = "Deleting removes the accounts from the servers for good." if action == "delete" else ""
        self.confirm_box = confirm(
            self,
            f"{action.capitalize()} users",
            f"{action.capitalize()} {who} on {', '.join(servers)}?",
            lambda: self.tasks.start("act", self._act(action, users)),
            detail,
        )

    async def _act(self, action: str, users: list[User]) -> None:
        admin = self._ctx.people.users
        for b in self.buttons.values():
            b.setEnabled(False)
        try:
            outcomes = await admin.apply(action, [AccountRef(u.server_id, u.remote_id) for u in users])
        finally:
            self._update_buttons()
        text = summarize(outcomes, action.capitalize())
        self.message.emit(text, "success" if all(o.ok for o in outcomes) else "error")
        self.results = OutcomesDialog(f"{action.capitalize()} users", text, outcomes, self)
        self.results.show()
        await self._reload(False)

    def _on_access_clicked(self) -> None:
        users = self.selected_users()
        if access_block_reason(users, self._servers) is not None:
            return
        self.tasks.start("access-dialog", self._open_access(users))

    async def _open_access(self, users: list[User]) -> None:
        ctx = self._ctx
        libraries = await ctx.runner.read(ctx.tracks.libraries, users[0].server_id)
        access = await ctx.runner.read(self._library_access, users[0].server_id)
        keys = [access.get(u.remote_id) for u in users]
        # every library when any selected account has every library; else what any of them has
        current = None if any(k is None for k in keys) else frozenset(x for k in keys for x in k or ())
        self._show_change(AccessDialog(ctx, users, libraries, current, self))

    def _library_access(self, server_id: int) -> dict[str, tuple[str, ...] | None]:
        admin = self._ctx.people.users
        return {} if admin is None else admin.library_access(server_id)

    def _on_restrict_clicked(self) -> None:
        users = self.selected_users()
        if users and not any(u.is_admin for u in users):
            kinds = {self._servers[u.server_id].kind.value for u in users if u.server_id in self._servers}
            self._show_change(RestrictionsDialog(self._ctx, users, kinds, self))

    def _on_expiry_clicked(self) -> None:
        users = self.selected_users()
        if users:
            self._show_change(ExpiryDialog(self._ctx, users, self))

    def _show_change(self, dialog: AccessDialog | ExpiryDialog | RestrictionsDialog) -> None:
        title = dialog.windowTitle()

        def applied(outcomes: list[Outcome]) -> None:
            text = summarize(outcomes, title)
            self.message.emit(text, "success" if all(o.ok for o in outcomes) else "error")
            if not all(o.ok for o in outcomes):
                self.results = OutcomesDialog(title, text, outcomes, self)
                self.results.show()
            self.tasks.start("reload", self._reload(False), replace=True)

        dialog.applied.connect(applied)
        self.change_dialog = dialog
        dialog.open()

    def _on_invites_done(self, text: str, kind: str, outcomes: Sequence[Outcome]) -> None:
        self.message.emit(text, kind)
        if outcomes:
            self.results = OutcomesDialog("Plex invitations", text, list(outcomes), self)
            self.results.show()
            self.tasks.start("reload", self._reload(False), replace=True)

    def _on_pending_clicked(self) -> None:
        refs = list(self._pending)
        if not refs:
            return
        self.confirm_box = confirm(
            self,
            "Delete expired accounts",
            f"Delete {len(refs)} expired account{'s' if len(refs) != 1 else ''} past the grace period?",
            lambda: self.tasks.start("delete-expired", self._delete_expired(refs)),
            "They were disabled when they expired; deleting removes them from their servers for good.",
        )

    async def _delete_expired(self, refs: list[AccountRef]) -> None:
        expiry = self._ctx.people.expiry
        assert expiry is not None
        outcomes = await expiry.confirm_deletions(refs)
        text = summarize(outcomes, "Delete")
        self.message.emit(text, "success" if all(o.ok for o in outcomes) else "error")
        self.results = OutcomesDialog("Delete expired accounts", text, outcomes, self)
        self.results.show()
        await self._reload(False)

    def _on_inactive_value_changed(self, _: int) -> None:
        self._debounce.start()

    def _on_discrepancies_clicked(self) -> None:
        dialog = DiscrepanciesDialog(self._ctx, [s.name for s in self._servers.values()], self)
        dialog.excluded.connect(self.reload)
        self.discrepancies = dialog
        dialog.show()

    # ---- filters

    def _on_search_text_changed(self, _: str) -> None:
        self._debounce.start()

    def _on_server_current_index_changed(self, _: int) -> None:
        self.tasks.start("reload", self._reload(False), replace=True)

    def _on_debounce_timeout(self) -> None:
        self.tasks.start("reload", self._reload(False), replace=True)
