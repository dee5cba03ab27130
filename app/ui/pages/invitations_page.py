"""The Invitations page: every invitation with its status (active, expired, used up, disabled), uses, expiry
and target servers; New…, Copy code, Disable/Enable, Delete (after a confirmation) and "Redeem for someone…".

GUI thread only; reads and changes run as background tasks on the qasync loop (``ctx.people.invitations``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.models import Invitation, InvitationStatus, User
from app.services.context import AppContext
from app.ui.dialogs.invitation_dialogs import CreateInvitationDialog, RedeemDialog
from app.ui.dialogs.invite_card_dialog import InviteCardDialog
from app.ui.dialogs.outcomes import confirm
from app.ui.exception_hook import as_zondarr_error
from app.ui.models.simple_table import (
    SimpleTableModel,
    add_empty_state,
    add_page_title,
    format_when,
    make_table_view,
)
from app.ui.tasks import TaskGroup
from app.ui.widgets.filter_bar import counted

HEADERS = ["Code", "Status", "Uses", "Expires", "Account duration", "Servers", "Note"]


def invitation_row(
    inv: Invitation, status: InvitationStatus, pending: Sequence[User] = ()
) -> tuple[object, ...]:
    uses = f"{inv.use_count} / {inv.max_uses if inv.max_uses is not None else '∞'}"
    if pending:
        since = min(u.pending_since or 0.0 for u in pending)
        uses += (
            f" ({len(pending)} pending on plex.tv since {time.strftime('%Y-%m-%d', time.localtime(since))})"
        )
    duration = f"{inv.duration_days} days" if inv.duration_days else "no limit"
    servers = ", ".join([*(t.server + ("" if not t.library_keys else f" ({counted(len(t.library_keys), 'library', 'libraries')})")
                           for t in inv.targets), *(f"{n} (removed)" for n in inv.removed_servers)])  # fmt: skip
    return (inv.code, status.value, uses, format_when(inv.expires_at) or "never", duration, servers, inv.note)


class InvitationsPage(QWidget):
    message = Signal(str, str)  # text, kind

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("invitations-page")
        self._rows: list[tuple[Invitation, InvitationStatus]] = []
        self.create_dialog: CreateInvitationDialog | None = None
        self.redeem_dialog: RedeemDialog | None = None
        self.card_dialog: InviteCardDialog | None = None
        self.confirm_box: QWidget | None = None
        layout = QVBoxLayout(self)
        add_page_title(layout, "Invitations", self)
        bar = QHBoxLayout()
        self.new_button = QPushButton("&New invitation…", self)
        self.new_button.setObjectName("primary")
        self.copy_button = QPushButton("&Copy code", self)
        self.toggle_button = QPushButton("&Disable", self)
        self.delete_button = QPushButton("De&lete…", self)
        self.redeem_button = QPushButton("&Redeem for someone…", self)
        self.card_button = QPushButton("Invite c&ard…", self)
        for b, name in (
            (self.new_button, "Create an invitation"),
            (self.copy_button, "Copy the invitation code"),
            (self.toggle_button, "Disable or enable the invitation"),
            (self.delete_button, "Delete the invitation"),
            (self.redeem_button, "Redeem an invitation for someone"),
            (self.card_button, "Show the invite card to hand over"),
        ):
            b.setAccessibleName(name)
            bar.addWidget(b)
        bar.addStretch(1)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("hint")
        bar.addWidget(self.count_label)
        layout.addLayout(bar)
        self.model = SimpleTableModel(HEADERS)
        self.view = make_table_view(self.model, "invitationsTable", self, widths=(120, 80, 70, 130, 140, 240))
        self.empty_state = add_empty_state(
            self.view, "No invitations yet.\nNew invitation… makes a code to hand to someone you invite."
        )
        layout.addWidget(self.view, 1)
        self.new_button.clicked.connect(self.open_create_dialog)
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.toggle_button.clicked.connect(self._on_toggle_clicked)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.redeem_button.clicked.connect(lambda: self.open_redeem_dialog())
        self.card_button.clicked.connect(self.open_card_dialog)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def reload(self) -> None:
        self.tasks.start("reload", self._reload(), replace=True)

    async def _reload(self) -> None:
        service = self._ctx.people.invitations
        selected = self.selected()
        self._rows = await self._ctx.runner.read(service.overview)
        pending = await self._ctx.people.pending_invites.by_invitation()
        rows = [invitation_row(i, s, pending.get(i.id, ())) for i, s in self._rows]
        self.model.set_rows(rows, [i.code for i, _ in self._rows])
        active = sum(s is InvitationStatus.ACTIVE for _, s in self._rows)
        self.count_label.setText(f"{counted(len(self._rows), 'invitation')}, {active:,} active")
        if selected is not None:
            self.select_code(selected[0].code)
        self._update_buttons()

    def selected(self) -> tuple[Invitation, InvitationStatus] | None:
        rows = self.view.selectionModel().selectedRows()
        return self._rows[rows[0].row()] if rows and rows[0].row() < len(self._rows) else None

    def select_code(self, code: str) -> None:
        for r, (inv, _) in enumerate(self._rows):
            if inv.code == code:
                self.view.selectRow(r)

    def _update_buttons(self, *_: object) -> None:
        sel = self.selected()
        for b in (self.copy_button, self.toggle_button, self.delete_button, self.card_button):
            b.setEnabled(sel is not None)
        self.toggle_button.setText("&Enable" if sel is not None and not sel[0].enabled else "&Disable")

    # ---- dialogs

    def open_create_dialog(self) -> CreateInvitationDialog:
        dialog = CreateInvitationDialog(self._ctx, self)
        dialog.created.connect(self._on_created)
        self.create_dialog = dialog
        dialog.show()
        return dialog

    def open_redeem_dialog(self, code: str | None = None) -> RedeemDialog:
        sel = self.selected()
        dialog = RedeemDialog(self._ctx, code or (sel[0].code if sel else ""), self)
        dialog.redeemed.connect(lambda _result: self.reload())
        self.redeem_dialog = dialog
        dialog.show()
        return dialog

    def open_card_dialog(self) -> InviteCardDialog | None:
        sel = self.selected()
        if sel is None:
            return None
        dialog = InviteCardDialog(self._ctx, sel[0].code, self)
        dialog.message.connect(self.message)
        self.card_dialog = dialog
        dialog.show()
        return dialog

    def _on_created(self, inv: Invitation) -> None:
        QGuiApplication.clipboard().setText(inv.code)
        self.message.emit(f"Invitation {inv.code} created (the code is on the clipboard).", "success")
        self.tasks.start("reload", self._reload_and_select(inv.code), replace=True)

    async def _reload_and_select(self, code: str) -> None:
        await self._reload()
        self.select_code(code)

    # ---- actions

    def _on_copy_clicked(self) -> None:
        sel = self.selected()
        if sel is not None:
            QGuiApplication.clipboard().setText(sel[0].code)
            self.message.emit(f"Copied {sel[0].code}.", "info")

    def _on_toggle_clicked(self) -> None:
        sel = self.selected()
        if sel is not None:
            self.tasks.start("toggle", self._change(sel[0].code, not sel[0].enabled))

    def _on_delete_clicked(self) -> None:
        sel = self.selected()
        if sel is None:
            return
        code = sel[0].code
        self.confirm_box = confirm(
            self,
            "Delete invitation",
            f"Delete the invitation {code}?",
            lambda: self.tasks.start("delete", self._change(code, None)),
            "Accounts already created with it stay on their servers.",
        )

    async def _change(self, code: str, enabled: bool | None) -> None:
        service = self._ctx.people.invitations
        try:
            if enabled is None:
                await service.delete(code)
                text = f"Deleted {code}."
            else:
                await service.set_enabled(code, enabled)
                text = f"{code} {'enabled' if enabled else 'disabled'}."
        except Exception as exc:
            err = as_zondarr_error(exc)
            self.message.emit(err.user_message, "error")
        else:
            self.message.emit(text, "success")
        await self._reload()
