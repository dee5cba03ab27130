"""Incident alerts for the desktop: a tray message (``QSystemTrayIcon``, when the platform has a tray) or else a
toast, exactly once per incident opening and once per closing.

GUI (loop) thread only: ``HealthService`` calls the alert callback from its coroutines on the loop thread.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from app.services.health import IncidentAlert
from app.ui.theme import app_icon


class HealthNotifier:
    def __init__(self, parent: QWidget, fallback: Callable[[str, str], object]) -> None:
        self._fallback = fallback
        self._seen: set[tuple[int, bool]] = set()
        self.shown: list[str] = []  # every message shown, oldest first (tests read it)
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), parent)
            self.tray.setToolTip("Zondarr")
            self.tray.show()

    def __call__(self, alert: IncidentAlert) -> None:
        key = (alert.incident.id, alert.opened)
        if key in self._seen:
            return
        self._seen.add(key)
        title = "Server problem" if alert.opened else "Server back up"
        self.shown.append(alert.message)
        if self.tray is not None:
            icon = (
                QSystemTrayIcon.MessageIcon.Warning
                if alert.opened
                else QSystemTrayIcon.MessageIcon.Information
            )
            self.tray.showMessage(title, alert.message, icon, 8000)
        else:
            self._fallback(alert.message, "error" if alert.opened else "success")

    def close(self) -> None:
        if self.tray is not None:
            self.tray.hide()
