"""Sign in a device: the person starts Quick Connect in their Jellyfin app and reads out the 6-digit code; the
admin types it here and Zondarr approves it as their account. Nothing secret is typed, shown or sent.

GUI thread only. The approval runs as a named task through the device sign-in service (network on the runner's
pool); the dialog is opened with ``show()`` and never blocks the event loop.
"""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.core.models import User
from app.services.context import AppContext
from app.services.people_common import Outcome
from app.ui.exception_hook import as_zondarr_error
from app.ui.tasks import TaskGroup


class DeviceSignInDialog(QDialog):
    signed_in = Signal(object)  # Outcome

    def __init__(self, ctx: AppContext, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._user = user
        self.outcome: Outcome | None = None
        self.tasks = TaskGroup("device-signin")
        self.setWindowTitle(f"Sign in a device — {user.username}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        steps = QLabel(
            f"<b>Sign in {user.username}'s TV, phone or computer on {user.server}</b><br>"
            "1. On the device, open the Jellyfin app, add this server and choose <i>Quick Connect</i>.<br>"
            "2. Type the 6-digit code it shows below. The device is then signed in as "
            f"{user.username} — no password needed.",
            self,
        )
        steps.setWordWrap(True)
        steps.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(steps)
        row = QHBoxLayout()
        label = QLabel("&Code:", self)
        self.code = QLineEdit(self)
        self.code.setAccessibleName("Quick Connect code")
        self.code.setPlaceholderText("123456")
        self.code.setMaxLength(6)
        self.code.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,6}"), self.code))
        font = self.code.font()
        font.setPointSize(font.pointSize() + 8)
        font.setLetterSpacing(font.SpacingType.AbsoluteSpacing, 6)
        self.code.setFont(font)
        label.setBuddy(self.code)
        row.addWidget(label)
        row.addWidget(self.code, 1)
        layout.addLayout(row)
        self.status = QLabel("Codes last about 10 minutes.", self)
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        close = QPushButton("Close", self)
        close.clicked.connect(self.close)
        self.sign_in_button = QPushButton("&Sign in the device", self)
        self.sign_in_button.setObjectName("primary")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setEnabled(False)
        self.sign_in_button.clicked.connect(self._on_sign_in_clicked)
        buttons.addWidget(close)
        buttons.addWidget(self.sign_in_button)
        layout.addLayout(buttons)
        self.code.textChanged.connect(self._on_code_text_changed)

    def closeEvent(self, event: object) -> None:
        self.tasks.cancel_all()
        super().closeEvent(event)  # type: ignore[arg-type]

    def _on_code_text_changed(self, text: str) -> None:
        self.sign_in_button.setEnabled(len(text) == 6)

    def _set_status(self, text: str, ok: bool | None) -> None:
        self.status.setObjectName({True: "testOk", False: "testFailed", None: "hint"}[ok])
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.status.setText(text)
        self.status.setAccessibleDescription(text)

    def _on_sign_in_clicked(self) -> None:
        self.sign_in_button.setEnabled(False)
        self._set_status("Signing in the device…", None)
        self.tasks.start("authorize", self._authorize(self.code.text()), replace=True)

    async def _authorize(self, code: str) -> None:
        devices = self._ctx.people.devices
        assert devices is not None
        try:
            outcome = await devices.authorize(self._user.server, self._user.remote_id, code)
        except Exception as exc:
            err = as_zondarr_error(exc)
            self._set_status(f"{err.user_message} (reference {err.correlation_id})", False)
            self.sign_in_button.setEnabled(True)
            return
        self.outcome = outcome
        if outcome.ok:
            self._set_status(f"Done: {outcome.message} They can start watching and listening.", True)
            self.signed_in.emit(outcome)
        else:
            ref = (outcome.error or {}).get("correlation_id")
            self._set_status(outcome.message + (f" (reference {ref})" if ref else ""), False)
            self.sign_in_button.setEnabled(True)
