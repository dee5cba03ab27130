"""Paged fetching with retries, backoff and prefetch (DESIGN §4 points 2–3).

The next pages are requested on the ``net`` pool while the caller writes the current one, so a sync takes about
as long as downloading the pages, not download + parse + write.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

from app.core.errors import AuthFailed, BadServerResponse, ServerError, ServerUnreachable
from app.core.ports import Page, Runner
from app.core.progress import CancelToken
from app.core.settings import Settings

T = TypeVar("T")
log = logging.getLogger(__name__)

# Worth another try: the server may answer next time. AuthFailed is not (the same credentials fail again).
RETRYABLE = (ServerUnreachable, ServerError, BadServerResponse)


async def call_with_retries(
    runner: Runner, settings: Settings, cancel: CancelToken, fn: Callable[..., T], *args: object
) -> T:
    """Calls blocking ``fn(*args)`` on the net pool; on a retryable ExternalServiceError waits
    ``retry_backoff_s * 2**attempt`` and tries again, ``settings.retries`` times at most.

    Raises the last error, JobCancelled when cancelled between attempts, AuthFailed at once.
    """
    attempt = 0
    while True:
        cancel.raise_if_cancelled()
        try:
            return await runner.net(fn, *args)
        except AuthFailed:
            raise
        except RETRYABLE as err:
            if attempt >= settings.retries:
                raise
            delay = settings.retry_backoff_s * (2**attempt)
            log.warning(
                "retrying after %s (attempt %d, wait %.2fs, ref %s)",
                type(err).__name__,
                attempt + 1,
                delay,
                err.correlation_id,
            )
            attempt += 1
            await asyncio.sleep(delay)


class IncompleteListing(Exception):
    """The server announced more items than its pages delivered (no deletions may follow)."""


PREFETCH = 2  # pages in flight ahead of the one the caller handles


async def iter_pages(
    runner: Runner,
    settings: Settings,
    cancel: CancelToken,
    fetch: Callable[[str, int, int], Page[T]],
    library_key: str,
    total: int,
) -> AsyncIterator[Page[T]]:
    """Yields the pages of one listing in order, keeping ``PREFETCH`` later pages in flight on the net pool
    while the caller handles the current one (a client parses a page outside its request lock, so the download
    of the next page overlaps the parse of this one, and both overlap the caller's write).

    Stops when ``start`` reaches the total (the latest total the server reported; prefetched pages at or beyond
    a shrunken total are dropped). Raises IncompleteListing when a page comes back empty before that,
    ExternalServiceError after retries, JobCancelled when cancelled. Prefetch tasks are always cancelled or
    awaited before this generator exits.
    """
    size = settings.page_size
    pending: deque[tuple[int, asyncio.Task[Page[T]]]] = deque()
    next_start = 0

    def fill() -> None:
        nonlocal next_start
        while len(pending) < PREFETCH and next_start < total:
            pending.append(
                (
                    next_start,
                    asyncio.create_task(
                        call_with_retries(runner, settings, cancel, fetch, library_key, next_start, size),
                        name=f"fetch-page-{library_key}-{next_start}",
                    ),
                )
            )
            next_start += size

    try:
        fill()
        while pending:
            start, task = pending.popleft()
            page = await task
            total = max(page.total, 0)
            if start >= total:
                break  # the listing shrank below this prefetched page: the pages before it were the end
            if not page.items and not page.failed:
                raise IncompleteListing(f"the page at {start} was empty but the total is {total}")
            fill()
            yield page
            cancel.raise_if_cancelled()
    finally:
        for _, task in pending:
            task.cancel()
        for _, task in pending:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # prefetched pages are dropped on exit
                pass
