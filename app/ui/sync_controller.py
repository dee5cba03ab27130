"""The JobController of DESIGN §2: asks ``ctx.sync.start(...)`` for a sync job (a named task it keeps) and speaks
Qt signals; "already syncing" is the service's answer, passed on as ``already_running``.

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
from app.services.sync import SyncJobResult
from app.ui.exception_hook import report_exception

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 0.1  # at most 10 progress signals a second


class SyncController(QObject):
    sync_started = Signal(str)  # trigger
    sync_progress = Signal(object)  # JobProgress
    sync_finished = Signal(object)  # SyncJobResult (any status: succeeded, partial, failed, cancelled)
    sync_failed = Signal(object)  # ZondarrError raised before any server ran (nothing to sync, a bug ...)
    already_running = Signal(str)  # the service's "already syncing" answer, to show; nothing was started

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.task: asyncio.Task[SyncJobResult] | None = None  # the job this controller started last
        self._jobs: set[asyncio.Task[SyncJobResult]] = set()  # strong references until each job ends
        self._cancel: CancelToken | None = None
        self._pending: JobProgress | None = None
        self._last_emit = 0.0
        self.trigger = ""
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.timeout.connect(self._on_flush_timer_timeout)

    def is_running(self) -> bool:
        """For display: whether a job this controller started still runs (not whether a sync may start)."""
        return any(not job.done() for job in self._jobs)

    @property
    def cancel_requested(self) -> bool:
        return self._cancel is not None and self._cancel.cancelled

    def start(
        self, names: Sequence[str] | None = None, trigger: str = "manual", *, allow_removals: bool = False
    ) -> bool:
        """Asks the service to start a sync job; returns whether one started. Whether a sync may start is the
        service's decision only: its AlreadyRunning (at once, or from the job when every requested server is
        synced elsewhere) is emitted as ``already_running`` and nothing is started."""
        cancel = CancelToken()
        try:
            job = self._ctx.sync.start(
                list(names or []),
                trigger=trigger,
                progress=self._on_progress,
                cancel=cancel,
                allow_removals=allow_removals,
            )
        except AlreadyRunning as err:
            self._emit_already_running(err)
            return False
        self._cancel = cancel
        self._pending = None
        self._last_emit = 0.0
        self.trigger = trigger
        self.task = job
        self._jobs.add(job)
        job.add_done_callback(self._on_job_done)
        self.sync_started.emit(trigger)
        return True

    def cancel(self) -> None:
        """Asks the running job to stop between pages; the cache keeps its previous content."""
        if self._cancel is not None:
            self._cancel.cancel()

    async def shutdown(self) -> None:
        """Cancels the jobs (token and task) and waits for them to clean up. Safe when nothing runs."""
        self._flush_timer.stop()
        jobs = [job for job in self._jobs if not job.done()]
        if not jobs:
            return
        self.cancel()
        for job in jobs:
            job.cancel()
        await asyncio.wait(jobs, timeout=10)  # bounded: see TaskGroup.shutdown

    def _emit_already_running(self, err: AlreadyRunning) -> None:
        self.already_running.emit(" ".join(part for part in (err.user_message, err.remedy) if part))

    def _on_job_done(self, job: asyncio.Task[SyncJobResult]) -> None:
        self._jobs.discard(job)
        if job.cancelled():
            return
        err = job.exception()
        if isinstance(err, AlreadyRunning):
            self._emit_already_running(err)
            return
        self._flush_timer.stop()
        if isinstance(err, ZondarrError):
            self.sync_failed.emit(err)
            return
        if err is not None:
            report_exception(err, where=job.get_name())
            return
        result = job.result()
        if self._pending is not None:
            self._emit(self._pending)
        log.info("sync job (%s) finished: %s", self.trigger, result.summary)
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
