"""Finding the tracks a server deleted since the last listing, without listing the library (DESIGN §4.2).

Servers do not list deletions. Once a refresh has staged what changed, the library the cache expects (cached
plus staged) holds ``missing`` more tracks than the server counts. The search splits the library into buckets
the server can count (``TrackListing.partition``: Plex ranges of ``addedAt``; Jellyfin sets of years, then of
album names within one year) and asks for one count per split: the other side's count is the parent's minus
it. It follows only the buckets whose counts disagree with the cache's, and at a bucket of a few tracks asks
which of their ids the server still has. A track is staged as deleted only when the server said it does not
have it, and only when every count adds up; anything surprising ends the search and the caller lists the
library completely (the cache stays exact either way).

Cost: about log2(tracks / ``LEAF_TRACKS``) count-only requests and one id request per deleted track, never
more than ``MAX_REQUESTS`` for a library.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from app.core.errors import BadServerResponse, ServerError
from app.core.models import TrackBucket
from app.core.ports import Runner, TrackListing, TrackStore

log = logging.getLogger(__name__)

LEAF_TRACKS = 100  # a bucket with at most this many expected tracks: ask for its ids
MAX_LEAF_TRACKS = 1000  # a bucket the server cannot split further, with more tracks than this: give up
MAX_REQUESTS = 64  # a complete listing is the cheaper way beyond this many probes

Call = Callable[..., Awaitable[Any]]  # ``fn(*args)`` on the net pool with the sync's retries


class _GiveUp(Exception):
    """The counts do not add up, or the search would cost more than a complete listing."""


@dataclass(frozen=True, slots=True)
class _Level:
    """One loaded level of the partition under fixed values of the levels before it."""

    fixed_groups: tuple[Any, ...]
    fixed_handles: tuple[Any, ...]
    groups: list[Any]
    handles: list[Any]
    cum: list[int]  # cum[i]: expected tracks in groups[:i]
    first_unnamed: int  # index of the first group whose handle is None (they come last)


@dataclass(slots=True)
class DeletionSearch:
    """One library's search. Loop thread; requests go through ``call``, queries through the db-writer."""

    runner: Runner
    tracks: TrackStore
    client: TrackListing
    call: Call
    server_id: int
    library_key: str
    requests: int = 0  # count and id requests sent
    fetched: int = 0  # tracks the id requests returned
    gone: list[str] = field(default_factory=list)

    async def run(self, server_total: int) -> list[str] | None:
        """The remote ids of the tracks the server deleted, or None when they could not be found exactly (the
        counts did not add up, a probe was refused, or the budget ran out). Raises what the requests raise
        otherwise (unreachable, refused credentials, cancelled)."""
        if not self.client.partition:
            return None
        try:
            root = await self._load((), ())
            expected = root.cum[-1]
            await self._search(root, 0, len(root.groups), server_total)
        except _GiveUp as why:
            log.info("%s: deletion search gave up (%s): listing it all", self.library_key, why)
            return None
        except (ServerError, BadServerResponse) as err:  # a server that refuses a probe: list it all
            log.info("%s: deletion search refused (%s): listing it all", self.library_key, err.detail)
            return None
        if expected - len(self.gone) != server_total:
            return None
        return self.gone

    async def _load(self, fixed_groups: tuple[Any, ...], fixed_handles: tuple[Any, ...]) -> _Level:
        groups, handles, counts = await self.runner.db(
            self.tracks.expected_partition,
            self.server_id,
            self.library_key,
            self.client.partition,
            fixed_groups,
        )
        cum = [0, *accumulate(counts)]
        first_unnamed = next((i for i in range(len(handles) - 1, -1, -1) if handles[i] is not None), -1) + 1
        return _Level(fixed_groups, fixed_handles, groups, handles, cum, first_unnamed)

    def _spend(self) -> None:
        self.requests += 1
        if self.requests > MAX_REQUESTS:
            raise _GiveUp(f"more than {MAX_REQUESTS} requests")

    async def _search(self, lv: _Level, lo: int, hi: int, server: int) -> None:
        """Finds the deleted tracks among groups ``[lo, hi)`` of ``lv``, of which the server counts ``server``."""
        expected = lv.cum[hi] - lv.cum[lo]
        if server == expected:
            return
        if not 0 <= server < expected:
            raise _GiveUp(f"the server counts {server} tracks where {expected} are expected")
        if expected <= LEAF_TRACKS:
            return await self._ask_ids(lv, lo, hi, expected - server)
        named = min(hi, lv.first_unnamed)
        if hi - lo == 1:
            if named > lo and len(lv.fixed_groups) + 1 < len(self.client.partition):
                sub = await self._load((*lv.fixed_groups, lv.groups[lo]), (*lv.fixed_handles, lv.handles[lo]))
                return await self._search(sub, 0, len(sub.groups), server)
            return await self._ask_ids(lv, lo, hi, expected - server)
        # Count the first part (at most max_bucket_values named values, about half the tracks); the rest,
        # which holds every value the server cannot be asked by, is the parent's count minus it.
        half = bisect_left(lv.cum, lv.cum[lo] + expected // 2, lo + 1, hi)
        mid = min(max(half, lo + 1), hi - 1, named, lo + self.client.max_bucket_values)
        if mid <= lo:
            return await self._ask_ids(lv, lo, hi, expected - server)
        self._spend()
        bucket = TrackBucket(lv.fixed_handles, tuple(lv.handles[lo:mid]))
        first = await self.call(self.client.count_tracks_in, self.library_key, bucket)
        await self._search(lv, lo, mid, first)
        await self._search(lv, mid, hi, server - first)

    async def _ask_ids(self, lv: _Level, lo: int, hi: int, missing: int) -> None:
        """Asks which ids of the bucket the server still has; exactly ``missing`` must be gone."""
        ids = await self.runner.db(
            self.tracks.expected_ids,
            self.server_id,
            self.library_key,
            self.client.partition,
            lv.fixed_groups,
            lv.groups[lo:hi],
            MAX_LEAF_TRACKS,
        )
        if len(ids) > MAX_LEAF_TRACKS:
            raise _GiveUp(f"a bucket of more than {MAX_LEAF_TRACKS} tracks cannot be split further")
        step = self.client.max_ids_per_request
        absent: list[str] = []
        for start in range(0, len(ids), step):
            chunk = ids[start : start + step]
            self._spend()
            present = await self.call(self.client.existing_tracks, self.library_key, chunk)
            self.fetched += len(present)
            absent += [i for i in chunk if i not in present]
        if len(absent) != missing:
            raise _GiveUp(f"{len(absent)} of a bucket's tracks are gone where the counts say {missing}")
        self.gone += absent
