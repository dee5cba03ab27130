"""Progress reporting and cancellation for long jobs. Qt-free; the UI adapts these at its edge."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from app.core.errors import JobCancelled
from app.core.models import SyncStage


@dataclass(frozen=True, slots=True)
class JobProgress:
    """One progress report. ``done``/``total`` count tracks across the whole job (all servers)."""

    stage: SyncStage
    done: int
    total: int
    server: str | None = None
    message: str = ""

    @property
    def percent(self) -> int:
        return 0 if self.total <= 0 else min(100, int(self.done * 100 / self.total))


ProgressCallback = Callable[[JobProgress], None]


def no_progress(_: JobProgress) -> None:
    """A ProgressCallback that ignores reports."""


class CancelToken:
    """A flag checked between pages. Thread-safe: set from the loop, read from worker threads."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raises JobCancelled when cancel() was called."""
        if self._event.is_set():
            raise JobCancelled()
