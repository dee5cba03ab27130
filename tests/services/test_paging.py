"""iter_pages: paging sums and prefetch, as a hypothesis property over totals and page sizes."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import BadServerResponse
from app.core.ports import Page
from app.core.progress import CancelToken
from app.core.settings import Settings
from app.services.paging import PAGE_SLACK, IncompleteListing, iter_pages, page_budget
from app.services.runner import ThreadRunner

RUNNER = ThreadRunner(net_workers=2)


@settings(deadline=None)
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


@settings(deadline=None)
@given(first=st.integers(1, 300), later=st.integers(0, 300), size=st.integers(10, 60))
def test_a_changed_total_after_the_first_page_is_followed(first: int, later: int, size: int) -> None:
    """The server answers ``first`` as total for page 0 and ``later`` afterwards (tracks added or removed while
    listing): within the page budget the listing covers exactly ``range(later)`` beyond page 0, prefetched pages
    past a smaller total are dropped, and an empty page is never taken for an incomplete listing when the total
    says it is the end. A total that needs more pages than the budget ends the listing with BadServerResponse."""
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

    if first > size and page_budget(later, size) > page_budget(first, size):
        with pytest.raises(BadServerResponse, match="grew from"):
            asyncio.run(collect())
        return
    items = asyncio.run(collect())
    head = list(range(min(size, first)))
    # page 0 is not read again; without a second page (first <= size) its total ends the listing
    assert items == head + (list(range(size, later)) if first > size else [])
    assert in_flight[1] <= PREFETCH


def _listing(fetch, total: int, size: int) -> tuple[list[object], BaseException | None]:  # type: ignore[no-untyped-def]
    out: list[object] = []

    async def collect() -> None:
        async for page in iter_pages(
            RUNNER, Settings(page_size=size, retries=0), CancelToken(), fetch, "k", total, service="Den"
        ):
            out.extend(page.items)

    try:
        asyncio.run(collect())
    except (BadServerResponse, IncompleteListing) as exc:
        return out, exc
    return out, None


@settings(max_examples=150, deadline=None)
@given(
    total=st.integers(0, 400),
    size=st.integers(10, 40),
    answers=st.lists(
        st.tuples(st.integers(0, 10**7), st.lists(st.integers(0, 60), max_size=45)), min_size=1, max_size=30
    ),
)
def test_any_server_answers_end_within_the_page_budget(
    total: int, size: int, answers: list[tuple[int, list[int]]]
) -> None:
    """Whatever totals and item ids the pages carry (growing, shrinking, repeated, too many), a listing makes
    at most ceil(total/size) + PAGE_SLACK requests and ends normally or with a clear error."""
    calls: list[int] = []

    def fetch(key: str, start: int, n: int) -> Page[int]:
        claimed, ids = answers[len(calls) % len(answers)]
        calls.append(start)
        return Page(ids, claimed)

    _, error = _listing(fetch, total, size)
    assert len(calls) <= -(-total // size) + PAGE_SLACK
    assert error is None or isinstance(error, BadServerResponse | IncompleteListing)


def test_a_total_growing_on_every_page_stops_at_once() -> None:
    calls: list[int] = []

    def fetch(key: str, start: int, n: int) -> Page[int]:
        calls.append(start)
        return Page(list(range(start, start + n)), 3000 + (len(calls) * n))

    _, error = _listing(fetch, 3000, 50)
    assert isinstance(error, BadServerResponse) and error.failure_class == "listing_inconsistent"
    assert "grew from 3,000" in error.user_message and error.remedy
    assert len(calls) <= PAGE_SLACK + 2


def test_a_repeated_page_stops_the_listing() -> None:
    calls: list[int] = []

    def fetch(key: str, start: int, n: int) -> Page[int]:
        calls.append(start)
        return Page(list(range(10)), 1_000_000)  # the same 10 items, whatever the offset

    items, error = _listing(fetch, 1_000_000, 500)
    assert isinstance(error, BadServerResponse) and "repeated items" in error.user_message
    assert items == list(range(10)) and len(calls) <= 1 + 2  # the first page, its repeat, one prefetched


def test_a_page_with_more_items_than_asked_is_refused() -> None:
    _, error = _listing(lambda key, start, n: Page(list(range(start, start + n + 1)), 100), 100, 20)
    assert isinstance(error, BadServerResponse) and "21 items in a page of 20" in error.user_message
