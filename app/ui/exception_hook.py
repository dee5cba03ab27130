"""ONE handler for exceptions that escape Qt slots (``sys.excepthook``), asyncio tasks and loop callbacks.

Each is logged (with a correlation ID), shown in a non-blocking error dialog, and the app keeps running.
GUI thread only; ``install`` is called once by ``app.main``.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from app.core.errors import ZondarrError

log = logging.getLogger("app.ui.errors")

_show: Callable[[ZondarrError], None] | None = None


def as_zondarr_error(exc: BaseException) -> ZondarrError:
    """The error to show: a ZondarrError as it is, anything else as a generic one (its detail goes to the log)."""
    if isinstance(exc, ZondarrError):
        return exc
    return ZondarrError(
        "Something went wrong inside Zondarr. The app keeps running.",
        remedy="If it happens again, report it with this reference.",
        detail=f"{type(exc).__name__}: {exc}",
    )


def report_exception(exc: BaseException, where: str = "") -> ZondarrError:
    """Logs ``exc`` with a correlation ID and shows it (when a window installed a shower). Never raises."""
    err = as_zondarr_error(exc)
    log.error(
        "unhandled error in %s (ref %s): %s",
        where or "the app",
        err.correlation_id,
        err.detail or err.user_message,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    if _show is not None:
        try:
            _show(err)
        except Exception:  # the handler of last resort must not raise itself
            log.exception("could not show an error")
    return err


def _excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    report_exception(exc.with_traceback(tb), where="a Qt slot")


def _loop_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exc = context.get("exception")
    if exc is None:
        log.warning("event loop: %s", context.get("message", "unknown problem"))
        return
    if isinstance(exc, asyncio.CancelledError):
        return
    task = context.get("task") or context.get("future")
    report_exception(exc, where=getattr(task, "get_name", lambda: "an event loop callback")())


def install(loop: asyncio.AbstractEventLoop, show: Callable[[ZondarrError], None]) -> None:
    """Routes slot, task and callback exceptions to ``show`` (a non-blocking dialog) and the log."""
    global _show
    _show = show
    sys.excepthook = _excepthook
    loop.set_exception_handler(_loop_handler)


def uninstall(loop: asyncio.AbstractEventLoop | None = None) -> None:
    global _show
    _show = None
    sys.excepthook = sys.__excepthook__
    if loop is not None:
        loop.set_exception_handler(None)
