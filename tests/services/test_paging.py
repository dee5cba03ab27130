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
