"""The first-sync progress dialog: stage, ``done / total``, percent, one line per server, and Cancel.

GUI thread only. It is a plain ``QDialog`` with a ``QProgressBar`` (not a ``QProgressDialog``, whose modal
``setValue`` re-enters the event loop), opened with ``open()`` — never ``exec()``. The main window creates it
once and feeds it from its one long-lived progress slot; ``cancel_requested`` is connected once as well.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.core.progress import JobProgress

STAGE_TEXT = {
    "connecting": "Connecting to servers…",
    "fetching": "Fetching tracks…",
    "processing": "Saving to the cache…",
    "finalizing": "Finishing…",
    "done": "Done",
}


class SyncDialog(QDialog):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncDialog")
        self.setWindowTitle("First sync")
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Zondarr is reading your servers' music libraries into its local cache for the first time."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.stage_label = QLabel(self)
        self.stage_label.setAccessibleName("Sync stage")
        font = self.stage_label.font()
        font.setBold(True)
        self.stage_label.setFont(font)
        layout.addWidget(self.stage_label)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.bar.setAccessibleName("Sync progress")
        layout.addWidget(self.bar)
        self.count_label = QLabel(self)
        self.count_label.setAccessibleName("Tracks synced")
        layout.addWidget(self.count_label)
        self.server_label = QLabel(self)
        self.server_label.setObjectName("serverLines")
        self.server_label.setAccessibleName("Per-server progress")
        layout.addWidget(self.server_label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = QPushButton("&Cancel", self)
        self.cancel_button.setAccessibleName("Cancel sync")
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self._servers: dict[str, str] = {}
        self.reset([])

    def reset(self, servers: list[str]) -> None:
        """Prepares for a new job over ``servers`` (names)."""
        self._servers = {name: "waiting" for name in servers}
        self.stage_label.setText(STAGE_TEXT["connecting"])
        self.count_label.setText("")
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("&Cancel")
        self._render_servers()

    def show_progress(self, p: JobProgress) -> None:
        self.stage_label.setText(STAGE_TEXT.get(p.stage.value, p.stage.value))
        if p.total > 0:
            self.bar.setRange(0, 100)
            self.bar.setValue(p.percent)
            self.count_label.setText(f"{p.done:,} / {p.total:,} tracks ({p.percent} %)")
        if p.server:
            line = p.stage.value + (f": {p.message}" if p.message else "")
            self._servers[p.server] = line
        if p.total > 0 and p.done >= p.total:
            # Every track of the job is fetched: no server line may still say it is fetching (or waiting).
            for name, state in self._servers.items():
                if state.split(":")[0] in ("waiting", "connecting", "fetching"):
                    self._servers[name] = "fetched, processing"
        self._render_servers()

    def text(self) -> str:
        """Everything the dialog says, for tests and screen readers."""
        return "\n".join((self.stage_label.text(), self.count_label.text(), self.server_label.text()))

    def _render_servers(self) -> None:
        self.server_label.setText("\n".join(f"{name} — {state}" for name, state in self._servers.items()))

    def _on_cancel_button_clicked(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.stage_label.setText("Cancelling… the cache stays as it was.")
        self.cancel_requested.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:  # Esc cancels the job instead of hiding a running dialog
            if self.cancel_button.isEnabled():
                self._on_cancel_button_clicked()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.isVisible() and self.cancel_button.isEnabled() and not getattr(self, "_closing", False):
            event.ignore()  # the window's close box cancels the job; the dialog closes when the job ends
            self._on_cancel_button_clicked()
            return
        super().closeEvent(event)

    def finish(self) -> None:
        """Closes the dialog (the job ended)."""
        self._closing = True
        try:
            self.done(QDialog.DialogCode.Accepted)
        finally:
            self._closing = False
