"""The non-blocking error dialog: the user message, its remedy and correlation ID, and "Copy details".

GUI thread only. Shown with ``show()`` (never ``exec()``), so the event loop and running jobs keep going.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.errors import ZondarrError


class ErrorDialog(QDialog):
    """Shows one error. ``details_text()`` is what "Copy details" puts on the clipboard (no secrets: the
    error's user message, remedy and correlation ID only)."""

    def __init__(
        self,
        message: str,
        remedy: str = "",
        correlation_id: str | None = None,
        parent: QWidget | None = None,
        title: str = "Something went wrong",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.message, self.remedy, self.correlation_id = message, remedy, correlation_id
        layout = QVBoxLayout(self)
        self.message_label = QLabel(message, self)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.message_label.font()
        font.setBold(True)
        self.message_label.setFont(font)
        layout.addWidget(self.message_label)
        self.remedy_label = QLabel(remedy, self)
        self.remedy_label.setWordWrap(True)
        self.remedy_label.setVisible(bool(remedy))
        layout.addWidget(self.remedy_label)
        self.ref_label = QLabel(f"Reference: {correlation_id}" if correlation_id else "", self)
        self.ref_label.setObjectName("hint")
        self.ref_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ref_label.setVisible(bool(correlation_id))
        layout.addWidget(self.ref_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self._buttons = buttons
        self.copy_button = QPushButton("&Copy details", self)
        self.copy_button.setAccessibleName("Copy error details")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def add_button(self, text: str, slot: Callable[[], object]) -> QPushButton:
        """One more action (e.g. "Save diagnostics bundle…"); clicking it runs ``slot`` and closes the dialog."""
        button = QPushButton(text, self)
        self._buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        button.clicked.connect(slot)
        button.clicked.connect(self.close)
        return button

    @classmethod
    def for_error(
        cls, err: ZondarrError, parent: QWidget | None = None, title: str | None = None
    ) -> ErrorDialog:
        return cls(err.user_message, err.remedy, err.correlation_id, parent, title or "Something went wrong")

    def details_text(self) -> str:
        lines = [self.message]
        if self.remedy:
            lines.append(self.remedy)
        if self.correlation_id:
            lines.append(f"Reference: {self.correlation_id}")
        return "\n".join(lines)

    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.details_text())
        self.copy_button.setText("Copied")
