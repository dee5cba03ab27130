"""The invitation dialogs: **New invitation** (target servers, libraries per server, expiry, max uses, account
duration, note) and **Redeem for someone** (pre-flight results per server shown BEFORE anything is created,
then the per-server results of the redemption).

GUI thread only; service calls run as background tasks on the qasync loop. Both dialogs are non-modal.
"""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ZondarrError, register_secret
from app.core.models import Invitation, Restrictions
from app.services.context import AppContext
from app.services.invite_card import parse_invitee_reply
from app.ui.dialogs.account_time_dialogs import KIND_RESTRICTIONS, restriction_choice
from app.ui.dialogs.outcomes import OutcomeTable
from app.ui.exception_hook import as_zondarr_error
from app.ui.tasks import TaskGroup


def _tops(tree: QTreeWidget) -> list[QTreeWidgetItem]:
    return [i for n in range(tree.topLevelItemCount()) if (i := tree.topLevelItem(n)) is not None]


def _children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    return [c for n in range(item.childCount()) if (c := item.child(n)) is not None]


def _repolish(w: QWidget) -> None:
    """Re-applies the theme after an object name change (the stylesheet selects on it)."""
    w.style().unpolish(w)
    w.style().polish(w)


_KIND_ROLE = Qt.ItemDataRole.UserRole + 1


def _error_text(err: ZondarrError) -> str:
    return err.user_message + (f" {err.remedy}" if err.remedy else "")


ISO_MINUTES = "yyyy-MM-dd HH:mm"
NO_TARGET = "Tick at least one server above: the invitation creates an account there."


