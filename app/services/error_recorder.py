"""Error transparency: every error the admin sees is stored as an error event (user message,
operator detail, correlation id, server, time) so the Errors view and ``zondarr errors --id`` can find it.

Coroutines run on the event loop thread; the write goes through ``Runner.db``. Recording never raises: a
failure to record is logged (redacted) and the original error stays what the caller reports.
"""

from __future__ import annotations

import logging
import time

from app.core.errors import ExternalServiceError, ZondarrError, new_correlation_id, redact
from app.core.health import ErrorEvent
from app.core.ports import Clock, ErrorEventStore, Runner

log = logging.getLogger(__name__)


def event_fields(err: BaseException, server: str | None = None) -> tuple[str, str, str, str, str | None]:
    """(correlation id, error type, user message, operator detail, server) of any exception, redacted.
    A non-Zondarr exception (a bug) gets a fresh correlation id and a generic message."""
    if isinstance(err, ZondarrError):
        message = err.user_message + (f" {err.remedy}" if err.remedy else "")
        detail = err.detail
        if err.failure_class:
            detail = f"[{err.failure_class}] {detail}".strip()
        if server is None and isinstance(err, ExternalServiceError):
            server = err.service_name
        return err.correlation_id, type(err).__name__, redact(message), redact(detail), server
    return (
        new_correlation_id(),
        type(err).__name__,
        "Something went wrong inside Zondarr.",
        redact(f"{type(err).__name__}: {err}"),
        server,
    )


class ErrorRecorder:
    """Stores error events and answers the Errors view. Reads (``list``, ``by_correlation``) block briefly and
    may run on any thread."""

    def __init__(self, store: ErrorEventStore, runner: Runner, clock: Clock = time.time) -> None:
        self._store = store
        self._runner = runner
        self._clock = clock

    async def record(self, err: BaseException, server: str | None = None) -> ErrorEvent | None:
        """Stores ``err`` as an error event (on the db-writer thread). Returns it, or None when storing failed."""
        cid, kind, message, detail, srv = event_fields(err, server)
        try:
            return await self._runner.db(self._store.add, cid, kind, message, detail, srv, self._clock())
        except Exception as exc:  # the original error matters more than its record
            log.warning("could not record error %s: %s", cid, redact(str(exc)))
            return None

    def by_correlation(self, correlation_id: str) -> list[ErrorEvent]:
        return self._store.by_correlation(correlation_id)

    def list(self, limit: int = 100, search: str | None = None) -> list[ErrorEvent]:
        """Newest first; ``search`` matches a correlation id prefix or text in message, detail or server."""
        return self._store.list(limit=limit, search=search)
