"""Paged fetching with retries, backoff and one page of prefetch (DESIGN §4 points 2–3).

The next page is requested on the ``net`` pool while the caller parses and writes the current one, so a sync
takes about as long as downloading the pages, not download + write.
"""

from __future__ import annotations

import asyncio
import logging
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


async def iter_pages(
    runner: Runner,
    settings: Settings,
    cancel: CancelToken,
    fetch: Callable[[str, int, int], Page[T]],
    library_key: str,
    total: int,
) -> AsyncIterator[Page[T]]:
    """Yields the pages of one listing in order, fetching page N+1 while the caller handles page N.

    Stops when ``start`` reaches the total (the latest total the server reported). Raises IncompleteListing when a
    page comes back empty before that, ExternalServiceError after retries, JobCancelled when cancelled.
    The prefetch task is always cancelled or awaited before this generator exits.
    """
    size = settings.page_size

    def request(start: int) -> asyncio.Task[Page[T]]:
        return asyncio.create_task(
            call_with_retries(runner, settings, cancel, fetch, library_key, start, size),
            name=f"fetch-page-{library_key}-{start}",
        )

    start = 0
    pending = request(0) if total > 0 else None
    try:
        while pending is not None:
            page = await pending
            pending = None
            start += size
            total = max(page.total, 0)
            if not page.items and not page.failed and start - size < total:
                raise IncompleteListing(f"the page at {start - size} was empty but the total is {total}")
            if start < total:
                pending = request(start)
            yield page
            cancel.raise_if_cancelled()
    finally:
        if pending is not None:
            pending.cancel()
            try:
                await pending
            except (asyncio.CancelledError, Exception):  # the prefetched page is dropped on exit
                pass
