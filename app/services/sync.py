"""The sync job: refreshes the cache from every server (DESIGN §4). Qt-free; runs on any asyncio loop.

Per server: credentials → connect → identity (a changed identity clears the old server's rows) → totals →
paged albums (Plex only) and tracks staged in batches on the db-writer thread → one atomic merge → users.
Servers sync concurrently; at most one sync per server at a time, across processes (``JobLocks``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

from app.core.errors import AlreadyRunning, ConfigurationError, JobCancelled, ZondarrError, no_credentials
from app.core.models import Credentials, MergeCounts, Server, ServerSyncResult, SyncRun, SyncStage, SyncStatus
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
from app.services.error_recorder import ErrorRecorder
from app.services.server_sync import ServerSync

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncJobResult:
    """The outcome of one sync job over one or more servers."""

    status: SyncStatus
    servers: tuple[ServerSyncResult, ...]
    summary: str
    counts: MergeCounts = field(default_factory=MergeCounts)

    @property
    def exit_code(self) -> int:
        """DESIGN §6: 0 success, 1 failure, 3 partial success."""
        return {SyncStatus.SUCCEEDED: 0, SyncStatus.PARTIAL: 3}.get(self.status, 1)

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
                    "error": r.error,
                }
                for r in self.servers
            ],
        }


@dataclass(slots=True)
class _JobProgress:
    """Aggregates per-server (done, total) into one job-wide report."""

    callback: ProgressCallback
    per_server: dict[str, tuple[int, int]] = field(default_factory=dict)

    def report(self, server: str, stage: SyncStage, done: int, total: int, message: str = "") -> None:
        self.per_server[server] = (done, total)
        all_done = sum(d for d, _ in self.per_server.values())
        all_total = sum(t for _, t in self.per_server.values())
        self.callback(JobProgress(stage, all_done, all_total, server, message))


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
    ) -> None:
        self._errors = errors
        self._servers = servers
        self._tracks = tracks
        self._users = users
        self._runs = runs
        self._secrets = secrets
        self._clients = clients
        self._locks = locks
        self._runner = runner
        self._settings = settings
        self._clock = clock
        self._in_flight: set[int] = set()

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
    ) -> SyncJobResult:
        """Syncs the named servers (all enabled ones when ``names`` is empty) concurrently.

        Raises NotFoundError for an unknown name, ConfigurationError when there is nothing to sync, and
        AlreadyRunning when every requested server is being synced already (nothing is started then).
        Per-server failures do not raise: they are in the result (status failed/partial/cancelled).
        """
        cancel = cancel or CancelToken()
        if names:
            targets = [self._servers.get_by_name(n) for n in names]
        else:
            targets = [s for s in self._servers.list() if s.enabled]
        # Connection profiles (issue 5): a draft was never verified by a Test connection and is not synced.
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
        with ExitStack() as held:
            runnable, busy = await self._claim(targets, held)
            if not runnable:
                names_text = ", ".join(s.name for s in busy)
                raise AlreadyRunning(f"Already syncing {names_text}.", remedy="Wait for that sync to finish.")
            job = _JobProgress(progress)
            self._in_flight.update(s.id for s in runnable)
            try:
                results = await asyncio.gather(*(self._sync_one(s, trigger, job, cancel) for s in runnable))
            finally:
                self._in_flight.difference_update(s.id for s in runnable)
        skipped = [ServerSyncResult(s.name, SyncStatus.FAILED, None, message="already syncing") for s in busy]
        return _summarise([*results, *skipped, *refused])

    async def _claim(self, targets: list[Server], held: ExitStack) -> tuple[list[Server], list[Server]]:
        """Takes the per-server locks of ``targets`` as one step (under a short-lived gate lock, so two processes
        starting together never split the servers between them). Returns (claimed, busy)."""
        gate = None
        for _ in range(40):  # the gate is held only for microseconds; wait up to ~2 s for it
            gate = self._locks.try_acquire("sync-gate")
            if gate is not None:
                break
            await asyncio.sleep(0.05)
        if gate is None:
            raise AlreadyRunning("Another sync is starting right now.", remedy="Try again in a moment.")
        runnable: list[Server] = []
        busy: list[Server] = []
        with gate:
            for server in targets:
                lock = None if server.id in self._in_flight else self._locks.try_acquire(f"sync-{server.id}")
                if lock is None:
                    busy.append(server)
                    continue
                held.enter_context(lock)
                runnable.append(server)
        return runnable, busy

    async def _sync_one(
        self, server: Server, trigger: str, job: _JobProgress, cancel: CancelToken
    ) -> ServerSyncResult:
        secret = await self._runner.net(self._secrets.get, server.secret_ref)  # a keychain call may block
        run = await self._runner.db(self._runs.start, server.id, trigger)
        if not secret:
            return await self._finish(run, server, SyncStatus.FAILED, no_credentials(server.name))
        worker = ServerSync(
            server=server,
            credentials=Credentials(token=secret),
            run=run,
            servers=self._servers,
            tracks=self._tracks,
            users=self._users,
            runs=self._runs,
            clients=self._clients,
            runner=self._runner,
            settings=self._settings,
            clock=self._clock,
            cancel=cancel,
            report=lambda stage, done, total, msg="": job.report(server.name, stage, done, total, msg),
        )
        try:
            return await worker.execute()
        except JobCancelled as err:
            await self._runner.db(self._tracks.discard_staging, server.id)
            return await self._finish(run, server, SyncStatus.CANCELLED, err)
        except ZondarrError as err:
            await self._runner.db(self._tracks.discard_staging, server.id)
            return await self._finish(run, server, SyncStatus.FAILED, err)
        except asyncio.CancelledError:
            await asyncio.shield(self._runner.db(self._tracks.discard_staging, server.id))
            await asyncio.shield(self._finish(run, server, SyncStatus.CANCELLED, JobCancelled()))
            raise
        except Exception as exc:  # a bug: record it, never leave the run "running"
            log.exception("sync of %s crashed", server.name)
            await self._runner.db(self._tracks.discard_staging, server.id)
            crash = ZondarrError(
                f"{server.name}: the sync stopped on an unexpected error.",
                remedy="Try again; if it happens again, report it with this reference.",
                detail=f"{type(exc).__name__}: {exc}",
            )
            return await self._finish(run, server, SyncStatus.FAILED, crash)

    async def _finish(
        self, run: SyncRun, server: Server, status: SyncStatus, err: ZondarrError
    ) -> ServerSyncResult:
        """Records a run that ended without a merge (failed or cancelled)."""
        log.warning("sync of %s %s: %s | %s", server.name, status.value, err.user_message, err.detail)
        run.status = status
        run.finished_at = self._clock()
        run.error = err.user_message + (f" {err.remedy}" if err.remedy else "")
        run.message = err.user_message
        run.correlation_id = err.correlation_id
        await self._runner.db(self._runs.save, run)
        if self._errors is not None and status is SyncStatus.FAILED:
            await self._errors.record(err, server.name)
        return ServerSyncResult(
            server.name, status, run.id, total=run.total, message=err.user_message, error=err.to_dict()
        )


def _draft_result(server: Server) -> ServerSyncResult:
    err = ConfigurationError(
        f"{server.name}: not synced, the server was never verified.",
        remedy="Run Test connection (`zondarr server test NAME`); a verified server is synced.",
    )
    return ServerSyncResult(
        server.name, SyncStatus.FAILED, None, message=err.user_message, error=err.to_dict()
    )


def _summarise(results: list[ServerSyncResult]) -> SyncJobResult:
    total = len(results)
    ok = [r for r in results if r.status in (SyncStatus.SUCCEEDED, SyncStatus.PARTIAL)]
    failed = total - len(ok)
    counts = MergeCounts(
        added=sum(r.counts.added for r in results),
        updated=sum(r.counts.updated for r in results),
        removed=sum(r.counts.removed for r in results),
        unchanged=sum(r.counts.unchanged for r in results),
    )
    changes = f"{counts.added:,} added, {counts.updated:,} updated, {counts.removed:,} removed"
    if all(r.status is SyncStatus.CANCELLED for r in results):
        return SyncJobResult(
            SyncStatus.CANCELLED, tuple(results), "Sync cancelled. Nothing was changed.", counts
        )
    if failed == 0 and all(r.status is SyncStatus.SUCCEEDED for r in results):
        noun = "server" if total == 1 else "servers"
        return SyncJobResult(
            SyncStatus.SUCCEEDED, tuple(results), f"Synced {total} {noun}: {changes}.", counts
        )
    if not ok:
        first = results[0]
        reason = first.message or "failed"
        text = f"Sync failed: {reason}" if total == 1 else f"Sync failed on all {total} servers."
        return SyncJobResult(SyncStatus.FAILED, tuple(results), text, counts)
    text = f"{len(ok)} of {total} servers synced, {failed} failed ({changes})."
    warnings = [f"{r.server}: {r.message}" for r in ok if r.status is SyncStatus.PARTIAL and r.message]
    if warnings:
        text += " " + " ".join(warnings)
    return SyncJobResult(SyncStatus.PARTIAL, tuple(results), text, counts)
