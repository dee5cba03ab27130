"""Dialogs of the Users page for people over time: "Library access…" (the libraries of the selected accounts of
one server), "Expiry…" (set, extend or clear the expiry of the selected accounts, in bulk) and "Restrictions…"
(sessions, downloads, remote access where the servers have them).

GUI thread only; shown with ``show()``/``open()``, never ``exec()``. The change runs as a background task of the
dialog (``ctx.people.users.apply_access`` / ``ctx.people.expiry.apply``); ``applied`` carries the per-account outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ValidationError
from app.core.models import AccountRef, Library, Restrictions, ServerKind, User
from app.services.context import AppContext
from app.services.expiry import ExpiryChange
from app.services.people_common import Outcome
from app.ui.exception_hook import as_zondarr_error
from app.ui.tasks import TaskGroup

# The restrictions each server kind has (the adapters' Capability sets: MAX_SESSIONS, ALLOW_DOWNLOADS,
# REMOTE_ACCESS); dialogs offer a restriction only where a chosen server has it.
KIND_RESTRICTIONS: dict[str, set[str]] = {
    ServerKind.PLEX.value: {"downloads"},
    ServerKind.JELLYFIN.value: {"sessions", "downloads", "remote"},
}


def restriction_choice(parent: QWidget, name: str) -> QComboBox:
    """ "as the server has it" (None), "allowed" (True), "not allowed" (False)."""
    box = QComboBox(parent)
    box.setAccessibleName(name)
    for text, value in (("as the server has it", None), ("allowed", True), ("not allowed", False)):
        box.addItem(text, value)
    return box


class _ChangeDialog(QDialog):
    applied = Signal(list)  # list[Outcome]

    def __init__(self, ctx: AppContext, users: Sequence[User], title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._users = list(users)
        self.tasks = TaskGroup(f"{title.lower().replace(' ', '-')}-dialog")
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.layout_ = QVBoxLayout(self)
        who = users[0].username if len(users) == 1 else f"{len(users)} accounts"
        self.layout_.addWidget(QLabel(f"{who} on {', '.join(sorted({u.server for u in users}))}", self))
        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.buttons.rejected.connect(self.reject)
        self.apply_button.clicked.connect(self._on_apply_clicked)

    def finish_layout(self) -> None:
        self.layout_.addWidget(self.error)
        self.layout_.addWidget(self.buttons)

    def refs(self) -> list[AccountRef]:
        return [AccountRef(u.server_id, u.remote_id) for u in self._users]

    def _on_apply_clicked(self) -> None:
        self.apply_button.setEnabled(False)
        self.tasks.start("apply", self._apply())

    async def _apply(self) -> None:
        try:
            outcomes = await self.change()
        except Exception as exc:  # a refusal before anything changed: say why, keep the dialog open
            self.error.setText(as_zondarr_error(exc).user_message)
            self.apply_button.setEnabled(True)
            return
        self.applied.emit(outcomes)
        self.accept()

    async def change(self) -> list[Outcome]:
        raise NotImplementedError


class AccessDialog(_ChangeDialog):
    """Exactly the ticked libraries (or every library, present and future) for accounts of ONE server."""

    def __init__(
        self,
        ctx: AppContext,
        users: Sequence[User],
        libraries: Sequence[Library],
        current: frozenset[str] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, users, "Library access", parent)
        self.every = QCheckBox("&Every library (also those added later)", self)
        self.every.setAccessibleName("Every library")
        self.list = QListWidget(self)
        self.list.setAccessibleName("Libraries")
        for lib in libraries:
            item = QListWidgetItem(lib.title, self.list)
            item.setData(Qt.ItemDataRole.UserRole, lib.key)
            ticked = current is None or lib.key in current
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        self.every.setChecked(current is None)
        self.every.toggled.connect(self._on_every_toggled)
        self._on_every_toggled(self.every.isChecked())
        self.layout_.addWidget(self.every)
        self.layout_.addWidget(self.list)
        self.finish_layout()

    def _on_every_toggled(self, on: bool) -> None:
        self.list.setEnabled(not on)

    def set_libraries(self, keys: Sequence[str] | None) -> None:
        """Ticks exactly ``keys`` (None = every library); for tests and keyboard users."""
        self.every.setChecked(keys is None)
        for i in range(self.list.count()):
            item = self.list.item(i)
            on = keys is not None and item.data(Qt.ItemDataRole.UserRole) in keys
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def chosen(self) -> tuple[str, ...] | None:
        if self.every.isChecked():
            return None
        return tuple(
            str(self.list.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        )

    async def change(self) -> list[Outcome]:
        admin = self._ctx.people.users
        assert admin is not None
        keys = self.chosen()
        return await admin.apply_access(dict.fromkeys(self.refs(), keys))


class ExpiryDialog(_ChangeDialog):
    """On a day, in N days, N more days (from the current expiry or today), or never."""

    def __init__(self, ctx: AppContext, users: Sequence[User], parent: QWidget | None = None) -> None:
        super().__init__(ctx, users, "Expiry", parent)
        grid = QGridLayout()
        self.mode = QButtonGroup(self)
        self.on_radio = QRadioButton("&On", self)
        self.in_radio = QRadioButton("&In", self)
        self.extend_radio = QRadioButton("E&xtend by", self)
        self.never_radio = QRadioButton("&Never expires", self)
        self.day = QDateEdit(self)
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.setAccessibleName("Expiry day")
        tomorrow = date.today() + timedelta(days=30)
        self.day.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))
        self.in_days = QSpinBox(self)
        self.extend_days = QSpinBox(self)
        for spin, name in ((self.in_days, "Days from now"), (self.extend_days, "Days to extend by")):
            spin.setRange(1, 36_500)
            spin.setValue(30)
            spin.setSuffix(" days")
            spin.setAccessibleName(name)
        for row, (radio, field) in enumerate(
            ((self.on_radio, self.day), (self.in_radio, self.in_days), (self.extend_radio, self.extend_days))
        ):
            self.mode.addButton(radio)
            grid.addWidget(radio, row, 0)
            grid.addWidget(field, row, 1)
        self.mode.addButton(self.never_radio)
        grid.addWidget(self.never_radio, 3, 0, 1, 2)
        self.extend_radio.setChecked(True)
        hint = QLabel("Extending counts from the current expiry, or from today when there is none.", self)
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.layout_.addLayout(grid)
        self.layout_.addWidget(hint)
        self.finish_layout()

    def change_asked(self) -> ExpiryChange:
        if self.never_radio.isChecked():
            return ExpiryChange(never=True)
        if self.on_radio.isChecked():
            d = self.day.date()
            return ExpiryChange(on=date(d.year(), d.month(), d.day()))
        if self.in_radio.isChecked():
            return ExpiryChange(in_days=self.in_days.value())
        return ExpiryChange(extend_days=self.extend_days.value())

    async def change(self) -> list[Outcome]:
        expiry = self._ctx.people.expiry
        assert expiry is not None
        return await expiry.apply(self.refs(), self.change_asked())


class RestrictionsDialog(_ChangeDialog):
    """Max sessions, downloads and remote access for the selected accounts; each offered only when every
    selected account's server kind has it (``kinds``: the kinds of their servers)."""

    def __init__(
        self, ctx: AppContext, users: Sequence[User], kinds: set[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, users, "Restrictions", parent)
        offered = set.intersection(*(KIND_RESTRICTIONS.get(k, set()) for k in kinds)) if kinds else set()
        form = QFormLayout()
        self.max_sessions = QSpinBox(self)
        self.max_sessions.setRange(-1, 100)
        self.max_sessions.setValue(-1)
        self.max_sessions.setSpecialValueText("as the server has it")
        self.max_sessions.setAccessibleName("Maximum active sessions (0 = no limit)")
        self.downloads = restriction_choice(self, "Downloads")
        self.remote = restriction_choice(self, "Remote access")
        self.rows = {"sessions": self.max_sessions, "downloads": self.downloads, "remote": self.remote}
        for name, label in (
            ("sessions", "Max &sessions:"),
            ("downloads", "Do&wnloads:"),
            ("remote", "&Remote:"),
        ):
            if name in offered:
                form.addRow(label, self.rows[name])
            else:
                self.rows[name].hide()
        self.layout_.addLayout(form)
        if "plex" in kinds:
            hint = QLabel('Plex has only "allow downloads" (plex.tv allow sync).', self)
            hint.setObjectName("hint")
            self.layout_.addWidget(hint)
        self.finish_layout()

    def restrictions(self) -> Restrictions:
        sessions = self.max_sessions.value() if not self.max_sessions.isHidden() else -1
        return Restrictions(
            None if sessions < 0 else sessions,
            None if self.downloads.isHidden() else self.downloads.currentData(),
            None if self.remote.isHidden() else self.remote.currentData(),
        )

    async def change(self) -> list[Outcome]:
        limits = self.restrictions()
        if limits.empty:
            raise ValidationError("Choose at least one restriction to set.", remedy="")
        return await self._ctx.people.users.apply_restrictions(self.refs(), limits)