class CreateInvitationDialog(QDialog):
    created = Signal(object)  # Invitation

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("invite-create")
        self.setWindowTitle("New invitation")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumSize(520, 520)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel("Target servers and the libraries to share (all ticked = every library):", self)
        )
        self.targets = QTreeWidget(self)
        self.targets.setHeaderHidden(True)
        self.targets.setObjectName("invitationTargets")
        self.targets.setAccessibleName("Target servers and libraries")
        layout.addWidget(self.targets, 1)
        form = QFormLayout()
        expiry_row = QHBoxLayout()
        self.expires = QCheckBox("E&xpires on", self)
        self.expires_at = QDateTimeEdit(QDateTime.currentDateTime().addDays(7), self)
        self.expires_at.setCalendarPopup(True)
        self.expires_at.setDisplayFormat(ISO_MINUTES)  # as every table shows times: 2026-12-11 15:19
        self.expires_at.setAccessibleName("Expiry date")
        self.expires_at.setEnabled(False)
        self.expires.toggled.connect(self.expires_at.setEnabled)
        expiry_row.addWidget(self.expires)
        expiry_row.addWidget(self.expires_at, 1)
        form.addRow("Expiry:", expiry_row)
        self.max_uses = QSpinBox(self)
        self.max_uses.setRange(0, 10_000)
        self.max_uses.setSpecialValueText("unlimited")
        self.max_uses.setValue(1)
        self.max_uses.setAccessibleName("Maximum uses")
        form.addRow("&Max uses:", self.max_uses)
        self.duration = QSpinBox(self)
        self.duration.setRange(0, 3650)
        self.duration.setSpecialValueText("no limit")
        self.duration.setSuffix(" days")
        self.duration.setAccessibleName("Account duration in days")
        form.addRow("Account &duration:", self.duration)
        self.note = QLineEdit(self)
        self.note.setAccessibleName("Note")
        self.note.setPlaceholderText("For whom, why…")
        form.addRow("&Note:", self.note)
        self.max_sessions = QSpinBox(self)
        self.max_sessions.setRange(-1, 100)
        self.max_sessions.setValue(-1)
        self.max_sessions.setSpecialValueText("as the server has it")
        self.max_sessions.setAccessibleName("Maximum active sessions (0 = no limit)")
        self.max_sessions.setToolTip("Jellyfin: at most this many active sessions; 0 = no limit.")
        self.downloads = restriction_choice(self, "Downloads")
        self.remote = restriction_choice(self, "Remote access")
        self.restriction_rows = {
            "sessions": ("Max &sessions:", self.max_sessions),
            "downloads": ("Do&wnloads:", self.downloads),
            "remote": ("&Remote access:", self.remote),
        }
        for label, widget in self.restriction_rows.values():
            form.addRow(label, widget)
        self.restrictions_hint = QLabel(self)
        self.restrictions_hint.setObjectName("hint")
        self.restrictions_hint.setWordWrap(True)
        form.addRow("", self.restrictions_hint)
        self._form = form
        layout.addLayout(form)
        self.targets.itemChanged.connect(self._on_targets_item_changed)
        self._show_restrictions()
        self.result_label = QLabel(self)
        self.result_label.setWordWrap(True)
        self.result_label.setObjectName("hint")
        layout.addWidget(self.result_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        buttons.addWidget(cancel)
        self.create_button = QPushButton("&Create", self)
        self.create_button.setObjectName("primary")
        self.create_button.setAccessibleName("Create invitation")
        self.create_button.clicked.connect(self._on_create_clicked)
        buttons.addWidget(self.create_button)
        layout.addLayout(buttons)
        self.tasks.start("load", self._load())

    async def _load(self) -> None:
        ctx = self._ctx
        servers = await ctx.runner.read(ctx.server_store.list)
        for server in servers:
            # Read first, then add: a server never shows up without its libraries (nor half-filled).
            libraries = await ctx.runner.read(ctx.tracks.libraries, server.id)
            item = QTreeWidgetItem(self.targets, [f"{server.name} ({server.kind.value})"])
            item.setData(0, Qt.ItemDataRole.UserRole, server.name)
            item.setData(0, _KIND_ROLE, server.kind.value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
            item.setCheckState(0, Qt.CheckState.Unchecked)
            for lib in libraries:
                child = QTreeWidgetItem(item, [lib.title])
                child.setData(0, Qt.ItemDataRole.UserRole, lib.key)
                child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                child.setCheckState(0, Qt.CheckState.Unchecked)
        self.targets.expandAll()

    def set_target(self, server: str, libraries: list[str] | None = None) -> None:
        """Ticks ``server`` (with only ``libraries``, titles, when given; else all of them)."""
        for item in _tops(self.targets):
            if item.data(0, Qt.ItemDataRole.UserRole) != server:
                continue
            children = _children(item)
            if not children or libraries is None:
                item.setCheckState(0, Qt.CheckState.Checked)
            for child in children:
                wanted = libraries is None or child.text(0) in libraries
                child.setCheckState(0, Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)

    def selection(self) -> tuple[list[str], dict[str, list[str]]]:
        """(target server names, {server: library keys} for servers with only some libraries ticked)."""
        servers: list[str] = []
        libraries: dict[str, list[str]] = {}
        for item in _tops(self.targets):
            if item.checkState(0) == Qt.CheckState.Unchecked:
                continue
            name = str(item.data(0, Qt.ItemDataRole.UserRole))
            servers.append(name)
            if item.checkState(0) == Qt.CheckState.PartiallyChecked:
                libraries[name] = [
                    str(c.data(0, Qt.ItemDataRole.UserRole))
                    for c in _children(item)
                    if c.checkState(0) == Qt.CheckState.Checked
                ]
        return servers, libraries

    def _on_targets_item_changed(self, *_: object) -> None:
        self._show_restrictions()
        if self.result_label.objectName() == "testFailed":  # the admin is fixing what was refused
            self._say("", failed=False)

    def _say(self, text: str, *, failed: bool) -> None:
        self.result_label.setObjectName("testFailed" if failed else "hint")
        _repolish(self.result_label)
        self.result_label.setText(text)

    def _show_restrictions(self) -> None:
        """Each restriction only when a ticked target server has it (Plex: downloads only)."""
        kinds = {
            str(item.data(0, _KIND_ROLE))
            for item in _tops(self.targets)
            if item.checkState(0) != Qt.CheckState.Unchecked
        }
        offered = set().union(*(KIND_RESTRICTIONS.get(k, set()) for k in kinds)) if kinds else set()
        for name, (_, widget) in self.restriction_rows.items():
            self._form.setRowVisible(widget, name in offered)
        self.restrictions_hint.setVisible(bool(kinds))
        self.restrictions_hint.setText(
            'Plex has only "allow downloads" (plex.tv allow sync); sessions and remote access apply to Jellyfin.'
            if "plex" in kinds
            else ""
        )

    def restrictions(self) -> Restrictions:
        sessions = self.max_sessions.value()
        return Restrictions(
            None if sessions < 0 else sessions, self.downloads.currentData(), self.remote.currentData()
        )

    def _on_create_clicked(self) -> None:
        if not self.selection()[0]:
            self._say(NO_TARGET, failed=True)
            return
        self.create_button.setEnabled(False)
        self.tasks.start("create", self._create())

    async def _create(self) -> None:
        service = self._ctx.people.invitations
        servers, libraries = self.selection()
        try:
            inv: Invitation = await service.create(
                servers,
                libraries,
                expires_at=self.expires_at.dateTime().toSecsSinceEpoch()
                if self.expires.isChecked()
                else None,
                max_uses=self.max_uses.value() or None,
                duration_days=self.duration.value() or None,
                note=self.note.text().strip(),
                restrictions=self.restrictions(),
            )
        except Exception as exc:
            self._say(_error_text(as_zondarr_error(exc)), failed=True)
            self.create_button.setEnabled(True)
            return
        self.created.emit(inv)
        self.accept()

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)


class RedeemDialog(QDialog):
    """Redeem a code for someone: **Check** runs the pre-flight (nothing created) and lists each server's
    answer; **Create accounts** is enabled only when every server is ready for exactly the values on screen."""

    redeemed = Signal(object)  # RedeemResult

    def __init__(self, ctx: AppContext, code: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.tasks = TaskGroup("invite-redeem")
        self._checked: tuple[str, ...] | None = None
        self.setWindowTitle("Redeem an invitation for someone")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumSize(860, 460)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.code = QLineEdit(code, self)
        self.code.setAccessibleName("Invitation code")
        form.addRow("&Code:", self.code)
        self.reply = QLineEdit(self)
        self.reply.setAccessibleName("What the invitee sent back")
        self.reply.setPlaceholderText("Paste what they sent: an e-mail address, a plex.tv or wanted username")
        self.reply.setToolTip("Fills in the username and e-mail below; nothing is created before Check.")
        form.addRow("From their repl&y:", self.reply)
        self.username = QLineEdit(self)
        self.username.setAccessibleName("New username")
        form.addRow("&Username:", self.username)
        self.email = QLineEdit(self)
        self.email.setAccessibleName("Email")
        form.addRow("&Email:", self.email)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password (Jellyfin)")
        form.addRow("&Password:", self.password)
        self.quick_connect = QCheckBox(
            "Jellyfin: no password — they sign in their devices with &Quick Connect", self
        )
        self.quick_connect.setToolTip(
            "The account gets a long random password nobody knows; you approve their TV's or phone's code under "
            "Users → Sign in a device…"
        )
        form.addRow("", self.quick_connect)
        layout.addLayout(form)
        self.stage = QLabel("Check first: nothing is created until every server is ready.", self)
        self.stage.setObjectName("hint")
        self.stage.setWordWrap(True)
        layout.addWidget(self.stage)
        self.table = OutcomeTable(self)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.check_button = QPushButton("C&heck", self)
        self.check_button.setAccessibleName("Check the servers first")
        self.check_button.clicked.connect(self._on_check_clicked)
        buttons.addWidget(self.check_button)
        buttons.addStretch(1)
        close = QPushButton("Close", self)
        close.clicked.connect(self.reject)
        buttons.addWidget(close)
        self.redeem_button = QPushButton("C&reate accounts", self)
        self.redeem_button.setObjectName("primary")
        self.redeem_button.setEnabled(False)
        self.redeem_button.setToolTip("Check the servers first.")
        self.redeem_button.clicked.connect(self._on_redeem_clicked)
        buttons.addWidget(self.redeem_button)
        layout.addLayout(buttons)
        self.quick_connect.toggled.connect(self._on_quick_connect_toggled)
        for field in (self.code, self.username, self.email, self.password):
            field.textChanged.connect(self._on_field_changed)
        self.reply.textChanged.connect(self._on_reply_changed)
        self.check_button.setDefault(True)

    def _on_reply_changed(self, text: str) -> None:
        reply = parse_invitee_reply(text)
        if reply.username:
            self.username.setText(reply.username)
        if reply.email:
            self.email.setText(reply.email)

    def _values(self) -> tuple[str, ...]:
        qc = "1" if self.quick_connect.isChecked() else ""
        return (self.code.text(), self.username.text(), self.email.text(), self.password.text(), qc)

    def _on_quick_connect_toggled(self, on: bool) -> None:
        if on:
            self.password.clear()
        self.password.setEnabled(not on)
        self._on_field_changed()

    def _on_field_changed(self, *_: object) -> None:
        ok = self._checked is not None and self._checked == self._values()
        self.redeem_button.setEnabled(ok)
        self.redeem_button.setToolTip("" if ok else "Check the servers first.")

    def _set_stage(self, text: str, ok: bool | None) -> None:
        self.stage.setObjectName({True: "testOk", False: "testFailed", None: "hint"}[ok])
        _repolish(self.stage)
        self.stage.setText(text)
        self.stage.setAccessibleDescription(text)

    def _on_check_clicked(self) -> None:
        self._checked = None
        self._on_field_changed()
        self.check_button.setEnabled(False)
        self._set_stage("Checking the servers… (nothing is created)", None)
        self.tasks.start("check", self._check(self._values()), replace=True)

    async def _check(self, values: tuple[str, ...]) -> None:
        service = self._ctx.people.invitations
        code, username, email, password, qc = values
        if password:
            register_secret(password)  # never in a log line or an error text
        try:
            inv, reason = await self._ctx.runner.read(service.check, code)
            if inv is None or reason is not None:
                why = reason.value if reason else "not found"
                self.table.set_outcomes([])
                self._set_stage(f"This invitation cannot be redeemed: it is {why}.", False)
                return
            if not username.strip():
                self._set_stage("Enter the new username, then check again.", False)
                return
            outcomes = await service.preflight(
                code, username.strip(), email or None, password or None, quick_connect=bool(qc)
            )
        except Exception as exc:
            self._set_stage(_error_text(as_zondarr_error(exc)), False)
            return
        finally:
            self.check_button.setEnabled(True)
        self.table.set_outcomes(outcomes)
        if all(o.ok for o in outcomes):
            self._checked = values
            self._set_stage("Pre-flight: every server is ready. Nothing has been created yet.", True)
        else:
            self._set_stage("Pre-flight: not every server is ready (see below). Nothing was created.", False)
        self._on_field_changed()

    def _on_redeem_clicked(self) -> None:
        self.redeem_button.setEnabled(False)
        self.check_button.setEnabled(False)
        self._set_stage("Creating the accounts…", None)
        self.tasks.start("redeem", self._redeem(self._values()))

    async def _redeem(self, values: tuple[str, ...]) -> None:
        service = self._ctx.people.invitations
        code, username, email, password, qc = values
        self._checked = None
        try:
            result = await service.redeem(
                code, username, email or None, password or None, quick_connect=bool(qc)
            )
        except Exception as exc:
            self._set_stage(_error_text(as_zondarr_error(exc)), False)
            return
        finally:
            self.check_button.setEnabled(True)
        self.table.set_outcomes(result.servers)
        self._set_stage(result.message if result.ok else f"Not redeemed: {result.message}", result.ok)
        self.redeemed.emit(result)

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)
