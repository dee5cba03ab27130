"""Settings (File → Settings…, Ctrl+, / Preferences on macOS): every field of the typed settings, grouped in tabs
(Sync, Tasks, Health, Network, Appearance, Notifications, Backups), plus the two notification secrets (webhook
address, SMTP password) that live in the keychain.

Save validates every changed value exactly as ``zondarr settings set`` does (``SettingsService.validate``): a bad
value is refused with the CLI's message, the field is marked, and nothing is stored. Settings that apply at once
(``services.preferences.LIVE``) do so after Save; the others carry the note "after restart". A setting added to
``Settings`` later lands in its group by name (or "Other") without a change here.

Non-modal (``open()``), GUI thread only; the saves run as tasks of the dialog.
"""

from __future__ import annotations

import os
from dataclasses import fields
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ZondarrError
from app.core.ports import MAIL_PASSWORD_REF
from app.core.settings import CHOICES, Settings, check_webhook_url
from app.services.notifications import KIND_TITLES, KINDS, WEBHOOK_URL_REF
from app.services.preferences import LIVE
from app.ui.tasks import TaskGroup

if TYPE_CHECKING:
    from app.services.context import AppContext

GROUPS = ("Sync", "Tasks", "Health", "Network", "Appearance", "Notifications", "Backups", "Other")

# name -> (group, label); fields not listed are grouped by their name (see _group)
FIELDS: dict[str, tuple[str, str]] = {
    "page_size": ("Sync", "Items per page request"),
    "max_removal_pct": ("Sync", "Hold a sync that would remove more than (% of a library)"),
    "backup_keep": ("Backups", "Backups kept"),
    "max_response_mb": ("Network", "Largest server answer read (MB)"),
    "plex_auth_url": ("Network", "plex.tv sign-in page"),
    "discovery_address": ("Network", "Jellyfin discovery address (host:port)"),
    "client_identifier": ("Network", "This app's client identifier (read-only)"),
    "stale_after_h": ("Sync", "Refresh a cache older than (hours)"),
    "invite_expiry_interval_s": ("Tasks", "Expire invitations every (seconds)"),
    "user_sync_interval_s": ("Tasks", "Re-sync users every (seconds)"),
    "expiry_action": ("Tasks", "When an account expires"),
    "delete_after_days": ("Tasks", "Delete disabled accounts after (days)"),
    "pending_invite_days": ("Tasks", "Offer to cancel Plex invitations pending longer than (days)"),
    "auto_delete_expired": ("Tasks", "Delete expired accounts without asking"),
    "expiry_reminder_days": ("Tasks", "Remind people before expiry (days, e.g. 7,1)"),
    "reminder_template": ("Tasks", "Reminder text ({name} {server} {date} {note})"),
    "heartbeat_interval_s": ("Health", "Heartbeat every (seconds)"),
    "connect_timeout_s": ("Network", "Connect timeout (seconds)"),
    "request_timeout_s": ("Network", "Request deadline, body included (seconds)"),
    "retries": ("Network", "Retries per page"),
    "retry_backoff_s": ("Network", "First retry backoff (seconds, doubles)"),
    "verify_tls": ("Network", "Verify TLS certificates"),
    "plex_tv_url": ("Network", "plex.tv address"),
    "theme": ("Appearance", "Theme"),
    "close_to_tray": ("Appearance", "Closing the window keeps Zondarr running in the tray"),
    "start_at_login": ("Appearance", "Start Zondarr at login (in the tray)"),
    "webhook_format": ("Notifications", "Webhook format"),
    "webhook_timeout_s": ("Notifications", "Webhook timeout (seconds)"),
    "notify_email_to": ("Notifications", "E-mail notifications to"),
    "smtp_host": ("Notifications", "SMTP server"),
    "smtp_port": ("Notifications", "SMTP port"),
    "smtp_starttls": ("Notifications", "Use STARTTLS"),
    "smtp_user": ("Notifications", "SMTP user"),
    "smtp_from": ("Notifications", "Sender address"),
    "smtp_timeout_s": ("Notifications", "SMTP timeout (seconds)"),
}
for _kind, _setting in KINDS.items():
    FIELDS[_setting] = ("Notifications", f"Notify: {KIND_TITLES[_kind].lower()}")
