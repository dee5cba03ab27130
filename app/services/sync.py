"""The sync job: refreshes the cache from every server (DESIGN §4). Qt-free; runs on any asyncio loop.

This module decides which servers a job syncs ("already syncing" is decided here only: the requests of this
process's running jobs, the in-process set of servers and the cross-process ``JobLocks``), runs one
``ServerSync`` per server concurrently (it owns that server's run from start to finish) and sums up the outcomes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from app.core.errors import AlreadyRunning, ConfigurationError
from app.core.models import MergeCounts, Server, ServerSyncResult, SyncRun, SyncStatus
from app.core.ports import (
    ClientFactory,
    Clock,
    JobLocks,
    Runner,
    SecretStore,
    ServerStore,
    SyncRunStore,
    TrackStore,
    UserStore,
)
from app.core.progress import CancelToken, JobProgress, ProgressCallback, no_progress
from app.core.settings import Settings
from app.services.connector import Connector
from app.services.error_recorder import ErrorRecorder
from app.services.server_moves import ServerMoves
from app.services.server_sync import ServerSync, SyncPorts
from app.services.user_policy import UserPolicy

log = logging.getLogger(__name__)
_Lock = AbstractContextManager[None]


@dataclass(frozen=True, slots=True)
class SyncJobResult:
    """The outcome of one sync job over one or more servers."""

    status: SyncStatus
    servers: tuple[ServerSyncResult, ...]
    summary: str
    counts: MergeCounts = field(default_factory=MergeCounts)

    @property
    def exit_code(self) -> int:
        """DESIGN §6: 0 success, 1 failure, 3 partial success (a held run is one: nothing of it was applied)."""
        return {SyncStatus.SUCCEEDED: 0, SyncStatus.PARTIAL: 3, SyncStatus.HELD: 3}.get(self.status, 1)

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status.value,
            "summary": self.summary,
            "added": self.counts.added,
            "updated": self.counts.updated,
            "removed": self.counts.removed,
            "unchanged": self.counts.unchanged,
            "servers": [
                {
                    "server": r.server,
                    "status": r.status.value,
                    "run_id": r.run_id,
                    "total": r.total,
                    "added": r.counts.added,
                    "updated": r.counts.updated,
                    "removed": r.counts.removed,
                    "unchanged": r.counts.unchanged,
                    "failed_items": r.failed_items,
                    "message": r.message,
                    "error": None if r.error is None else r.error.to_dict(),
                    "libraries": [
                        {
                            "library": i.title,
                            "key": i.key,
                            "mode": i.mode,
                            "fetched": i.fetched,
                            "requests": i.requests,
                            "deleted": i.deleted,
                        }
                        for i in r.libraries
                    ],
                }
                for r in self.servers
            ],
        }


@dataclass(slots=True)
class _JobProgress:
    """One job-wide report from the runs of the job: each run's ``done``/``total`` is the only count."""

    callback: ProgressCallback
    runs: dict[str, SyncRun] = field(default_factory=dict)

    def report(self, server: str, run: SyncRun) -> None:
        self.runs[server] = run
        done = sum(r.done for r in self.runs.values())
        total = sum(r.total for r in self.runs.values())
        self.callback(JobProgress(run.stage, done, total, server))


