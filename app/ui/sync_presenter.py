"""Sync UX of the main window: decides modal vs background sync, feeds the footer, the first-sync dialog and
the offline banner, and checks at start which servers are offline or stale (DESIGN §4).

GUI (event loop) thread only. Progress arrives through ONE queued connection to ``_on_controller_sync_progress``
(long-lived), which updates whichever of footer/dialog is current (PLATFORM-NOTES "qasync").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from app.core.errors import ServerUnreachable, ZondarrError
from app.core.filters import TrackFilter
from app.core.models import Server, ServerSyncResult, SyncStatus
from app.core.progress import JobProgress
from app.services.context import AppContext
from app.services.sync import SyncJobResult
from app.ui.dialogs.error_dialog import ErrorDialog
from app.ui.dialogs.sync_dialog import SyncDialog
from app.ui.exception_hook import as_zondarr_error
from app.ui.sync_controller import SyncController
from app.ui.tasks import TaskGroup
from app.ui.widgets.offline_banner import OfflineBanner
from app.ui.widgets.status_footer import StatusFooter, relative_time
from app.ui.widgets.toasts import ToastHost

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CacheState:
    servers: list[Server]
    tracks: int

    @property
    def last_synced_at(self) -> float | None:
        """The OLDEST last sync among enabled servers that were synced (so the footer never overstates
        freshness); None when none was ever synced."""
        times = [s.last_synced_at for s in self.servers if s.enabled and s.last_synced_at is not None]
        return min(times) if times else None


class SyncPresenter(QObject):
    cache_changed = Signal(bool)  # pages should reload; True when a job ended (the library too)
    no_servers = Signal()  # a sync was asked for with no server configured

    def __init__(
        self,
        ctx: AppContext,
        window: QWidget,
        footer: StatusFooter,
        banner: OfflineBanner,
        toasts: ToastHost,
    ) -> None:
        super().__init__(window)
        self._ctx = ctx
        self._window = window
        self.footer = footer
        self.banner = banner
        self.toasts = toasts
        self.tasks = TaskGroup("sync-presenter")
        self.state = CacheState([], 0)
        self.last_result: SyncJobResult | None = None
        self.modal = False
        self.error_dialogs: list[ErrorDialog] = []
        self.held_box: QMessageBox | None = None  # the last "Apply anyway / Keep" question
        self.controller = SyncController(ctx, self)
        self.dialog = SyncDialog(window)
        # connected once, for the life of the window (never per dialog)
        self.controller.sync_progress.connect(
            self._on_controller_sync_progress, Qt.ConnectionType.QueuedConnection
        )
        self.controller.sync_started.connect(self._on_controller_sync_started)
        self.controller.sync_finished.connect(self._on_controller_sync_finished)
        self.controller.sync_failed.connect(self._on_controller_sync_failed)
        self.controller.already_running.connect(self._on_controller_already_running)
        self.dialog.cancel_requested.connect(self.controller.cancel)
        self.footer.action_requested.connect(self._on_footer_action_requested)

    # ---- state

    async def read_state(self) -> CacheState:
        ctx = self._ctx
        servers = await ctx.runner.read(ctx.server_store.list)
        tracks = await ctx.runner.read(ctx.tracks.count, TrackFilter())
        self.state = CacheState(servers, tracks)
        return self.state

    async def refresh_footer(self) -> None:
        """Re-reads the cache state; shows the idle text unless the footer reports a failure or a cancel."""
        state = await self.read_state()
        if not self.controller.is_running() and self.footer.state in ("idle", "syncing"):
            self.footer.set_idle(state.tracks, state.last_synced_at)

    # ---- start of the app

    async def startup(self, background_jobs: bool = True) -> None:
        """Shows the footer; with ``background_jobs``: first sync (modal) on an empty cache, background refresh
        of stale servers, and a quick connection test of every server for the offline banner."""
        state = await self.read_state()
        self.footer.set_idle(state.tracks, state.last_synced_at)
        if not background_jobs or not state.servers:
            return
        enabled = [s for s in state.servers if s.enabled]
        if state.tracks == 0 and any(s.last_synced_at is None for s in enabled):
            self.request_sync(trigger="startup")
        else:
            stale = await self._ctx.runner.read(self._ctx.sync.stale_servers)
            if stale:
                self.request_sync([s.name for s in stale], trigger="stale")
        for s in enabled:
            self.tasks.start(f"check:{s.name}", self._check_server(s))

    async def _check_server(self, server: Server) -> None:
        try:
            await self._ctx.servers.test(server.name)
        except ZondarrError as err:
            if server.last_synced_at is None:
                age = "no cached data yet"
            else:
                age = f"showing data from {relative_time(server.last_synced_at, self._ctx.clock())}"
            if isinstance(err, ServerUnreachable):
                text = f"{server.name} is offline — {age}"
            else:
                text = f"{err.user_message.rstrip('.')} — {age}"
            log.info("start-up check of %s failed (ref %s)", server.name, err.correlation_id)
            self.banner.set_offline(server.name, text)
            self.banner.setToolTip(f"{err.display()}")
        else:
            self.banner.clear_server(server.name)

    # ---- sync

    def request_sync(
        self, names: Sequence[str] | None = None, trigger: str = "manual", *, allow_removals: bool = False
    ) -> bool:
        """Refresh (toolbar, Ctrl+R, footer link): modal on an empty cache, background otherwise. A second
        request the service refuses (already syncing) starts nothing: the controller answers ``already_running`` (a
        toast); the dialog and the modal state change only for a job that started."""
        if not self.state.servers:
            self.toasts.show_toast("Add a server first.", "info")
            self.no_servers.emit()
            return False
        modal = self.state.tracks == 0
        started = self.controller.start(names, trigger, allow_removals=allow_removals)
        if started:  # the job's task runs from the next loop turn: nothing of it reached the dialog yet
            self.modal = modal
            if modal:
                targets = [n for n in names] if names else [s.name for s in self.state.servers if s.enabled]
                self.dialog.reset(targets)
                self.dialog.open()
        return started

    def _on_controller_sync_started(self, trigger: str) -> None:
        self.footer.set_syncing(0, 0)
        self.cache_changed.emit(False)  # server statuses show "syncing…"

    def _on_controller_sync_progress(self, progress: JobProgress) -> None:
        if not self.controller.is_running():
            return  # a late queued report after the end must not overwrite the final footer
        self.footer.set_syncing(progress.done, progress.total)
        if self.dialog.isVisible():
            self.dialog.show_progress(progress)

    def _on_controller_already_running(self, message: str) -> None:
        self.toasts.show_toast(message, "info")
        if self.controller.is_running():
            return
        # the service refused a job that had started (every server it asked for is synced by another process)
        self.modal = False
        if self.dialog.isVisible():
            self.dialog.finish()
        self.tasks.start("refresh-footer", self.refresh_footer(), replace=True)

    def _on_controller_sync_finished(self, result: SyncJobResult) -> None:
        self.last_result = result
        was_modal, self.modal = self.modal, False
        if self.dialog.isVisible():
            self.dialog.finish()
        answered = (SyncStatus.SUCCEEDED, SyncStatus.PARTIAL, SyncStatus.HELD)
        failed = [r for r in result.servers if r.status not in answered]
        held = [r for r in result.servers if r.status is SyncStatus.HELD]
        for r in result.servers:
            if r.status in answered:
                self.banner.clear_server(r.server)  # it answered: no longer offline
        if result.status is SyncStatus.CANCELLED:
            self.footer.set_cancelled()
            self.toasts.show_toast("Sync cancelled. Nothing was changed.", "info")
        elif result.status is SyncStatus.FAILED:
            first = next((r.error for r in failed if r.error is not None), None)
            if first is None:
                first = ZondarrError(result.summary)
            self.footer.set_failed(first.user_message, first.correlation_id)
            if was_modal:
                self._show_error(first)
            else:
                self.toasts.show_toast(result.summary, "error")
        elif failed:
            tip = "\n".join(f"{r.server}: {r.message}" for r in failed)
            self.footer.set_partial(len(result.servers) - len(failed), len(result.servers), len(failed), tip)
            self.toasts.show_toast(result.summary, "error")
        else:
            self.footer.set_idle(self.state.tracks, self.state.last_synced_at)
            self.toasts.show_toast(result.summary, "success")
        if held:
            self.ask_about_held(held)
        self.tasks.start("refresh-footer", self.refresh_footer(), replace=True)
        self.cache_changed.emit(True)

    def ask_about_held(self, held: Sequence[ServerSyncResult]) -> QMessageBox:
        """A non-blocking question for runs held by the removal floor: "Apply anyway" syncs those servers again
        allowing the removals; "Keep" leaves the cache as it is. Returns the box (tests click it)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Sync held",
            "\n\n".join(f"{r.server}: {r.message}" for r in held),
            parent=self._window,
        )
        apply = box.addButton("Apply anyway", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        names = [r.server for r in held]

        def on_finished(_code: int) -> None:
            if box.clickedButton() is apply:
                self.request_sync(names, allow_removals=True)

        box.finished.connect(on_finished)
        box.open()
        self.held_box = box
        return box

    def _on_controller_sync_failed(self, err: ZondarrError) -> None:
        self.modal = False
        if self.dialog.isVisible():
            self.dialog.finish()
        self.footer.set_failed(err.user_message, err.correlation_id)
        self._show_error(err)
        self.cache_changed.emit(True)

    def _on_footer_action_requested(self, action: str) -> None:
        if action == "details":
            self.show_details()
        else:
            self.request_sync()

    def show_details(self) -> None:
        """The per-server outcome of the last job in a non-blocking dialog."""
        result = self.last_result
        if result is None:
            return
        lines = [
            f"{r.server}: {r.status.value}" + (f" — {r.message}" if r.message else "") for r in result.servers
        ]
        refs = [r.error.correlation_id for r in result.servers if r.error is not None]
        dialog = ErrorDialog(
            result.summary, "\n".join(lines), ", ".join(refs) or None, self._window, title="Sync details"
        )
        self.show_error_dialog(dialog)

    def _show_error(self, err: ZondarrError | BaseException) -> None:
        self.show_error_dialog(ErrorDialog.for_error(as_zondarr_error(err), self._window))

    def show_error_dialog(self, dialog: ErrorDialog) -> None:
        """Shows ``dialog`` (non-modal) and keeps it alive until it is closed: the sync's and the window's error
        dialogs, listed in ``error_dialogs``. GUI thread."""
        self.error_dialogs = [d for d in self.error_dialogs if shiboken6.isValid(d) and d.isVisible()]
        self.error_dialogs.append(dialog)
        dialog.show()

    async def shutdown(self) -> None:
        await self.controller.shutdown()
        await self.tasks.shutdown()
        await asyncio.sleep(0)