CHOICE_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
AFTER_RESTART = "after restart"
READ_ONLY = frozenset({"client_identifier"})  # generated once per cache: changing it would sign Zondarr out


def _group(name: str) -> str:
    if name in FIELDS:
        return FIELDS[name][0]
    for prefix, group in (("backup", "Backups"), ("notify", "Notifications"), ("smtp", "Notifications")):
        if name.startswith(prefix):
            return group
    for word, group in (("sync", "Sync"), ("removal", "Sync"), ("interval", "Tasks"), ("timeout", "Network")):
        if word in name:
            return group
    return "Other"


class SettingsDialog(QDialog):
    saved = Signal(object)  # the new Settings

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._ctx = ctx
        self.tasks = TaskGroup("settings-dialog")
        current = ctx.preferences.current
        self._initial = current.to_raw()
        self.editors: dict[str, QWidget] = {}
        self.secret_edits: dict[str, QLineEdit] = {}
        self.tabs = QTabWidget(self)
        forms: dict[str, QFormLayout] = {}
        for f in fields(Settings):
            group = _group(f.name)
            if group not in forms:
                forms[group] = self._tab(group)
            self._add_field(forms[group], f.name, f.type, getattr(current, f.name))
        if "Notifications" in forms:
            self._add_secrets(forms["Notifications"])
        if "Backups" not in forms:  # the group exists once backups have settings
            forms["Backups"] = self._tab("Backups")
            forms["Backups"].addRow(QLabel("Backups have no settings in this version.", self))
        order = {g: i for i, g in enumerate(GROUPS)}
        for i, title in enumerate(sorted(forms, key=lambda g: order.get(g, 99))):
            self.tabs.tabBar().moveTab(self.tabs.indexOf(self._tabs[title]), i)
        self._start = {name: self.value(name) for name in self.editors}
        self.error_label = QLabel(self)
        self.error_label.setObjectName("settingsError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.resize(860, 600)

    # ---- construction

    _tabs: dict[str, QWidget]

    def _tab(self, title: str) -> QFormLayout:
        if not hasattr(self, "_tabs"):
            self._tabs = {}
        inner = QWidget()
        form = QFormLayout(inner)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        scroll = QScrollArea(self.tabs)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # fields fit the width
        scroll.setWidget(inner)
        scroll.setObjectName(f"settingsTab{title}")
        self.tabs.addTab(scroll, title)
        self._tabs[title] = scroll
        return form

    def _label(self, name: str) -> str:
        label = FIELDS.get(name, ("", name.replace("_", " ").capitalize()))[1]
        return label if name in LIVE or name in READ_ONLY else f"{label} ({AFTER_RESTART})"

    def _add_field(self, form: QFormLayout, name: str, type_name: object, value: object) -> None:
        editor: QWidget
        if type_name in ("bool", bool):
            box = QCheckBox(self._label(name), self)
            box.setChecked(bool(value))
            form.addRow(box)
            editor = box
        else:
            if name in CHOICES:
                combo = QComboBox(self)
                for choice in CHOICES[name]:
                    combo.addItem(CHOICE_LABELS.get(choice, choice), choice)
                combo.setCurrentIndex(max(0, combo.findData(str(value))))
                editor = combo
            elif name == "reminder_template":
                text = QPlainTextEdit(str(value), self)
                text.setFixedHeight(90)
                editor = text
            else:
                line = QLineEdit(self._shown(value), self)
                line.textEdited.connect(self._on_field_edited)
                line.setReadOnly(name in READ_ONLY)
                editor = line
            label = QLabel(self._label(name), self)
            label.setBuddy(editor)
            form.addRow(label, editor)
        variable = f"ZONDARR_{name.upper()}"
        if variable in os.environ:  # it wins over what is stored: editing here would change nothing
            editor.setEnabled(False)
            editor.setToolTip(f"Set by the environment variable {variable}; change or remove it there.")
        editor.setObjectName(f"setting_{name}")
        editor.setAccessibleName(FIELDS.get(name, ("", name))[1])
        self.editors[name] = editor

    @staticmethod
    def _shown(value: object) -> str:
        if isinstance(value, float) and value.is_integer():
            return str(int(value)) if value >= 1 else str(value)
        return str(value)

    def _add_secrets(self, form: QFormLayout) -> None:
        for ref, label, channel in (
            (WEBHOOK_URL_REF, "Webhook address (kept in the keychain)", "webhook"),
            (MAIL_PASSWORD_REF, "SMTP password (kept in the keychain)", "e-mail"),
        ):
            edit = QLineEdit(self)
            edit.setObjectName(f"secret_{ref}")
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setPlaceholderText("unchanged")
            edit.setAccessibleName(label)
            test = QPushButton(f"Test {channel}", self)
            test.setObjectName(f"test_{channel}")
            test.setToolTip(f"Send a test notification through the saved {channel} settings")
            test.clicked.connect(lambda _=False, c=channel: self.tasks.start(f"test-{c}", self._test(c)))
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(test)
            form.addRow(QLabel(label, self), row)
            self.secret_edits[ref] = edit

    # ---- values

    def value(self, name: str) -> str:
        """The raw text of the field ``name`` as ``zondarr settings set`` would take it."""
        editor = self.editors[name]
        if isinstance(editor, QCheckBox):
            return "true" if editor.isChecked() else "false"
        if isinstance(editor, QComboBox):
            return str(editor.currentData())
        if isinstance(editor, QPlainTextEdit):
            return editor.toPlainText()
        assert isinstance(editor, QLineEdit)
        return editor.text()

    def set_value(self, name: str, text: str) -> None:
        editor = self.editors[name]
        if isinstance(editor, QCheckBox):
            editor.setChecked(text.lower() in ("1", "true", "yes", "on"))
        elif isinstance(editor, QComboBox):
            editor.setCurrentIndex(editor.findData(text))
        elif isinstance(editor, QPlainTextEdit):
            editor.setPlainText(text)
        else:
            assert isinstance(editor, QLineEdit)
            editor.setText(text)

    def changes(self) -> dict[str, str]:
        """The fields whose value differs from what the dialog opened with."""
        return {name: self.value(name) for name in self.editors if self.value(name) != self._start[name]}

    # ---- slots

    def _on_field_edited(self, _text: str) -> None:
        self.error_label.hide()
        for editor in self.editors.values():
            if editor.property("invalid"):
                editor.setProperty("invalid", False)
                editor.setStyleSheet("")

    def _on_buttons_accepted(self) -> None:
        self._on_field_edited("")  # a new attempt: the last refusal no longer applies
        changes = self.changes()
        preferences = self._ctx.preferences
        if preferences is not None:
            try:
                preferences.validate(self._initial, changes)
            except ZondarrError as err:
                self._refuse(err)
                return
        secrets = {ref: e.text().strip() for ref, e in self.secret_edits.items() if e.text().strip()}
        self.save_button.setEnabled(False)
        self.tasks.start("save", self._save(changes, secrets), replace=True)

    def _refuse(self, err: ZondarrError) -> None:
        self.error_label.setText(err.user_message)
        self.error_label.show()
        for name, editor in self.editors.items():
            if f"Setting {name} " in err.user_message:
                editor.setProperty("invalid", True)
                editor.setStyleSheet("border: 1px solid #d64545;")
                self.tabs.setCurrentWidget(self._tabs[_group(name)])
                editor.setFocus()

    async def _save(self, changes: dict[str, str], secrets: dict[str, str]) -> None:
        try:
            if WEBHOOK_URL_REF in secrets:
                secrets[WEBHOOK_URL_REF] = check_webhook_url(secrets[WEBHOOK_URL_REF])
            for ref, value in secrets.items():
                await self._ctx.runner.net(self._ctx.secrets.set, ref, value)
            new = await self._ctx.preferences.save(changes) if changes else None
        except ZondarrError as err:
            self.save_button.setEnabled(True)
            self._refuse(err)
            return
        self.saved.emit(new)
        self.accept()

    async def _test(self, channel: str) -> None:
        service = self._ctx.notifications
        if service is None:
            return
        try:
            await service.test(channel)
        except ZondarrError as err:
            self._refuse(err)
            return
        self.error_label.setText(f"Test {channel} notification sent.")
        self.error_label.show()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.tasks.cancel_all()  # the dialog is deleted on close: nothing may touch it afterwards
        super().closeEvent(event)
