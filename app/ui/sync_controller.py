"""The JobController of DESIGN §2: runs ``ctx.sync.sync(...)`` as one named task and speaks Qt signals.

GUI (event loop) thread only. ``JobProgress`` callbacks (on the loop thread) become ``sync_progress`` at most 10
times a second — the latest report wins, and the last one is always delivered before ``sync_finished``.
Connect ``sync_progress`` ONCE, with ``Qt.QueuedConnection``, to a long-lived slot (PLATFORM-NOTES "qasync").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer, Signal

from app.core.errors import AlreadyRunning, ZondarrError
from app.core.progress import CancelToken, JobProgress
from app.services.context import AppContext
from app.ui.tasks import event_loop

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 0.1  # at most 10 progress signals a second


class SyncController(QObject):
    sync_started = Signal(str)  # trigger
    sync_progress = Signal(object)  # JobProgress
    sync_finished = Signal(object)  # SyncJobResult (any status: succeeded, partial, failed, cancelled)
    sync_failed = Signal(object)  # ZondarrError raised before any server ran (nothing to sync, a bug ...)
    already_running = Signal(str)  # the message to show; nothing was started

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.task: asyncio.Task[None] | None = None
        self._cancel: CancelToken | None = None
        self._pending: JobProgress | None = None
        self._last_emit = 0.0
        self.trigger = ""
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.timeout.connect(self._on_flush_timer_timeout)

    def is_running(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel is not None and self._cancel.cancelled

    def start(
        self, names: Sequence[str] | None = None, trigger: str = "manual", *, allow_removals: bool = False
    ) -> bool:
        """Starts a sync job unless this controller's job runs (then emits ``already_running`` and returns
        False). Whether a server may be synced is the service's decision: it raises AlreadyRunning when another
        process (or another job of this one) syncs every requested server, emitted the same way."""
        if self.is_running():
            self.already_running.emit("Already syncing")
            return False
        self._cancel = CancelToken()
        self._pending = None
        self._last_emit = 0.0
        self.trigger = trigger
        self.task = event_loop().create_task(
            self._run(list(names or []), trigger, self._cancel, allow_removals), name="sync-job"
        )
        self.sync_started.emit(trigger)
        return True

    def cancel(self) -> None:
        """Asks the running job to stop between pages; the cache keeps its previous content."""
        if self._cancel is not None:
            self._cancel.cancel()

    async def shutdown(self) -> None:
        """Cancels the job (token and task) and waits for it to clean up. Safe when nothing runs."""
        self._flush_timer.stop()
        task = self.task
        if task is None or task.done():
            return
        self.cancel()
        task.cancel()
        await asyncio.wait([task], timeout=10)  # bounded: see TaskGroup.shutdown

    async def _run(self, names: list[str], trigger: str, cancel: CancelToken, allow_removals: bool) -> None:
        try:
            result = await self._ctx.sync.sync(
                names or None,
                trigger=trigger,
                progress=self._on_progress,
                cancel=cancel,
                allow_removals=allow_removals,
            )
        except AlreadyRunning as err:
            self.already_running.emit(f"Already syncing. {err.remedy}".strip())
            return
        except ZondarrError as err:
            self._flush_timer.stop()
            self.sync_failed.emit(err)
            return
        self._flush_timer.stop()
        if self._pending is not None:
            self._emit(self._pending)
        log.info("sync job (%s) finished: %s", trigger, result.summary)
        self.sync_finished.emit(result)

    def _on_progress(self, progress: JobProgress) -> None:
        self._pending = progress
        wait = MIN_INTERVAL_S - (time.monotonic() - self._last_emit)
        if wait <= 0:
            self._emit(progress)
        elif not self._flush_timer.isActive():
            self._flush_timer.start(max(1, int(wait * 1000)))

    def _on_flush_timer_timeout(self) -> None:
        if self._pending is not None and self.is_running():
            self._emit(self._pending)

    def _emit(self, progress: JobProgress) -> None:
        self._pending = None
        self._last_emit = time.monotonic()
        self.sync_progress.emit(progress)
