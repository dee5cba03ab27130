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
from app.core.health import REMEDIES, FailureClass
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

    Raises the last error, JobCancelled when cancelled between attempts, AuthFailed and errors of a class in
    ``NOT_RETRIED`` (an answer over the size cap, a refused redirect) at once.
    """
    attempt = 0
    while True:
        cancel.raise_if_cancelled()
        try:
            return await runner.net(fn, *args)
        except AuthFailed:
            raise
        except RETRYABLE as err:
            if attempt >= settings.retries or err.failure_class in NOT_RETRIED:
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
PAGE_SLACK = 2  # pages allowed beyond the total read first (items added while listing)
# Failures that come back the same on a retry: never worth another download.
NOT_RETRIED = frozenset({FailureClass.RESPONSE_TOO_LARGE.value, FailureClass.REDIRECT_REFUSED.value})


def page_budget(total: int, size: int) -> int:
    """The most page requests a listing of ``total`` items may make: what the total calls for plus the slack."""
    return -(-max(total, 0) // size) + PAGE_SLACK


def _inconsistent(service: str, what: str, detail: str) -> BadServerResponse:
    return BadServerResponse(
        service,
        f"{service}: the server's listing {what}; the sync was stopped.",
        remedy=REMEDIES[FailureClass.LISTING_INCONSISTENT],
        detail=detail,
        failure_class=FailureClass.LISTING_INCONSISTENT.value,
    )


async def iter_pages(
    runner: Runner,
    settings: Settings,
    cancel: CancelToken,
    fetch: Callable[[str, int, int], Page[T]],
    library_key: str,
    total: int,
    *,
    service: str = "The server",
) -> AsyncIterator[Page[T]]:
    """Yields the pages of one listing in order, keeping ``PREFETCH`` later pages in flight on the net pool
    while the caller handles the current one (a client parses a page outside its request lock, so the download
    of the next page overlaps the parse of this one, and both overlap the caller's write).

    The total read first (``total``, from the count request) is the contract (DESIGN §4 point 2): at most
    ``page_budget(total, size)`` requests are made whatever the server answers. A later page's total is followed
    while it stays within that budget (items added or removed while listing; prefetched pages at or beyond a
    shrunken total are dropped). Raises BadServerResponse (failure class ``listing_inconsistent``) when a
    total grows beyond the budget, a page holds more items than asked for, or every item of a page was listed
    already (a server ignoring the offset); IncompleteListing when a page comes back empty before the total;
    ExternalServiceError after retries; JobCancelled when cancelled. Prefetch tasks are always cancelled or
    awaited before this generator exits.

    Memory: one hash per listed item id (about 64 bytes each) to recognise a repeated page.
    """
    size = settings.page_size
    announced = total
    budget = page_budget(total, size)
    pending: deque[tuple[int, asyncio.Task[Page[T]]]] = deque()
    next_start = 0
    requested = 0
    seen: set[int] = set()

    def fill() -> None:
        nonlocal next_start, requested
        while len(pending) < PREFETCH and next_start < total and requested < budget:
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
            requested += 1

    try:
        fill()
        while pending:
            start, task = pending.popleft()
            page = await task
            held = len(page.items) + page.failed
            if held > size:
                raise _inconsistent(
                    service, f"sent {held:,} items in a page of {size:,}", f"page at {start}: {held} items"
                )
            if page_budget(page.total, size) > budget:
                raise _inconsistent(
                    service,
                    f"grew from {announced:,} to {page.total:,} items while it was read",
                    f"page at {start}: total {page.total}, announced {announced}, page size {size}",
                )
            total = max(page.total, 0)
            if start >= total:
                break  # the listing shrank below this prefetched page: the pages before it were the end
            if not held:
                raise IncompleteListing(f"the page at {start} was empty but the total is {total}")
            ids = [hash(getattr(item, "remote_id", item)) for item in page.items]
            ids.extend(hash(i) for i in page.failed_ids)
            if ids and seen.issuperset(ids):
                raise _inconsistent(
                    service,
                    "repeated items it had listed already",
                    f"page at {start}: all {len(ids)} ids seen before",
                )
            seen.update(ids)
            fill()
            yield page
            cancel.raise_if_cancelled()
        if next_start < total:  # defensive: the budget ran out before the total was reached
            raise _inconsistent(
                service, f"needed more than {budget:,} pages", f"stopped at {next_start} of {total}"
            )
    finally:
        for _, task in pending:
            task.cancel()
        for _, task in pending:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # prefetched pages are dropped on exit
                pass
