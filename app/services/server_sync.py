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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

from app.core.errors import (
    ExternalServiceError,
    JobCancelled,
    RemovalsHeld,
    ServerUnreachable,
    ZondarrError,
)
from app.core.models import (
    Change,
    LibrarySyncInfo,
    ListingMark,
    MergeCounts,
    RemoteLibrary,
    RemoteUser,
    Server,
    ServerSyncResult,
    SyncRun,
    SyncStage,
    SyncStatus,
)
from app.core.ports import (
    Clock,
    MediaServerClient,
    Page,
    Runner,
    ServerStore,
    SyncRunStore,
    TrackListing,
    TrackStore,
    UserListing,
    UserStore,
)
from app.core.progress import CancelToken
from app.core.settings import Settings
from app.services.connector import Connector
from app.services.deletions import DeletionSearch
from app.services.error_recorder import ErrorRecorder
from app.services.paging import IncompleteListing, call_with_retries, iter_pages

log = logging.getLogger(__name__)
T = TypeVar("T")

# Called on the loop thread after the run's stage, ``done`` or ``total`` changed; reads them from the run.
Report = Callable[[SyncRun], None]
STAGING_AHEAD = 2  # pages handed to the db-writer thread and not yet written, at most
# A refresh asks for what changed since the last listing began less this margin: the server's stamps and its
# Date header have whole seconds, and an item saved while that listing began may carry the same second.
SINCE_MARGIN_S = 60.0
REPLACED_NOTE = "The server at this URL is a different installation now; its old cached data was replaced."
KEPT_AFTER_REPLACEMENT = "The server at this URL is a different installation now; the old cached data is kept until a sync succeeds."
HELD_REMEDY = (
    "Nothing was changed: apply it with Apply anyway (or `zondarr sync --allow-removals`), or keep it."
)


