"""The tray icon: Zondarr's status at a glance (all up / syncing / incident open) and a menu (Open Zondarr, Sync
now, Pause background tasks, Quit), plus the desktop notifications.

The icon exists only where the platform has a tray (``QSystemTrayIcon.isSystemTrayAvailable()``; tests pass
``available=True``). Without one, ``available`` is False, nothing is shown, and ``show_message`` returns False so
the caller falls back to a toast. GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.ui.theme import app_icon

# state -> (badge colour, tooltip)
STATES: dict[str, tuple[str, str]] = {
    "ok": ("#2e9d57", "Zondarr: all servers up"),
    "syncing": ("#3d7fd6", "Zondarr: syncing…"),
    "incident": ("#d64545", "Zondarr: a server has an open incident"),
}


def badged_icon(state: str, size: int = 64) -> QIcon:
    """The app icon with a coloured dot in its lower right corner saying ``state`` (one of ``STATES``)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    app_icon().paint(painter, 0, 0, size, size)
    dot = size * 0.42
    rect = QRectF(size - dot - 1, size - dot - 1, dot, dot)
    painter.setPen(QColor("#ffffff"))
    painter.setBrush(QColor(STATES[state][0]))
    painter.drawEllipse(rect)
    painter.end()
    return QIcon(pixmap)


class Tray(QObject):
    open_requested = Signal()
    sync_requested = Signal()
    pause_toggled = Signal(bool)  # True: background tasks paused
    quit_requested = Signal()

    def __init__(self, parent: QObject, available: bool | None = None) -> None:
        super().__init__(parent)
        self.available = QSystemTrayIcon.isSystemTrayAvailable() if available is None else available
        self.state = "ok"
        self.shown: list[tuple[str, str]] = []  # (title, text) of every message shown, oldest first (tests)
        self.menu = QMenu()
        self.open_action = self._add("&Open Zondarr", self.open_requested.emit)
        self.sync_action = self._add("&Sync now", self.sync_requested.emit)
        self.pause_action = self._add("&Pause background tasks", self._on_pause_action_triggered)
        self.pause_action.setCheckable(True)
        self.menu.addSeparator()
        self.quit_action = self._add("&Quit", self.quit_requested.emit)
        self.icon = QSystemTrayIcon(badged_icon("ok"), self)
        self.icon.setToolTip(STATES["ok"][1])
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_icon_activated)
        if self.available:
            self.icon.show()

    def _add(self, text: str, slot: object) -> QAction:
        action = QAction(text, self.menu)
        action.triggered.connect(slot)
        self.menu.addAction(action)
        return action

    def set_state(self, state: str) -> None:
        """Shows ``state`` (``ok``, ``syncing`` or ``incident``) in the icon's badge and tooltip."""
        if state == self.state:
            return
        self.state = state
        self.icon.setIcon(badged_icon(state))
        self.icon.setToolTip(STATES[state][1])

    def set_paused(self, paused: bool) -> None:
        """Shows the background tasks' state in the menu (no signal)."""
        self.pause_action.setChecked(paused)
        self.pause_action.setText("Resume background tasks" if paused else "&Pause background tasks")

    def show_message(self, title: str, text: str, warning: bool = False) -> bool:
        """A desktop notification; False when there is no tray (the caller shows a toast instead)."""
        if not self.available:
            return False
        self.shown.append((title, text))
        icon = QSystemTrayIcon.MessageIcon.Warning if warning else QSystemTrayIcon.MessageIcon.Information
        self.icon.showMessage(title, text, icon, 8000)
        return True

    def close(self) -> None:
        self.icon.hide()

    def _on_pause_action_triggered(self) -> None:
        paused = self.pause_action.isChecked()
        self.set_paused(paused)
        self.pause_toggled.emit(paused)

    def _on_icon_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()
