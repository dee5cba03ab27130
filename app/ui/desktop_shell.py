"""What makes Zondarr a desktop app that keeps working: the tray (status badge, menu), close-to-tray, desktop
notifications, live settings (theme, start at login) and the one-time crash notice.

Built by ``MainWindow.attach``; GUI (loop) thread only. Closing the window hides it when a tray exists and the
``close_to_tray`` setting is on: the scheduler keeps running; ``Quit`` (tray, menu, Ctrl+Q) ends everything.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication

from app.core.errors import ZondarrError
from app.core.settings import Settings
from app.ui.tasks import TaskGroup
from app.ui.theme import apply_theme
from app.ui.widgets.tray import Tray

if TYPE_CHECKING:
    from app.services.context import AppContext
    from app.services.sync import SyncJobResult
    from app.ui.main_window import MainWindow
    from app.ui.sync_controller import SyncController

log = logging.getLogger(__name__)

HINT_KEY = "tray/close_hint_shown"
HINT_TEXT = (
    "Zondarr keeps running in the tray and watches your servers. Quit it from the tray menu or File → Quit."
)


class DesktopShell(QObject):
    def __init__(self, window: MainWindow, ctx: AppContext, tray_available: bool | None = None) -> None:
        super().__init__(window)
        self._window = window
        self._ctx = ctx
        self.tasks = TaskGroup("desktop-shell")
        self.tray = Tray(self, tray_available)
        self.tray.open_requested.connect(self._on_tray_open_requested)
        self.tray.sync_requested.connect(self._on_tray_sync_requested)
        self.tray.pause_toggled.connect(self._on_tray_pause_toggled)
        self.tray.quit_requested.connect(window.quit)
        self._syncing = False
        self.tray.set_paused(ctx.people.tasks.suspended)
        ctx.notifications.set_desktop_channel(self.show_notification)
        ctx.preferences.add_listener(self._on_settings_changed)

    @property
    def settings(self) -> Settings:
        return self._ctx.preferences.current

    def keeps_running(self) -> bool:
        """Whether closing the window should hide it to the tray instead of quitting."""
        return self.tray.available and self.settings.close_to_tray

    def hidden_to_tray(self) -> None:
        """The window was just hidden by a close: the first time ever, a notification says where Zondarr went."""
        store = self._window.settings
        if not store.value(HINT_KEY, False, type=bool):
            store.setValue(HINT_KEY, True)
            self.tray.show_message("Zondarr is still running", HINT_TEXT)

    def update_state(self) -> None:
        """The badge: incident open > syncing > all up."""
        notifier = getattr(self._window, "health_notifier", None)
        incidents = bool(notifier is not None and notifier.open_incidents)
        self.tray.set_state("incident" if incidents else "syncing" if self._syncing else "ok")

    def set_syncing(self, syncing: bool) -> None:
        self._syncing = syncing
        self.update_state()

    def watch_sync(self, controller: SyncController) -> None:
        """The badge says "syncing" while a job runs; a failed or held sync is notified (kind ``sync``)."""
        controller.sync_started.connect(lambda _trigger: self.set_syncing(True))
        controller.sync_finished.connect(self._on_controller_sync_finished)
        controller.sync_failed.connect(self._on_controller_sync_failed)
        controller.already_running.connect(lambda _message: self.set_syncing(controller.is_running()))

    def _on_controller_sync_finished(self, result: SyncJobResult) -> None:
        self.set_syncing(False)
        troubled = [r for r in result.servers if r.status.value not in ("succeeded", "cancelled")]
        if result.status.value == "cancelled" or not troubled:
            return
        held = [r for r in troubled if r.status.value == "held"]
        title = "Sync held for your decision" if held and len(held) == len(troubled) else "Sync failed"
        if result.status.value == "partial" and not held:
            title = "Sync partly failed"
        lines = [f"{r.server}: {r.message or r.status.value}" for r in troubled]
        self._ctx.notifications.notify("sync", title, "\n".join(lines), warning=True)

    def _on_controller_sync_failed(self, err: ZondarrError) -> None:
        self.set_syncing(False)
        self._ctx.notifications.notify("sync", "Sync failed", err.user_message, warning=True)

    def show_notification(self, kind: str, title: str, text: str, warning: bool) -> None:
        """The notification service's desktop channel: a tray message, or a toast without a tray."""
        if not self.tray.available or not self.tray.show_message(title, text, warning):
            self._window.toasts.show_toast(text, "error" if warning else "success")

    def close(self) -> None:
        self._ctx.notifications.set_desktop_channel(None)
        self._ctx.preferences.remove_listener(self._on_settings_changed)
        self.tray.close()

    # ---- slots

    def _on_tray_open_requested(self) -> None:
        w = self._window
        w.setWindowState((w.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive)
        w.show()
        w.raise_()
        w.activateWindow()

    def _on_tray_sync_requested(self) -> None:
        self._window.sync.request_sync()

    def _on_tray_pause_toggled(self, paused: bool) -> None:
        self.tasks.start("suspend", self._suspend(paused), replace=True)

    async def _suspend(self, paused: bool) -> None:
        try:
            await self._ctx.people.tasks.suspend(paused)
        except ZondarrError as err:
            self.tray.set_paused(self._ctx.people.tasks.suspended)
            self._window.show_error(err)
            return
        state = "paused" if paused else "running again"
        self._window.toasts.show_toast(f"Background tasks {state}.", "info")

    def _on_settings_changed(self, old: Settings, new: Settings) -> None:
        if new.theme != old.theme:
            app = QApplication.instance()
            if isinstance(app, QApplication):
                apply_theme(app, new.theme)
        if new.start_at_login != old.start_at_login:
            self.tasks.start("login-entry", self._set_login_entry(new.start_at_login), replace=True)

    async def _set_login_entry(self, on: bool) -> None:
        entry = self._ctx.login_entry
        try:
            if on:
                await self._ctx.runner.net(entry.enable)
            else:
                await self._ctx.runner.net(entry.disable)
        except ZondarrError as err:
            self._window.show_error(err)