class _Held(Exception):
    """The run would remove more than the floor allows (or a library vanished): nothing may change."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(slots=True)
class _LibraryOutcome:
    library: RemoteLibrary
    total: int = 0
    failed_items: int = 0
    complete: bool = False  # every page arrived
    mark: ListingMark | None = None  # the last listing (a delta asks for what changed since it)
    full: bool = True  # a complete listing (else: only what changed, and no deletions)
    fetched: int = 0  # items (tracks and albums) fetched
    requests: int = 0  # counts, pages and probes asked for
    deleted: int = 0  # tracks found deleted without a complete listing

    def info(self) -> LibrarySyncInfo:
        mode = "full" if self.full else "delta"
        return LibrarySyncInfo(
            self.library.key, self.library.title, mode, self.fetched, self.requests, self.deleted
        )


@dataclass(slots=True)
class SyncPorts:
    """The stores and clients one run uses (shared by every run of a ``SyncService``)."""

    servers: ServerStore
    tracks: TrackStore
    users: UserStore
    runs: SyncRunStore
    connector: Connector
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
    allow_removals: bool = False  # apply a listing even when it removes more than the floor allows
    full: bool = False  # list every item of every library (``sync --full``), not only what changed
    run: SyncRun | None = None  # set as the first thing ``execute`` does
    errors: ErrorRecorder | None = None  # records a failure as an error event
    _notes: list[str] = field(default_factory=list)
    _degraded: bool = False  # something was kept back or skipped: the run is partial
    _replaced: bool = False  # the server answers as another installation than the one cached

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
        except _Held as held:
            return await self._hold(held.text)
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
        secret = await p.connector.secret(self.server)
        await self._stage(SyncStage.CONNECTING)
        client = await p.connector.connect_with(self.server, secret, call=self._retrying)
        try:
            return await self._run_connected(client)
        finally:
            await p.runner.net(client.close)
            log.debug("closed client of %s", self.server.name)

    async def _run_connected(self, client: MediaServerClient) -> ServerSyncResult:
        p, server, run = self.ports, self.server, self._run
        identity = await call_with_retries(p.runner, p.settings, self.cancel, client.identity)
        listed_since = await p.runner.net(client.server_time)  # the server's clock as this listing begins
        # The URL may answer as another installation now: its rows are replaced in the commit of this run's
        # listing (a failed run keeps them), and the identity is recorded only once that commit is done.
        self._replaced = bool(server.machine_id) and identity.machine_id != server.machine_id
        libraries = await call_with_retries(p.runner, p.settings, self.cancel, client.music_libraries)
        cached = (
            {}
            if self._replaced
            else {lib.key: lib for lib in await p.runner.read(p.tracks.libraries, server.id)}
        )
        listed = {lib.key for lib in libraries}
        vanished = [lib for key, lib in cached.items() if key not in listed and lib.track_count > 0]
        if vanished and not self.allow_removals:
            raise _Held(
                " ".join(
                    f"{lib.title} is no longer on {server.name}; its {lib.track_count:,} cached tracks were kept."
                    for lib in vanished
                )
            )
        marks = {} if self._replaced else await p.runner.read(p.tracks.listing_marks, server.id)
        outcomes = [_LibraryOutcome(lib) for lib in libraries]
        for out in outcomes:
            out.total = await call_with_retries(
                p.runner, p.settings, self.cancel, client.count_tracks, out.library.key
            )
            out.requests += 1
            had = cached[out.library.key].track_count if out.library.key in cached else 0
            out.mark = marks.get(out.library.key)
            out.full = (
                self.full or self._replaced or listed_since is None or not self._delta_allowed(out.mark, had)
            )
        run.total = sum(o.total for o in outcomes if o.full)
        await self._stage(SyncStage.FETCHING)

        await p.runner.db(p.tracks.begin_staging, server.id)
        for out in outcomes:
            if not out.full and not await self._refresh_changed(client, out):
                out.full = True  # the totals do not add up (deletions): list everything
                run.total += out.total
            if out.full:
                if client.needs_album_pass:
                    await self._fetch_albums(client, out)
                await self._fetch_tracks(client, out)
        users = await self._read_users(client)

        await self._stage(SyncStage.FINALIZING)
        gone = [lib.key for lib in vanished]  # only here with allow_removals: their tracks go
        merge = [o.library.key for o in outcomes if o.complete] + gone
        delete_vanished = [
            o.library.key for o in outcomes if o.complete and o.full and o.failed_items == 0
        ] + gone
        new_marks = {
            o.library.key: ListingMark(listed_since, p.clock() if o.library.key in delete_vanished else None)
            for o in outcomes
            if o.complete and listed_since is not None
        }
        floor = None if self.allow_removals or self._replaced else p.settings.max_removal_pct
        self.cancel.raise_if_cancelled()  # last point at which a cancel leaves the cache untouched
        try:
            commit = partial(
                p.tracks.commit_staging, replace=self._replaced, max_removal_pct=floor, marks=new_marks
            )
            counts: MergeCounts = await p.runner.db(commit, server.id, libraries, merge, delete_vanished)
        except RemovalsHeld as held:
            titles = {lib.key: lib.title for lib in libraries}
            raise _Held(
                " ".join(
                    f"Would remove {gone_n:,} of {had_n:,} tracks from {titles.get(key, key)} on {server.name}."
                    for key, gone_n, had_n in held.removals
                )
            ) from None
        await p.runner.db(p.servers.set_identity, server.id, identity)
        if self._replaced:
            self._inform(REPLACED_NOTE)
        if users is not None:
            await p.runner.db(p.users.replace_server_users, server.id, users)
        if any(o.complete and not o.full for o in outcomes):
            # A refresh fetched only what changed: every other cached track of a merged library is unchanged.
            listed_n = sum(o.total for o in outcomes if o.complete)
            counts = replace(counts, unchanged=max(0, listed_n - counts.added - counts.updated))
        return await self._succeed(counts, tuple(o.info() for o in outcomes))

    def _delta_allowed(self, mark: ListingMark | None, cached_tracks: int) -> bool:
        """A refresh may ask only for changes after a complete listing that is not older than
        ``full_sync_days`` (and of a library with cached tracks)."""
        if mark is None or mark.full_at is None or cached_tracks == 0:
            return False
        return self.ports.clock() - mark.full_at < self.ports.settings.full_sync_days * 86400

    async def _refresh_changed(self, client: TrackListing, out: _LibraryOutcome) -> bool:
        """Stages what changed in one library since its last listing (less ``SINCE_MARGIN_S``: stamps and the
        Date header have whole seconds), then reconciles the totals: cached + new must equal what the server
        counts, else something was deleted and False is returned (the caller lists the library completely).
        True when the library is complete after the merge (``out.complete`` set)."""
        p, key = self.ports, out.library.key
        assert out.mark is not None
        since = out.mark.since - SINCE_MARGIN_S
        changes = list(client.track_changes)
        if client.needs_album_pass:
            albums = await self._retrying(client.count_changed_albums, key, since)
            out.requests += 1
            if albums:
                fetch_albums = partial(client.fetch_changed_albums, since=since)
                await self._stage_pages(
                    fetch_albums, p.tracks.stage_albums, out, albums, count_progress=False
                )
                changes.append(Change.ALBUM)  # their tracks inherit the new genres and year
        for change in changes:
            n = await self._retrying(client.count_changed_tracks, key, change, since)
            out.requests += 1
            if n:
                self._run.total += n
                fetch = partial(client.fetch_changed_tracks, change=change, since=since)
                try:
                    await self._stage_pages(fetch, p.tracks.stage_tracks, out, n)
                except IncompleteListing:
                    return False  # the changes changed while listed: list everything
        if out.failed_items:
            return False  # an unreadable item may be a new one: the totals cannot tell
        tracks, albums_after = await p.runner.db(p.tracks.staged_totals, self.server.id, key)
        if tracks > out.total and not await self._find_deleted(client, out):
            return False
        if tracks < out.total:
            log.info(
                "%s: %s has %d tracks, %d expected: listing it all", self.server.name, key, out.total, tracks
            )
            return False
        if client.needs_album_pass:
            out.requests += 1
            if albums_after != await self._retrying(client.count_albums, key):
                return False  # an album is gone (deleted with its last track): list everything
        out.complete = True
        return True

    async def _find_deleted(self, client: TrackListing, out: _LibraryOutcome) -> bool:
        """Finds and stages the tracks the server deleted (``DeletionSearch``); False when they could not be
        found exactly (the caller lists the library completely)."""
        p = self.ports
        search = DeletionSearch(p.runner, p.tracks, client, self._retrying, self.server.id, out.library.key)
        gone = await search.run(out.total)
        out.requests += search.requests
        out.fetched += search.fetched
        if gone is None:
            return False
        await p.runner.db(p.tracks.stage_deleted, self.server.id, out.library.key, gone)
        out.deleted = len(gone)
        log.info("%s: %s: %d tracks found deleted", self.server.name, out.library.key, len(gone))
        return True

    async def _stage_pages(
        self,
        fetch: Callable[[str, int, int], Page[Any]],
        stage: Callable[[int, str, Sequence[Any]], None],
        out: _LibraryOutcome,
        total: int,
        count_progress: bool = True,
    ) -> None:
        """Fetches and stages every page of one listing. A page is handed to the db-writer thread and the next
        page is taken at once (at most ``STAGING_AHEAD`` pages wait to be written; the writer is one FIFO thread,
        so they are staged in order): waiting for each write held back the parse of the next page. Raises
        IncompleteListing when pages end before the total."""
        p, run, key = self.ports, self._run, out.library.key
        writes: deque[asyncio.Future[None]] = deque()
        try:
            async for page in iter_pages(
                p.runner, p.settings, self.cancel, fetch, key, total, service=self.server.name
            ):
                writes.append(asyncio.ensure_future(p.runner.db(stage, self.server.id, key, page.items)))
                out.fetched += len(page.items)
                out.requests += 1
                out.failed_items += page.failed
                if count_progress:
                    run.done += len(page.items) + page.failed
                    run.failed_items += page.failed
                    self.report(run)
                while len(writes) > STAGING_AHEAD:
                    await writes.popleft()
            while writes:
                await writes.popleft()
        finally:
            if writes:  # failed or cancelled: let the queued writes finish before the staging is dropped
                await asyncio.gather(*writes, return_exceptions=True)

    async def _fetch_albums(self, client: TrackListing, out: _LibraryOutcome) -> None:
        """Stages the albums of a library; the merge gives a track without genres or year its album's."""
        total = await self._retrying(client.count_albums, out.library.key)
        out.requests += 1
        await self._stage_pages(client.fetch_albums, self.ports.tracks.stage_albums, out, total, False)

    async def _fetch_tracks(self, client: TrackListing, out: _LibraryOutcome) -> None:
        """Fetches and stages every page of one library; ``out.complete`` when every page arrived."""
        try:
            await self._stage_pages(client.fetch_tracks, self.ports.tracks.stage_tracks, out, out.total)
            out.complete = True
        except IncompleteListing as err:
            # Merge nothing of this library: a short listing would look like deletions or lose updates.
            log.warning("%s: incomplete listing of %s: %s", self.server.name, out.library.key, err)
            self._warn(
                f"Library {out.library.title!r} listed fewer tracks than announced; kept the cached tracks."
            )

    async def _read_users(self, client: UserListing) -> list[RemoteUser] | None:
        """The server's users to cache, or None to keep the cached ones (unreadable). Raises _Held when the
        listing would remove more than the floor allows of the cached users (none listed at all included)."""
        p, server = self.ports, self.server
        try:
            users = await p.connector.users(client, server, call=self._retrying)
        except ExternalServiceError as err:
            reason = (
                f"{err.service_name} could not be reached"
                if isinstance(err, ServerUnreachable)
                else err.user_message.rstrip(".")
            )
            self._warn(f"tracks synced; users of {server.name} not refreshed: {reason}.")
            return None
        if self.allow_removals or self._replaced:
            return users or None  # an empty answer never wipes known accounts (the user store refuses it too)
        cached = {u.remote_id for u in await p.runner.read(p.users.list, server.name)}
        gone = len(cached - {u.remote_id for u in users})
        if gone and gone * 100 > p.settings.max_removal_pct * len(cached):
            raise _Held(f"Would remove {gone:,} of {len(cached):,} users from {server.name}.")
        return users

    async def _succeed(
        self, counts: MergeCounts, libraries: tuple[LibrarySyncInfo, ...] = ()
    ) -> ServerSyncResult:
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
            libraries=libraries,
        )

    async def _fail(self, status: SyncStatus, err: ZondarrError) -> ServerSyncResult:
        """Drops this run's staging rows and records a run that ended without a merge (failed or cancelled)."""
        p, run, server = self.ports, self._run, self.server
        await p.runner.db(p.tracks.discard_staging, server.id)
        log.warning("sync of %s %s: %s | %s", server.name, status.value, err.user_message, err.detail)
        run.status = status
        run.finished_at = p.clock()
        run.error = err.user_message + (f" {err.remedy}" if err.remedy else "")
        run.message = err.user_message + (f" {KEPT_AFTER_REPLACEMENT}" if self._replaced else "")
        run.correlation_id = err.correlation_id
        await p.runner.db(p.runs.save, run)
        if self.errors is not None and status is SyncStatus.FAILED:
            await self.errors.record(err, server.name)
        return ServerSyncResult(server.name, status, run.id, total=run.total, message=run.message, error=err)

    async def _hold(self, text: str) -> ServerSyncResult:
        """Drops the staging rows and records a run that changed nothing because it would remove too much."""
        p, run, server = self.ports, self._run, self.server
        await p.runner.db(p.tracks.discard_staging, server.id)
        log.warning("sync of %s held: %s", server.name, text)
        run.status = SyncStatus.HELD
        run.stage = SyncStage.DONE
        run.finished_at = p.clock()
        run.message = " ".join([text, HELD_REMEDY, *self._notes])
        await p.runner.db(p.runs.save, run)
        self.report(run)
        return ServerSyncResult(server.name, SyncStatus.HELD, run.id, total=run.total, message=run.message)

    def _retrying(self, fn: Callable[..., T], *args: object) -> Awaitable[T]:
        """``fn(*args)`` on the net pool with the sync's retries and backoff (``call_with_retries``)."""
        return call_with_retries(self.ports.runner, self.ports.settings, self.cancel, fn, *args)

    async def _stage(self, stage: SyncStage) -> None:
        self.cancel.raise_if_cancelled()
        self._run.stage = stage
        await self.ports.runner.db(self.ports.runs.save, self._run)
        self.report(self._run)
