"""One server's sync run (DESIGN §4), driven by ``SyncService``. Runs on the event loop; every blocking call goes
through the runner. Raises ZondarrError (incl. JobCancelled) on failure; the caller discards staging and records
the run. On success it returns the result after the one atomic merge and records the run itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from app.core.errors import ExternalServiceError
from app.core.models import (
    AlbumRecord,
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
    ServerStore,
    SyncRunStore,
    TrackStore,
    UserStore,
)
from app.core.progress import CancelToken
from app.core.settings import Settings
from app.services.paging import IncompleteListing, call_with_retries, iter_pages

log = logging.getLogger(__name__)

Report = Callable[..., None]  # (stage, done, total, message="")
STAGING_AHEAD = 2  # pages handed to the db-writer thread and not yet written, at most


@dataclass(slots=True)
class _LibraryOutcome:
    library: RemoteLibrary
    total: int = 0
    fetched: int = 0
    failed_items: int = 0
    complete: bool = False  # every page arrived
    skipped_reason: str = ""  # set when the library is not merged at all (safety floor)


@dataclass(slots=True)
class ServerSync:
    server: Server
    credentials: Credentials
    run: SyncRun
    servers: ServerStore
    tracks: TrackStore
    users: UserStore
    runs: SyncRunStore
    clients: ClientFactory
    runner: Runner
    settings: Settings
    clock: Clock
    cancel: CancelToken
    report: Report
    _notes: list[str] = field(default_factory=list)
    _degraded: bool = False  # something was kept back or skipped: the run is partial

    def _inform(self, text: str) -> None:
        self._notes.append(text)

    def _warn(self, text: str) -> None:
        self._notes.append(text)
        self._degraded = True

    async def execute(self) -> ServerSyncResult:
        name = self.server.name
        await self._stage(SyncStage.CONNECTING)
        client = await call_with_retries(
            self.runner, self.settings, self.cancel, self.clients.connect, self.server, self.credentials
        )
        try:
            return await self._run_connected(client)
        finally:
            await self.runner.net(client.close)
            log.debug("closed client of %s", name)

    async def _run_connected(self, client: MediaServerClient) -> ServerSyncResult:
        server = self.server
        identity = await call_with_retries(self.runner, self.settings, self.cancel, client.identity)
        if server.machine_id and identity.machine_id != server.machine_id:
            # The URL now answers as another installation: the old rows describe a server that is gone.
            await self.runner.db(self.tracks.clear_server, server.id)
            self._inform(
                "The server at this URL is a different installation now; its old cached data was cleared."
            )
        await self.runner.db(self.servers.set_identity, server.id, identity)

        libraries = await call_with_retries(self.runner, self.settings, self.cancel, client.music_libraries)
        cached = await self.runner.read(self.tracks.library_track_counts, server.id)
        outcomes = [_LibraryOutcome(lib) for lib in libraries]
        for out in outcomes:
            out.total = await call_with_retries(
                self.runner, self.settings, self.cancel, client.count_tracks, out.library.key
            )
            had = cached.get(out.library.key, 0)
            if out.total == 0 and had > 0:
                out.skipped_reason = (
                    f"Library {out.library.title!r} answered 0 tracks but {had:,} are cached; "
                    "kept the cached tracks (check the library on the server)."
                )
                self._warn(out.skipped_reason)
        self.run.total = sum(o.total for o in outcomes if not o.skipped_reason)
        await self._stage(SyncStage.FETCHING)

        await self.runner.db(self.tracks.begin_staging, server.id)
        albums: dict[str, tuple[tuple[str, ...], int | None]] = {}
        for out in outcomes:
            if out.skipped_reason:
                continue
            if client.needs_album_pass:
                albums.update(await self._fetch_albums(client, out.library))
            await self._fetch_tracks(client, out, albums)
            albums.clear()  # album ids are per library; keep memory flat

        await self._stage(SyncStage.FINALIZING)
        merge = [o.library.key for o in outcomes if o.complete]
        delete_vanished = [o.library.key for o in outcomes if o.complete and o.failed_items == 0]
        self.cancel.raise_if_cancelled()  # last point at which a cancel leaves the cache untouched
        counts: MergeCounts = await self.runner.db(
            self.tracks.commit_staging, server.id, libraries, merge, delete_vanished
        )
        await self._sync_users(client)
        return await self._record_success(outcomes, counts)

    async def _fetch_albums(
        self, client: MediaServerClient, library: RemoteLibrary
    ) -> dict[str, tuple[tuple[str, ...], int | None]]:
        total = await call_with_retries(
            self.runner, self.settings, self.cancel, client.count_albums, library.key
        )
        found: dict[str, tuple[tuple[str, ...], int | None]] = {}
        async for page in iter_pages(
            self.runner, self.settings, self.cancel, client.fetch_albums, library.key, total
        ):
            items: list[AlbumRecord] = page.items
            for album in items:
                found[album.remote_id] = (album.genres, album.year)
            await self.runner.db(self.tracks.stage_albums, self.server.id, library.key, items)
        return found

    async def _fetch_tracks(
        self,
        client: MediaServerClient,
        out: _LibraryOutcome,
        albums: dict[str, tuple[tuple[str, ...], int | None]],
    ) -> None:
        """Fetches and stages every page of one library. A page is handed to the db-writer thread and the next
        page is taken at once (at most ``STAGING_AHEAD`` pages wait to be written; the writer is one FIFO thread,
        so they are staged in order): waiting for each write held back the parse of the next page."""
        key = out.library.key
        writes: deque[asyncio.Future[None]] = deque()
        try:
            async for page in iter_pages(
                self.runner, self.settings, self.cancel, client.fetch_tracks, key, out.total
            ):
                items = page.items
                writes.append(
                    asyncio.ensure_future(
                        self.runner.db(self.tracks.stage_tracks, self.server.id, key, items, albums)
                    )
                )
                out.fetched += len(items)
                out.failed_items += page.failed
                self.run.done += len(items) + page.failed
                self.run.failed_items += page.failed
                self.report(SyncStage.FETCHING, self.run.done, self.run.total)
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
            if (
                writes
            ):  # failed or cancelled: let the queued writes finish before the caller drops the staging
                await asyncio.gather(*writes, return_exceptions=True)

    async def _sync_users(self, client: MediaServerClient) -> None:
        try:
            users = await call_with_retries(self.runner, self.settings, self.cancel, client.users)
        except ExternalServiceError as err:
            self._warn(f"Users could not be read ({err.user_message}).")
            return
        if not users:
            self._warn("The server listed no users; kept the cached users.")
            return
        await self.runner.db(self.users.replace_server_users, self.server.id, users)

    async def _record_success(self, outcomes: list[_LibraryOutcome], counts: MergeCounts) -> ServerSyncResult:
        failed_items = sum(o.failed_items for o in outcomes)
        if failed_items:
            self._warn(f"{failed_items:,} items could not be read and were skipped.")
        status = SyncStatus.PARTIAL if self._degraded else SyncStatus.SUCCEEDED
        now = self.clock()
        run = self.run
        run.status = status
        run.stage = SyncStage.DONE
        run.finished_at = now
        run.added, run.updated, run.removed, run.unchanged = (
            counts.added,
            counts.updated,
            counts.removed,
            counts.unchanged,
        )
        run.message = " ".join(self._notes) or (
            f"{sum(o.fetched for o in outcomes):,} tracks: {counts.added:,} added, {counts.updated:,} updated, "
            f"{counts.removed:,} removed"
        )
        await self.runner.db(self.runs.save, run)
        await self.runner.db(self.servers.mark_synced, self.server.id, now)
        self.report(SyncStage.DONE, run.done, run.total)
        return ServerSyncResult(
            self.server.name,
            status,
            run.id,
            counts=counts,
            total=run.total,
            failed_items=failed_items,
            message=" ".join(self._notes),
        )

    async def _stage(self, stage: SyncStage) -> None:
        self.cancel.raise_if_cancelled()
        self.run.stage = stage
        await self.runner.db(self.runs.save, self.run)
        self.report(stage, self.run.done, self.run.total)
