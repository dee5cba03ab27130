"""iter_pages: paging sums and prefetch, as a hypothesis property over totals and page sizes."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.ports import Page
from app.core.progress import CancelToken
from app.core.settings import Settings
from app.services.paging import iter_pages
from app.services.runner import ThreadRunner

RUNNER = ThreadRunner(net_workers=2)


@settings(max_examples=60, deadline=None)
@given(total=st.integers(0, 300), size=st.integers(10, 60))
def test_pages_cover_exactly_the_total(total: int, size: int) -> None:
    starts: list[int] = []

    def fetch(key: str, start: int, n: int) -> Page[int]:
        starts.append(start)
        return Page(list(range(start, min(start + n, total))), total)

    async def collect() -> list[int]:
        out: list[int] = []
        async for page in iter_pages(RUNNER, Settings(page_size=size), CancelToken(), fetch, "k", total):
            out.extend(page.items)
        return out

    items = asyncio.run(collect())
    assert items == list(range(total))
    assert sorted(starts) == list(range(0, total, size))


@settings(max_examples=60, deadline=None)
@given(first=st.integers(1, 300), later=st.integers(0, 300), size=st.integers(10, 60))
def test_a_changed_total_after_the_first_page_is_followed(first: int, later: int, size: int) -> None:
    """The server answers ``first`` as total for page 0 and ``later`` afterwards (tracks added or removed while
    listing): the listing covers exactly ``range(later)`` beyond page 0, prefetched pages past a smaller total are
    dropped, and an empty page is never taken for an incomplete listing when the total says it is the end."""
    from app.services.paging import PREFETCH

    in_flight = [0, 0]  # now, most

    def fetch(key: str, start: int, n: int) -> Page[int]:
        in_flight[0] += 1
        in_flight[1] = max(in_flight)
        try:
            total = first if start == 0 else later
            return Page(list(range(start, min(start + n, total))), total)
        finally:
            in_flight[0] -= 1

    async def collect() -> list[int]:
        out: list[int] = []
        async for page in iter_pages(RUNNER, Settings(page_size=size), CancelToken(), fetch, "k", first):
            out.extend(page.items)
        return out

    items = asyncio.run(collect())
    head = list(range(min(size, first)))
    # page 0 is not read again; without a second page (first <= size) its total ends the listing
    assert items == head + (list(range(size, later)) if first > size else [])
    assert in_flight[1] <= PREFETCH
