"""The warning banner above the pages: which servers are offline and how old their cached data is.

GUI thread only.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget


class OfflineBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAccessibleName("Offline servers")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        close = QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide this warning")
        close.setAccessibleName("Hide offline warning")
        close.clicked.connect(self.hide)
        layout.addWidget(close)
        self._lines: dict[str, str] = {}
        self.hide()

    def set_offline(self, server: str, text: str) -> None:
        """Adds or replaces the line of ``server`` and shows the banner."""
        self._lines[server] = text
        self._render()

    def clear_server(self, server: str) -> None:
        self._lines.pop(server, None)
        self._render()

    def text(self) -> str:
        return self.label.text()

    def _render(self) -> None:
        self.label.setText("\n".join(self._lines.values()))
        self.setVisible(bool(self._lines))
