"""The runner: moves blocking calls off the event loop (DESIGN §2 "Threads").

* ``net``: a small pool (``net-N`` threads) for media-server calls; several pages may be in flight.
* ``db``: ONE ``db-writer`` thread that owns the cache's writer connection; writes are serialised there.
* ``read``: a small pool (``db-read-N``) for cache reads that could take more than a few ms (id snapshots of a
  large view, exports), so the GUI thread never waits on them.

Both return awaitables that the calling coroutine awaits on its loop (asyncio or qasync). Cancelling the awaiting
task does not interrupt a call already running in a thread (it finishes and its result is dropped), so every
client call carries its own deadline and jobs check a CancelToken between pages.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

R = TypeVar("R")


class ThreadRunner:
    """Implements ``core.ports.Runner``. Create on the loop thread; ``close()`` joins the threads."""

    def __init__(self, net_workers: int = 4) -> None:
        self._net = ThreadPoolExecutor(max_workers=net_workers, thread_name_prefix="net")
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")
        self._read = ThreadPoolExecutor(max_workers=2, thread_name_prefix="db-read")

    def net(self, fn: Callable[..., R], *args: object) -> asyncio.Future[R]:
        """Runs ``fn(*args)`` on the net pool. Must be called from a running event loop."""
        return asyncio.get_running_loop().run_in_executor(self._net, functools.partial(fn, *args))

    def db(self, fn: Callable[..., R], *args: object) -> asyncio.Future[R]:
        """Runs ``fn(*args)`` on the single db-writer thread, in submission order."""
        return asyncio.get_running_loop().run_in_executor(self._db, functools.partial(fn, *args))

    def read(self, fn: Callable[..., R], *args: object) -> asyncio.Future[R]:
        """Runs a cache read ``fn(*args)`` on the read pool (stores open one read-only connection per thread)."""
        return asyncio.get_running_loop().run_in_executor(self._read, functools.partial(fn, *args))

    def close(self, wait: bool = True) -> None:
        """Stops accepting work; with ``wait`` joins threads after running calls finish."""
        self._net.shutdown(wait=wait, cancel_futures=True)
        self._read.shutdown(wait=wait, cancel_futures=True)
        self._db.shutdown(wait=wait, cancel_futures=False)
