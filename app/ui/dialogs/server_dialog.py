"""Add/Edit server dialog: kind, name, URL, token/API key or username + password, **Test connection**.

GUI thread only. Test connection runs in the background (``ServerService.probe`` → the net pool) and shows the
server's name and version, or the failure's message, remedy and reference. Save is enabled only after a successful
test of exactly the values on screen; any edit disables it again. Add mode saves with ``ServerService.add``.
Edit mode keeps name, kind and sign-in method fixed; the URL is editable and an empty secret means "keep the stored
one": Test runs ``ServerService.probe_existing`` and Save ``ServerService.update`` with exactly those values. When
the address answers as another server install, a warning shows under the test result.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ZondarrError
from app.core.health import REMEDIES, TITLES, failure_class_of
from app.core.models import AuthMethod, Credentials, NewServer, Server, ServerIdentity, ServerKind
from app.services.context import AppContext
from app.services.servers import EditCheck, ServerUpdate
from app.ui.exception_hook import as_zondarr_error
from app.ui.tasks import TaskGroup

AUTH_LABELS = {
    AuthMethod.TOKEN: "Token",
    AuthMethod.API_KEY: "API key",
    AuthMethod.PASSWORD: "Username and password",
}


class ServerDialog(QDialog):
    server_saved = Signal(object)  # Server (add) or ServerUpdate (edit)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, edit: Server | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._edit = edit
        self.tasks = TaskGroup("server-dialog")
        self._tested: tuple[object, ...] | None = None
        self.failure_class: str | None = None  # of the last failed test (FailureClass value)
        self.check: EditCheck | None = None  # edit mode: what the last successful test found
        self.setWindowTitle("Edit server" if edit else "Add server")
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        self.flow: QDialog | None = (
            None  # the sign-in flow opened from here (Plex, Find servers, Quick Connect)
        )
        if edit is None:
            quick = QHBoxLayout()
            self.plex_button = QPushButton("Sign in with &Plex…", self)
            self.plex_button.setObjectName("primary")
            self.plex_button.setToolTip("Sign in at plex.tv in the browser and pick a server of the account.")
            quick.addWidget(self.plex_button)
            self.find_button = QPushButton("&Find servers…", self)
            self.find_button.setToolTip("Find Jellyfin servers on this network.")
            quick.addWidget(self.find_button)
            self.quick_connect_button = QPushButton("&Quick Connect…", self)
            self.quick_connect_button.setToolTip(
                "Jellyfin: sign in with a code approved in another Jellyfin app."
            )
            quick.addWidget(self.quick_connect_button)
            quick.addStretch(1)
            layout.addLayout(quick)
            or_label = QLabel("…or enter the server's address and a token, API key or password:", self)
            or_label.setObjectName("hint")
            layout.addWidget(or_label)
            self.plex_button.clicked.connect(self._on_plex_button_clicked)
            self.find_button.clicked.connect(self._on_find_button_clicked)
            self.quick_connect_button.clicked.connect(self._on_quick_connect_button_clicked)
        form = QFormLayout()
        self.kind = QComboBox(self)
        self.kind.addItem("Plex", ServerKind.PLEX.value)  # Qt stores enums of str as plain str
        self.kind.addItem("Jellyfin", ServerKind.JELLYFIN.value)
        self.kind.setAccessibleName("Server kind")
        form.addRow("&Kind:", self.kind)
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("Home Plex")
        self.name.setAccessibleName("Server name")
        form.addRow("&Name:", self.name)
        self.url = QLineEdit(self)
        self.url.setPlaceholderText("http://192.168.1.10:32400")
        self.url.setAccessibleName("Server URL")
        form.addRow("&URL:", self.url)
        self.auth = QComboBox(self)
        self.auth.setAccessibleName("Sign-in method")
        form.addRow("&Sign in with:", self.auth)
        self.token = QLineEdit(self)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setAccessibleName("Token or API key")
        self.token_label = QLabel("&Token:", self)
        self.token_label.setBuddy(self.token)
        form.addRow(self.token_label, self.token)
        self.username = QLineEdit(self)
        self.username.setAccessibleName("Username")
        self.username_label = QLabel("User&name:", self)
        self.username_label.setBuddy(self.username)
        form.addRow(self.username_label, self.username)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.password_label = QLabel("&Password:", self)
        self.password_label.setBuddy(self.password)
        form.addRow(self.password_label, self.password)
        layout.addLayout(form)
        self.result_label = QLabel(self)
        self.result_label.setWordWrap(True)
        self.result_label.setAccessibleName("Connection test result")
        layout.addWidget(self.result_label)
        self.warning_label = QLabel(self)
        self.warning_label.setObjectName("identityWarning")
        self.warning_label.setWordWrap(True)
        self.warning_label.setAccessibleName("Different server warning")
        self.warning_label.hide()
        layout.addWidget(self.warning_label)
        buttons = QHBoxLayout()
        self.test_button = QPushButton("&Test connection", self)
        self.test_button.setAccessibleName("Test connection")
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel", self)
        buttons.addWidget(self.cancel_button)
        self.save_button = QPushButton("&Save", self)
        self.save_button.setObjectName("primary")
        self.save_button.setAccessibleName("Save server")
        self.save_button.setEnabled(False)
        self.save_button.setToolTip("Test the connection first.")
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

        self.kind.currentIndexChanged.connect(self._on_kind_current_index_changed)
        self.auth.currentIndexChanged.connect(self._on_auth_current_index_changed)
        for edit_field in (self.name, self.url, self.token, self.username, self.password):
            edit_field.textChanged.connect(self._on_field_text_changed)
        self.test_button.clicked.connect(self._on_test_button_clicked)
        if edit is None:  # a pasted address: detect the kind and say how the URL was normalised
            self.url.editingFinished.connect(self._on_url_editing_finished)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.cancel_button.clicked.connect(self.reject)
        self._on_kind_current_index_changed()
        if edit is not None:
            self.kind.setCurrentIndex(self.kind.findData(edit.kind.value))
            self.auth.setCurrentIndex(self.auth.findData(edit.auth_method.value))
            self.name.setText(edit.name)
            self.url.setText(edit.url)
            for fixed in (self.kind, self.name):
                fixed.setEnabled(False)
            self.url.setToolTip(
                "The server's new address; Test connection checks it before anything is saved."
            )
            self.token.setPlaceholderText("Leave empty to keep the stored one")
            self.username.setPlaceholderText("Leave both empty to keep the stored sign-in")
            self.password.setPlaceholderText("Leave both empty to keep the stored sign-in")
        self.test_button.setDefault(True)

    # ---- form values

    def selected_kind(self) -> ServerKind:
        return ServerKind(self.kind.currentData() or ServerKind.PLEX.value)

    def selected_method(self) -> AuthMethod:
        data = self.auth.currentData()
        return AuthMethod(data) if data else AuthMethod.TOKEN

    def new_server(self) -> NewServer:
        return NewServer(
            self.name.text().strip(),
            self.selected_kind(),
            self.url.text().strip().rstrip("/"),
            self.selected_method(),
        )

    def credentials(self) -> Credentials:
        if self.selected_method() is AuthMethod.PASSWORD:
            return Credentials(username=self.username.text().strip(), password=self.password.text())
        return Credentials(token=self.token.text().strip())

    def edit_credentials(self) -> Credentials | None:
        """Edit mode: the credentials on screen, or None when the secret fields are empty (keep the stored one)."""
        if self.selected_method() is AuthMethod.PASSWORD:
            if not (self.username.text().strip() or self.password.text()):
                return None
        elif not self.token.text().strip():
            return None
        return self.credentials()

    def _values(self) -> tuple[object, ...]:
        return (self.new_server(), self.token.text(), self.username.text(), self.password.text())

    # ---- slots

    def _on_kind_current_index_changed(self, *_: object) -> None:
        kind = self.selected_kind()
        methods = [AuthMethod.TOKEN] if kind is ServerKind.PLEX else [AuthMethod.API_KEY, AuthMethod.PASSWORD]
        self.auth.blockSignals(True)
        self.auth.clear()
        for m in methods:
            self.auth.addItem(AUTH_LABELS[m], m.value)
        self.auth.blockSignals(False)
        self.auth.setEnabled(len(methods) > 1 and self._edit is None)
        self._on_auth_current_index_changed()

    def _on_auth_current_index_changed(self, *_: object) -> None:
        password = self.selected_method() is AuthMethod.PASSWORD
        self.token_label.setText("API &key:" if self.selected_method() is AuthMethod.API_KEY else "&Token:")
        for w in (self.token, self.token_label):
            w.setVisible(not password)
        for w in (self.username, self.username_label, self.password, self.password_label):
            w.setVisible(password)
        self._on_field_text_changed()

    def _on_field_text_changed(self, *_: object) -> None:
        ok = self._tested is not None and self._tested == self._values()
        self.save_button.setEnabled(ok)
        self.save_button.setToolTip("" if ok else "Test the connection first.")
        self.warning_label.setVisible(ok and bool(self.warning_label.text()))  # only for the tested values

    def _on_test_button_clicked(self) -> None:
        self._tested = None
        self.check = None
        self.warning_label.clear()
        self._on_field_text_changed()
        self.test_button.setEnabled(False)
        self._show_result("Testing…", None)
        self.tasks.start("test", self._test(self._values()), replace=True)

    def _open_flow(self, dialog: QDialog) -> None:
        dialog.server_saved.connect(self._on_flow_server_saved)  # type: ignore[attr-defined]
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.flow = dialog
        dialog.open()

    def _on_plex_button_clicked(self) -> None:
        from app.ui.dialogs.server_signin_dialogs import PlexSignInDialog

        self._open_flow(PlexSignInDialog(self._ctx, self))

    def _on_find_button_clicked(self) -> None:
        from app.ui.dialogs.server_signin_dialogs import FindServersDialog

        dialog = FindServersDialog(self._ctx, self)
        dialog.address_chosen.connect(self._on_find_address_chosen)
        self._open_flow(dialog)

    def _on_quick_connect_button_clicked(self) -> None:
        from app.ui.dialogs.server_signin_dialogs import QuickConnectDialog

        if not self.url.text().strip():
            self._show_result("Enter the Jellyfin server's address first (or use Find servers…).", False)
            return
        self._open_flow(
            QuickConnectDialog(self._ctx, self.url.text().strip(), self.name.text().strip() or None, self)
        )

    def _on_url_editing_finished(self) -> None:
        text = self.url.text().strip()
        if text and text != getattr(self, "_detected_url", None):
            self.tasks.start("detect", self._detect(text), replace=True)

    async def _detect(self, text: str) -> None:
        try:
            found = await self._ctx.servers.detect(text)
        except Exception as exc:
            self._show_error(as_zondarr_error(exc))
            return
        self._detected_url = found.url
        self.kind.setCurrentIndex(self.kind.findData(found.kind.value))
        if self.url.text().strip() == text:
            self.url.setText(found.url)
        self._show_result(f"{found.kind.value.capitalize()} server: {found.message}.", None)

    def _on_find_address_chosen(self, url: str) -> None:
        self.kind.setCurrentIndex(self.kind.findData(ServerKind.JELLYFIN.value))
        self.url.setText(url)

    def _on_flow_server_saved(self, server: object) -> None:
        self.server_saved.emit(server)
        self._show_result(f"Added {getattr(server, 'name', 'the server')}.", True)

    def _on_save_button_clicked(self) -> None:
        self.save_button.setEnabled(False)
        self.test_button.setEnabled(False)
        self._show_result("Saving…", None)
        self.tasks.start("save", self._save())

    # ---- background work

    async def _test(self, values: tuple[object, ...]) -> None:
        try:
            if self._edit is None:
                identity: ServerIdentity = await self._ctx.servers.probe(
                    self.new_server(), self.credentials()
                )
            else:
                check = await self._ctx.servers.probe_existing(
                    self._edit.name, self.new_server().url, self.edit_credentials()
                )
                identity, self.check = check.identity, check
                self.warning_label.setText(f"⚠ {check.warning}" if check.warning else "")
        except Exception as exc:
            failed = as_zondarr_error(exc)
            self._show_error(failed)
            err: ZondarrError | None = failed
        else:
            err = None
            self._tested = values
            self._show_result(
                f"Connected to {identity.name} ({identity.kind.value} {identity.version}).", True
            )
        finally:
            self.test_button.setEnabled(True)
            self._on_field_text_changed()
        if err is not None:  # the Errors page finds it by its reference
            await self._ctx.errors.record(err, self.name.text().strip() or None)

    async def _save(self) -> None:
        try:
            if self._edit is None:
                saved: object = await self._ctx.servers.add(self.new_server(), self.credentials())
            else:
                update: ServerUpdate = await self._ctx.servers.update(
                    self._edit.name, self.new_server().url, self.edit_credentials()
                )
                saved = update
        except Exception as exc:
            self._tested = None
            self._show_error(as_zondarr_error(exc))
            self.test_button.setEnabled(True)
            self._on_field_text_changed()
            return
        self.server_saved.emit(saved)
        self.accept()

    def _show_error(self, err: ZondarrError) -> None:
        fc = failure_class_of(err)
        self.failure_class = fc.value if fc is not None else None
        remedy = err.remedy or (REMEDIES[fc] if fc is not None else "")
        text = (
            (f"Failure: {TITLES[fc]} ({fc.value}).\n" if fc is not None else "")
            + err.user_message
            + (f"\n{remedy}" if remedy else "")
            + f"\nReference: {err.correlation_id}"
        )
        self._show_result(text, False)

    def _show_result(self, text: str, ok: bool | None) -> None:
        self.result_label.setObjectName({True: "testOk", False: "testFailed", None: "hint"}[ok])
        self.result_label.style().unpolish(self.result_label)  # re-polish for the new object name
        self.result_label.style().polish(self.result_label)
        self.result_label.setText(text)
        self.result_label.setAccessibleDescription(text)

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)