class SyncService:
    """Runs sync jobs. Call ``sync()`` from the event loop thread; blocking work goes through the runner."""

    def __init__(
        self,
        *,
        servers: ServerStore,
        tracks: TrackStore,
        users: UserStore,
        runs: SyncRunStore,
        secrets: SecretStore,
        clients: ClientFactory,
        locks: JobLocks,
        runner: Runner,
        settings: Settings,
        clock: Clock = time.time,
        errors: ErrorRecorder | None = None,
        policy: UserPolicy | None = None,
        moves: ServerMoves | None = None,
    ) -> None:
        """``policy``: which accounts the users cache keeps (exclusions, remembered shares); None = as listed.
        ``moves``: a Plex server that moved is found again through plex.tv."""
        self._errors = errors
        self._servers = servers
        self._tracks = tracks
        self._users = users
        self._runs = runs
        self._locks = locks
        self._runner = runner
        self._settings = settings
        self._clock = clock
        connector = Connector(secrets, clients, runner, policy, moves)
        self._ports = SyncPorts(servers, tracks, users, runs, connector, runner, settings, clock)
        self._in_flight: set[int] = set()
        # What each running job of this process was asked for (None: every enabled server), so that a request
        # one of them already covers is refused at once, before anything is read or locked.
        self._requests: list[frozenset[str] | None] = []

    def is_syncing(self, server_id: int) -> bool:
        """True while this process syncs the server (other processes are seen only by ``sync()``)."""
        return server_id in self._in_flight

    def stale_servers(self) -> list[Server]:
        """Enabled servers never synced or last synced longer ago than ``stale_after_h``."""
        limit = self._clock() - self._settings.stale_after_h * 3600
        return [
            s
            for s in self._servers.list()
            if s.enabled and (s.last_synced_at is None or s.last_synced_at < limit)
        ]

    async def sync(
        self,
        names: Sequence[str] | None = None,
        *,
        trigger: str = "manual",
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        allow_removals: bool = False,
        full: bool = False,
    ) -> SyncJobResult:
        """Syncs the named servers (all enabled ones when ``names`` is empty) concurrently. A library listed
        completely before is refreshed with only what changed since (DESIGN §4.2) unless ``full``.

        Raises NotFoundError for an unknown name, ConfigurationError when there is nothing to sync, and
        AlreadyRunning when every requested server is being synced already (nothing is started then).
        Per-server failures do not raise: they are in the result (status failed/partial/cancelled/held).
        ``allow_removals``: apply listings that would remove more than ``max_removal_pct`` (a held run).
        """
        job = self.start(
            names, trigger=trigger, progress=progress, cancel=cancel, allow_removals=allow_removals, full=full
        )
        return await job

    def start(
        self,
        names: Sequence[str] | None = None,
        *,
        trigger: str = "manual",
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        allow_removals: bool = False,
        full: bool = False,
    ) -> asyncio.Task[SyncJobResult]:
        """``sync()`` as a task named ``sync-job``, returned to the caller, who keeps it (and may cancel it).
        Loop thread, from inside the running loop.

        Raises AlreadyRunning at once, starting nothing, when a running job of this process was asked for the same
        servers (every enabled one, or a superset of ``names``); otherwise the task decides as ``sync()`` does
        (it raises AlreadyRunning when every requested server is synced by this or another process).
        """
        request = frozenset(names) if names else None
        if any(_covers(running, request) for running in self._requests):
            raise AlreadyRunning("Already syncing", remedy="")
        self._requests.append(request)
        job = asyncio.get_running_loop().create_task(
            self._job(list(names or []), trigger, progress, cancel or CancelToken(), allow_removals, full),
            name="sync-job",
        )
        # a done callback, not a finally: it runs even when the task is cancelled before its first step
        job.add_done_callback(lambda _job: self._requests.remove(request))
        return job

    async def _job(
        self,
        names: list[str],
        trigger: str,
        progress: ProgressCallback,
        cancel: CancelToken,
        allow_removals: bool,
        full: bool,
    ) -> SyncJobResult:
        if names:
            targets = [(await self._runner.read(self._servers.get_by_name, n)) for n in names]
        else:
            targets = [s for s in (await self._runner.read(self._servers.list)) if s.enabled]
        # A draft server was never verified by a Test connection: syncing it would use unchecked settings.
        drafts = [s for s in targets if s.status != "verified"]
        targets = [s for s in targets if s.status == "verified"]
        if not targets and not drafts:
            raise ConfigurationError(
                "There is no server to sync.",
                remedy="Add one with `zondarr server add` (or the Servers page).",
            )
        refused = [_draft_result(s) for s in drafts]
        if not targets:
            return _summarise(refused)
        runnable, busy, held = await self._claim(targets)
        try:
            if not runnable:
                names_text = ", ".join(s.name for s in busy)
                raise AlreadyRunning(f"Already syncing {names_text}.", remedy="Wait for that sync to finish.")
            job = _JobProgress(progress)
            self._in_flight.update(s.id for s in runnable)
            try:
                results = await asyncio.gather(
                    *(self._sync_one(s, trigger, job, cancel, allow_removals, full) for s in runnable)
                )
            finally:
                self._in_flight.difference_update(s.id for s in runnable)
        finally:
            for lock in held:  # a file unlock: off the loop, and done even when the job is cancelled
                await asyncio.shield(self._runner.net(lock.__exit__, None, None, None))
        skipped = [ServerSyncResult(s.name, SyncStatus.FAILED, None, message="already syncing") for s in busy]
        return _summarise([*results, *skipped, *refused])

    async def _claim(self, targets: list[Server]) -> tuple[list[Server], list[Server], list[_Lock]]:
        """Takes the per-server locks of ``targets`` as one step (under a short-lived gate lock, so two processes
        starting together never split the servers between them). Returns (claimed, busy, held locks)."""
        for _ in range(40):  # the gate is held only for microseconds; wait up to ~2 s for it
            claimed = await self._runner.net(self._claim_now, targets, frozenset(self._in_flight))
            if claimed is not None:
                return claimed
            await asyncio.sleep(0.05)
        raise AlreadyRunning("Another sync is starting right now.", remedy="Try again in a moment.")

    def _claim_now(
        self, targets: list[Server], in_flight: frozenset[int]
    ) -> tuple[list[Server], list[Server], list[_Lock]] | None:
        """Blocking (file locks): None when another process holds the gate."""
        gate = self._locks.try_acquire("sync-gate")
        if gate is None:
            return None
        runnable: list[Server] = []
        busy: list[Server] = []
        held: list[_Lock] = []
        with gate:
            for server in targets:
                lock = None if server.id in in_flight else self._locks.try_acquire(f"sync-{server.id}")
                if lock is None:
                    busy.append(server)
                else:
                    held.append(lock)
                    runnable.append(server)
        return runnable, busy, held

    async def _sync_one(
        self,
        server: Server,
        trigger: str,
        job: _JobProgress,
        cancel: CancelToken,
        allow_removals: bool,
        full: bool,
    ) -> ServerSyncResult:
        run = ServerSync(
            server=server,
            trigger=trigger,
            full=full,
            ports=self._ports,
            cancel=cancel,
            report=lambda r: job.report(server.name, r),
            allow_removals=allow_removals,
            errors=self._errors,
        )
        return await run.execute()


