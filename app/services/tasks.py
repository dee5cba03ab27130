"""Background tasks on an asyncio loop, Qt-free: expire invitations, re-sync users, expire accounts whose
duration ended, refresh stale caches. Each task has an interval, a next run, its last result and duration
(``task_runs``), Run now and Pause.

Pause is the admin's choice for the schedule and is kept in the cache's settings (key ``paused_tasks``): a
restarted app, or the CLI on the same data dir, keeps a paused task paused.

Catching up after sleep: the loop wakes at least every ``tick_s`` and compares the *wall clock* with each task's
next run, so a task that fell due while the machine slept (when the loop's monotonic timers stand still) runs
right after wake-up, once, not once per missed interval. Next runs start from the last finished run recorded,
so a restart does not run everything again.

Thread: construct and call on the loop thread. A task's failure is recorded and logged; it never stops the
scheduler or the other tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from app.core.errors import NotFoundError, ZondarrError
from app.core.models import TaskRun, TaskStatus
from app.core.ports import Clock, Runner, SettingsStore, TaskRunStore

log = logging.getLogger(__name__)

PAUSED_KEY = "paused_tasks"  # settings key: the paused task names, comma-separated
SUSPENDED_KEY = "tasks_suspended"  # settings key: "1" when the admin paused all background tasks (tray menu)

TaskBody = Callable[[], Awaitable[str]]  # returns the human summary of the run; raises on failure


@dataclass
class TaskSpec:
    name: str
    title: str
    interval_s: Callable[[], float]
    body: TaskBody
    first_delay_s: float = 0.0  # a task that never ran waits this long after start (0: runs at once)


@dataclass
class _State:
    spec: TaskSpec
    next_run_at: float | None = None
    paused: bool = False
    running: asyncio.Task[TaskRun] | None = None
    last: TaskRun | None = None


class TaskScheduler:
    def __init__(
        self,
        specs: Sequence[TaskSpec],
        *,
        runs: TaskRunStore,
        runner: Runner,
        clock: Clock = time.time,
        tick_s: float = 1.0,
        preferences: SettingsStore | None = None,
    ) -> None:
        """``preferences``: where pauses are kept across restarts (None: in this process only, for tests)."""
        self._states = {s.name: _State(s) for s in specs}
        self._preferences = preferences
        self._runs = runs
        self._runner = runner
        self._clock = clock
        self._tick_s = tick_s
        self._loaded = False
        self._wake = asyncio.Event()
        self._stopping = False
        self.suspended = (
            False  # every schedule held (the tray's "Pause background tasks"); Run now still works
        )

    @property
    def names(self) -> list[str]:
        return list(self._states)

    def _state(self, name: str) -> _State:
        state = self._states.get(name)
        if state is None:
            raise NotFoundError(
                f"There is no task {name!r}.", remedy=f"Pick one of: {', '.join(self._states)}."
            )
        return state

    async def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        now = self._clock()
        if self._preferences is not None:
            stored = await self._runner.read(self._preferences.load_raw)
            self.suspended = stored.get(SUSPENDED_KEY) == "1"
            for name in stored.get(PAUSED_KEY, "").split(","):
                if name in self._states:
                    self._states[name].paused = True
        for st in self._states.values():
            st.last = await self._runner.read(self._runs.last, st.spec.name)
            st.next_run_at = (
                now + st.spec.first_delay_s
                if st.last is None
                else max(now, st.last.started_at + st.spec.interval_s())
            )

    async def status(self) -> list[TaskStatus]:
        await self._load()
        return [
            TaskStatus(
                st.spec.name,
                st.spec.title,
                st.spec.interval_s(),
                None if st.paused else st.next_run_at,
                st.paused,
                st.running is not None and not st.running.done(),
                st.last,
            )
            for st in self._states.values()
        ]

    async def pause(self, name: str, paused: bool = True) -> None:
        """Pauses (or resumes) the task's schedule and keeps that choice in the cache; Run now still works while
        paused. Raises NotFoundError (unknown task), CacheError (the choice could not be saved: nothing changed)."""
        await self._load()
        st = self._state(name)
        if self._preferences is not None:
            names = {n for n, other in self._states.items() if other.paused and n != name}
            if paused:
                names.add(name)
            await self._runner.db(self._preferences.save_raw, {PAUSED_KEY: ",".join(sorted(names))})
        st.paused = paused
        if not paused:
            st.next_run_at = min(st.next_run_at or self._clock(), self._clock() + st.spec.interval_s())
        self._wake.set()

    async def suspend(self, suspended: bool = True) -> None:
        """Holds (or releases) every task's schedule at once and keeps that choice in the cache; per-task pauses
        stay as they are. Raises CacheError (the choice could not be saved: nothing changed)."""
        await self._load()
        if self._preferences is not None:
            await self._runner.db(self._preferences.save_raw, {SUSPENDED_KEY: "1" if suspended else "0"})
        self.suspended = suspended
        self._wake.set()

    async def run_now(self, name: str) -> TaskRun:
        """Runs the task at once (or waits for the run already going) and returns its recorded run."""
        await self._load()
        st = self._state(name)
        if st.running is None or st.running.done():
            st.running = asyncio.ensure_future(self._execute(st))
        return await asyncio.shield(st.running)

    async def _execute(self, st: _State) -> TaskRun:
        run = await self._runner.db(self._runs.start, st.spec.name)
        began = time.monotonic()
        try:
            run.message = await st.spec.body()
            run.status = "succeeded"
        except ZondarrError as err:
            run.status, run.message, run.correlation_id = "failed", err.user_message, err.correlation_id
            log.warning("task %s failed: %s | %s", st.spec.name, err.user_message, err.detail)
        except Exception as exc:  # a bug in one task: record it, keep scheduling
            run.status, run.message = "failed", f"unexpected failure: {type(exc).__name__}"
            log.exception("task %s crashed", st.spec.name)
        run.finished_at = run.started_at + (time.monotonic() - began)
        with contextlib.suppress(ZondarrError):  # the history is best effort; the schedule must go on
            await self._runner.db(self._runs.finish, run)
        st.last = run
        st.next_run_at = self._clock() + st.spec.interval_s()
        return run

    async def run_due(self) -> list[TaskRun]:
        """Runs (concurrently) every unpaused task whose next run is at or before the wall clock now."""
        await self._load()
        if self.suspended:
            return []
        now = self._clock()
        due = [
            st
            for st in self._states.values()
            if not st.paused
            and st.next_run_at is not None
            and st.next_run_at <= now
            and (st.running is None or st.running.done())
        ]
        for st in due:
            st.running = asyncio.ensure_future(self._execute(st))
        return list(await asyncio.gather(*(st.running for st in due if st.running is not None)))

    async def run_forever(self) -> None:
        """Schedules until ``stop()`` (or cancellation)."""
        await self._load()
        while not self._stopping:
            await self.run_due()
            upcoming = [st.next_run_at for st in self._states.values() if not st.paused and st.next_run_at]
            wait = (
                self._tick_s if not upcoming else max(0.0, min(self._tick_s, min(upcoming) - self._clock()))
            )
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
