"""One server's sync run from start to finish (DESIGN §4): the run record, the staging rows and the outcome.

``ServerSync.run`` records the run as started, reads the secret, connects, stages every page, merges once and
records the outcome — or, on any failure or cancel, drops the staging rows and records why. It never raises
for a failure of the server (that is its result); it re-raises only ``asyncio.CancelledError`` after recording
the run as cancelled. Runs on the event loop; every blocking call goes through the runner.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from app.core.errors import ExternalServiceError, JobCancelled, ZondarrError, no_credentials
from app.core.models import (
    Credentials,
    MergeCounts,
    RemoteLibrary,
    Server,
    ServerSyncResult,
    SyncRun,
    SyncStage,
    SyncStatus,
)
from app.core.ports import (
    ClientFactory,
    Clock,
    MediaServerClient,
    Runner,
    SecretStore,
    ServerStore,
    SyncRunStore,
    TrackStore,
    UserStore,
)
from app.core.progress import CancelToken
from app.core.settings import Settings
from app.services.error_recorder import ErrorRecorder
from app.services.paging import IncompleteListing, call_with_retries, iter_pages

log = logging.getLogger(__name__)

# Called on the loop thread after the run's stage, ``done`` or ``total`` changed; reads them from the run.
Report = Callable[[SyncRun], None]
STAGING_AHEAD = 2  # pages handed to the db-writer thread and not yet written, at most


@dataclass(slots=True)
class _LibraryOutcome:
    library: RemoteLibrary
    total: int = 0
    failed_items: int = 0
    complete: bool = False  # every page arrived
    skipped_reason: str = ""  # set when the library is not merged at all (safety floor)


@dataclass(slots=True)
class SyncPorts:
    """The stores and clients one run uses (shared by every run of a ``SyncService``)."""

    servers: ServerStore
    tracks: TrackStore
    users: UserStore
    runs: SyncRunStore
    secrets: SecretStore
    clients: ClientFactory
    runner: Runner
    settings: Settings
    clock: Clock


@dataclass(slots=True)
class ServerSync:
    """Owns one run of one server: ``run`` (the record), staging, merge and outcome. Loop thread only."""

    server: Server
    trigger: str
    ports: SyncPorts
    cancel: CancelToken
    report: Report
    run: SyncRun | None = None  # set as the first thing ``execute`` does
    errors: ErrorRecorder | None = None  # records a failure as an error event
    _notes: list[str] = field(default_factory=list)
    _degraded: bool = False  # something was kept back or skipped: the run is partial

    def _inform(self, text: str) -> None:
        self._notes.append(text)

    def _warn(self, text: str) -> None:
        self._notes.append(text)
        self._degraded = True

    async def execute(self) -> ServerSyncResult:
        """Runs the sync and records its outcome. Returns the result of any outcome; re-raises only
        ``asyncio.CancelledError`` (after dropping the staging rows and recording the run as cancelled)."""
        p = self.ports
        self.run = await p.runner.db(p.runs.start, self.server.id, self.trigger)
        try:
            return await self._connect_and_sync()
        except JobCancelled as err:
            return await self._fail(SyncStatus.CANCELLED, err)
        except ZondarrError as err:
            return await self._fail(SyncStatus.FAILED, err)
        except asyncio.CancelledError:
            await asyncio.shield(self._fail(SyncStatus.CANCELLED, JobCancelled()))
            raise
        except Exception as exc:  # a bug: record it, never leave the run "running"
            log.exception("sync of %s crashed", self.server.name)
            crash = ZondarrError(
                f"{self.server.name}: the sync stopped on an unexpected error.",
                remedy="Try again; if it happens again, report it with this reference.",
                detail=f"{type(exc).__name__}: {exc}",
            )
            return await self._fail(SyncStatus.FAILED, crash)

    @property
    def _run(self) -> SyncRun:
        assert self.run is not None, "execute() starts the run first"
        return self.run

    async def _connect_and_sync(self) -> ServerSyncResult:
        p = self.ports
        secret = await p.runner.net(p.secrets.get, self.server.secret_ref)  # a keychain call may block
        if not secret:
            raise no_credentials(self.server.name)
        await self._stage(SyncStage.CONNECTING)
        client = await call_with_retries(
            p.runner, p.settings, self.cancel, p.clients.connect, self.server, Credentials(token=secret)
        )
        try:
            return await self._run_connected(client)
        finally:
            await p.runner.net(client.close)
            log.debug("closed client of %s", self.server.name)

    async def _run_connected(self, client: MediaServerClient) -> ServerSyncResult:
        p, server, run = self.ports, self.server, self._run
        identity = await call_with_retries(p.runner, p.settings, self.cancel, client.identity)
        if server.machine_id and identity.machine_id != server.machine_id:
            # The URL now answers as another installation: the old rows describe a server that is gone.
            await p.runner.db(p.tracks.clear_server, server.id)
            self._inform(
                "The server at this URL is a different installation now; its old cached data was cleared."
            )
        await p.runner.db(p.servers.set_identity, server.id, identity)

        libraries = await call_with_retries(p.runner, p.settings, self.cancel, client.music_libraries)
        cached = await p.runner.read(p.tracks.library_track_counts, server.id)
        outcomes = [_LibraryOutcome(lib) for lib in libraries]
        for out in outcomes:
            out.total = await call_with_retries(
                p.runner, p.settings, self.cancel, client.count_tracks, out.library.key
            )
            had = cached.get(out.library.key, 0)
            if out.total == 0 and had > 0:
                out.skipped_reason = (
                    f"Library {out.library.title!r} answered 0 tracks but {had:,} are cached; "
                    "kept the cached tracks (check the library on the server)."
                )
                self._warn(out.skipped_reason)
        run.total = sum(o.total for o in outcomes if not o.skipped_reason)
        await self._stage(SyncStage.FETCHING)

        await p.runner.db(p.tracks.begin_staging, server.id)
        for out in outcomes:
            if out.skipped_reason:
                continue
            if client.needs_album_pass:
                await self._fetch_albums(client, out.library)
            await self._fetch_tracks(client, out)

        await self._stage(SyncStage.FINALIZING)
        merge = [o.library.key for o in outcomes if o.complete]
        delete_vanished = [o.library.key for o in outcomes if o.complete and o.failed_items == 0]
        self.cancel.raise_if_cancelled()  # last point at which a cancel leaves the cache untouched
        counts: MergeCounts = await p.runner.db(
            p.tracks.commit_staging, server.id, libraries, merge, delete_vanished
        )
        await self._sync_users(client)
        return await self._succeed(counts)

    async def _fetch_albums(self, client: MediaServerClient, library: RemoteLibrary) -> None:
        """Stages the albums of a library; the merge gives a track without genres or year its album's."""
        p = self.ports
        total = await call_with_retries(p.runner, p.settings, self.cancel, client.count_albums, library.key)
        async for page in iter_pages(
            p.runner,
            p.settings,
            self.cancel,
            client.fetch_albums,
            library.key,
            total,
            service=self.server.name,
        ):
            await p.runner.db(p.tracks.stage_albums, self.server.id, library.key, page.items)

    async def _fetch_tracks(self, client: MediaServerClient, out: _LibraryOutcome) -> None:
        """Fetches and stages every page of one library. A page is handed to the db-writer thread and the next
        page is taken at once (at most ``STAGING_AHEAD`` pages wait to be written; the writer is one FIFO thread,
        so they are staged in order): waiting for each write held back the parse of the next page."""
        p, run, key = self.ports, self._run, out.library.key
        writes: deque[asyncio.Future[None]] = deque()
        try:
            async for page in iter_pages(
                p.runner,
                p.settings,
                self.cancel,
                client.fetch_tracks,
                key,
                out.total,
                service=self.server.name,
            ):
                writes.append(
                    asyncio.ensure_future(p.runner.db(p.tracks.stage_tracks, self.server.id, key, page.items))
                )
                out.failed_items += page.failed
                run.done += len(page.items) + page.failed
                run.failed_items += page.failed
                self.report(run)
                while len(writes) > STAGING_AHEAD:
                    await writes.popleft()
            while writes:
                await writes.popleft()
            out.complete = True
        except IncompleteListing as err:
            # Merge nothing of this library: a short listing would look like deletions or lose updates.
            log.warning("%s: incomplete listing of %s: %s", self.server.name, key, err)
            self._warn(
                f"Library {out.library.title!r} listed fewer tracks than announced; kept the cached tracks."
            )
        finally:
            if writes:  # failed or cancelled: let the queued writes finish before the staging is dropped
                await asyncio.gather(*writes, return_exceptions=True)

    async def _sync_users(self, client: MediaServerClient) -> None:
        p = self.ports
        try:
            users = await call_with_retries(p.runner, p.settings, self.cancel, client.users)
        except ExternalServiceError as err:
            self._warn(f"Users could not be read ({err.user_message}).")
            return
        if not users:
            self._warn("The server listed no users; kept the cached users.")
            return
        await p.runner.db(p.users.replace_server_users, self.server.id, users)

    async def _succeed(self, counts: MergeCounts) -> ServerSyncResult:
        p, run = self.ports, self._run
        if run.failed_items:
            self._warn(f"{run.failed_items:,} items could not be read and were skipped.")
        now = p.clock()
        run.status = SyncStatus.PARTIAL if self._degraded else SyncStatus.SUCCEEDED
        run.stage = SyncStage.DONE
        run.finished_at = now
        run.added, run.updated, run.removed, run.unchanged = (
            counts.added,
            counts.updated,
            counts.removed,
            counts.unchanged,
        )
        run.message = " ".join(self._notes) or (
            f"{run.done - run.failed_items:,} tracks: {counts.added:,} added, {counts.updated:,} updated, "
            f"{counts.removed:,} removed"
        )
        await p.runner.db(p.runs.save, run)
        await p.runner.db(p.servers.mark_synced, self.server.id, now)
        self.report(run)
        return ServerSyncResult(
            self.server.name,
            run.status,
            run.id,
            counts=counts,
            total=run.total,
            failed_items=run.failed_items,
            message=" ".join(self._notes),
        )

    async def _fail(self, status: SyncStatus, err: ZondarrError) -> ServerSyncResult:
        """Drops this run's staging rows and records a run that ended without a merge (failed or cancelled)."""
        p, run, server = self.ports, self._run, self.server
        await p.runner.db(p.tracks.discard_staging, server.id)
        log.warning("sync of %s %s: %s | %s", server.name, status.value, err.user_message, err.detail)
        run.status = status
        run.finished_at = p.clock()
        run.error = err.user_message + (f" {err.remedy}" if err.remedy else "")
        run.message = err.user_message
        run.correlation_id = err.correlation_id
        await p.runner.db(p.runs.save, run)
        if self.errors is not None and status is SyncStatus.FAILED:
            await self.errors.record(err, server.name)
        return ServerSyncResult(
            server.name, status, run.id, total=run.total, message=err.user_message, error=err.to_dict()
        )

    async def _stage(self, stage: SyncStage) -> None:
        self.cancel.raise_if_cancelled()
        self._run.stage = stage
        await self.ports.runner.db(self.ports.runs.save, self._run)
        self.report(self._run)