def _covers(running: frozenset[str] | None, request: frozenset[str] | None) -> bool:
    """True when a job asked for ``running`` syncs everything ``request`` asks for (None: every enabled server;
    named servers may be disabled ones, so "every enabled server" is not taken to cover them)."""
    if running is None:
        return request is None
    return request is not None and request <= running


def _draft_result(server: Server) -> ServerSyncResult:
    err = ConfigurationError(
        f"{server.name}: not synced, the server was never verified.",
        remedy="Run Test connection (`zondarr server test NAME`); a verified server is synced.",
    )
    return ServerSyncResult(server.name, SyncStatus.FAILED, None, message=err.user_message, error=err)


def _failure_line(r: ServerSyncResult) -> str:
    """What happened to one server, what to do, and the reference (the per-server part of a summary)."""
    if r.error is None:
        return f"{r.server}: {r.message or 'failed'}"
    text = r.error.user_message
    if not text.startswith(r.server):
        text = f"{r.server}: {text}"
    if r.error.remedy:
        text += f" {r.error.remedy}"
    return f"{text} (ref {r.error.correlation_id})"


def _summarise(results: list[ServerSyncResult]) -> SyncJobResult:
    total = len(results)
    ok = [r for r in results if r.status in (SyncStatus.SUCCEEDED, SyncStatus.PARTIAL, SyncStatus.HELD)]
    failed = [r for r in results if r not in ok]
    counts = MergeCounts(
        added=sum(r.counts.added for r in results),
        updated=sum(r.counts.updated for r in results),
        removed=sum(r.counts.removed for r in results),
        unchanged=sum(r.counts.unchanged for r in results),
    )
    changes = f"{counts.added:,} added, {counts.updated:,} updated, {counts.removed:,} removed"
    noun = "server" if total == 1 else "servers"
    if all(r.status is SyncStatus.CANCELLED for r in results):
        return SyncJobResult(
            SyncStatus.CANCELLED, tuple(results), "Sync cancelled. Nothing was changed.", counts
        )
    if all(r.status is SyncStatus.SUCCEEDED for r in results):
        return SyncJobResult(
            SyncStatus.SUCCEEDED, tuple(results), f"Synced {total} {noun}: {changes}.", counts
        )
    if not ok:
        lines = [_failure_line(r) for r in failed]
        if total == 1:
            first = results[0]
            reason = first.message or "failed"
            text = f"Sync failed: {reason}" + (
                f" {first.error.remedy} (ref {first.error.correlation_id})"
                if first.error is not None and first.error.remedy
                else ""
            )
        else:
            text = f"Sync failed on all {total} servers.\n" + "\n".join(lines)
        return SyncJobResult(SyncStatus.FAILED, tuple(results), text, counts)
    held = [r for r in results if r.status is SyncStatus.HELD]
    notes = [f"{r.server}: {r.message}" for r in ok if r.status is not SyncStatus.SUCCEEDED and r.message]
    if held and len(held) == total:
        return SyncJobResult(SyncStatus.HELD, tuple(results), "Sync held. " + " ".join(notes), counts)
    synced = len(ok) - len(held)
    text = f"{synced} of {total} {noun} synced" if synced != total else f"Synced {total} {noun}"
    if failed:
        text += f", {len(failed)} failed"
    if held:
        text += f", {len(held)} held"
    text += f" ({changes})."
    if notes:
        text += " " + " ".join(notes)
    if failed:
        text += "\n" + "\n".join(_failure_line(r) for r in failed)
    return SyncJobResult(SyncStatus.PARTIAL, tuple(results), text, counts)
