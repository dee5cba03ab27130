"""Named asyncio tasks owned by a widget: kept in strong references, cancelled together on close.

GUI (event loop) thread only. An exception escaping a task goes to ``app.ui.exception_hook.report_exception``
(logged and shown; the app keeps running) instead of being lost with the task.

``asyncio`` is imported when a task is first started, not with this module: widgets create their groups while the
window is built for its first paint, which comes before the event loop exists (start-up phase 1, app/main.py).
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)


def event_loop() -> asyncio.AbstractEventLoop:
    """The loop the GUI runs on (qasync): the running one, else the thread's current one."""
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()


class TaskGroup:
    """Holds the tasks one owner started. Starting a task under a name already running cancels the older one
    when ``replace`` is true (the last request wins), else keeps both."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._tasks: set[asyncio.Task[Any]] = set()
        self._named: dict[str, asyncio.Task[Any]] = {}

    def start(self, name: str, coro: Coroutine[Any, Any, Any], *, replace: bool = False) -> asyncio.Task[Any]:
        old = self._named.get(name)
        if replace and old is not None and not old.done():
            old.cancel()
        task = event_loop().create_task(coro, name=f"{self._owner}:{name}")
        self._tasks.add(task)
        self._named[name] = task
        task.add_done_callback(self._on_task_done)
        return task

    def get(self, name: str) -> asyncio.Task[Any] | None:
        task = self._named.get(name)
        return task if task is not None and not task.done() else None

    def running(self) -> list[asyncio.Task[Any]]:
        return [t for t in self._tasks if not t.done()]

    def _on_task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            from app.ui.exception_hook import report_exception

            report_exception(exc, where=task.get_name())

    def cancel_all(self) -> list[asyncio.Task[Any]]:
        """Cancels every running task; returns them so the caller can await their end."""
        tasks = self.running()
        for t in tasks:
            t.cancel()
        return tasks

    async def shutdown(self, timeout: float = 2.0) -> None:
        """Cancels every task and waits up to ``timeout`` s for them to finish (exceptions are swallowed here).

        Bounded on purpose: under qasync a cancelled task whose executor result arrives at that very moment was
        seen (rarely) never to be woken again; shutdown must not hang on it (the task is abandoned and logged)."""
        tasks = self.cancel_all()
        if not tasks:
            return
        import asyncio

        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for t in pending:
            log.warning("task %s did not stop within %.1f s; abandoned at shutdown", t.get_name(), timeout)
