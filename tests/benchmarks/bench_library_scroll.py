"""The library page over a 1,000,000-track cache, offscreen: first paint, jump-scrolls, id snapshots, GUI stalls.

Run: ``.venv/bin/python tests/benchmarks/bench_library_scroll.py [--tracks N] [--data-dir DIR] [--runs 5]``

The cache is built through the real storage write path (``begin_staging``/``stage_tracks``/``commit_staging``
with generated ``TrackRecord``s, see ``bench_cache_queries.build``) in a temp dir, or reused from ``--data-dir``
when that folder already holds one (building 1M tracks takes about a minute). Prints a markdown table of
medians; budgets from DESIGN §8: jump-scroll to the middle and to the end of 1M rows ≤ 50 ms each, and
the GUI thread never stalls more than 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # run as a script from anywhere
sys.path.insert(0, str(HERE))

import keyring  # noqa: E402
import qasync  # noqa: E402
from bench_cache_queries import build  # noqa: E402
from keyring.backends.null import Keyring as NullKeyring  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.core.filters import SortColumn, TrackFilter, TrackSort  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.ui.pages.library_page import LibraryPage  # noqa: E402
from app.ui.theme import apply_theme  # noqa: E402
from app.wiring import build_context  # noqa: E402

BUDGET_MS = 50.0


class StallProbe:
    """A 5 ms QTimer on the GUI thread; the longest gap between its ticks beyond 5 ms is the longest stall."""

    def __init__(self) -> None:
        self._timer = QTimer()
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._clock = QElapsedTimer()
        self.worst_ms = 0.0

    def start(self) -> None:
        self.worst_ms = 0.0
        self._clock.start()
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        return self.worst_ms

    def _on_timer_timeout(self) -> None:
        gap = self._clock.nsecsElapsed() / 1e6
        self._clock.restart()
        self.worst_ms = max(self.worst_ms, gap - 5)


async def wait_signal(signal: Any, timeout: float = 120.0) -> Any:
    """Awaits the next emission of a Qt signal (on the qasync loop)."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def on_emit(*args: Any) -> None:
        if not fut.done():
            fut.set_result(args)

    signal.connect(on_emit)
    try:
        return await asyncio.wait_for(fut, timeout)
    finally:
        signal.disconnect(on_emit)


def current_rss_mb() -> float:
    """Resident memory now (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


async def measure(ctx: AppContext, runs: int) -> list[tuple[str, list[float], float | None]]:
    rows: list[tuple[str, list[float], float | None]] = []
    probe = StallProbe()

    # First paint: page created -> first rows painted (the quick first page), then the whole id snapshot.
    construct, first_paint, full_paint, stalls = [], [], [], []
    page: LibraryPage | None = None
    for _ in range(runs):
        if page is not None:
            page.shutdown()
            page.deleteLater()
        await asyncio.sleep(0.05)
        t0 = time.perf_counter()
        page = LibraryPage(ctx)
        page.resize(1280, 800)
        page.show()
        construct.append((time.perf_counter() - t0) * 1000)
        ready = asyncio.ensure_future(wait_signal(page.snapshot_ready))
        await wait_signal(page.first_rows_ready)
        page.view.viewport().repaint()
        first_paint.append((time.perf_counter() - t0) * 1000)
        assert page.view.rowAt(0) == 0 and page.model.data(page.model.index(0, 0))
        probe.start()  # the rest of the ids load on the read pool while the GUI thread stays free
        await ready
        full_paint.append((time.perf_counter() - t0) * 1000)
        stalls.append(probe.stop())
    assert page is not None
    rows.append(("page constructed and shown (GUI thread, no rows yet)", construct, None))
    rows.append(("first rows painted (page created → first page read → painted)", first_paint, None))
    rows.append(("whole id snapshot in the model (page created → snapshot_ready)", full_paint, None))
    rows.append(("longest GUI stall while the rest of the ids load (5 ms QTimer)", stalls, BUDGET_MS))

    model, view = page.model, page.view
    n = model.rowCount()
    print(f"{n:,} rows in the view; {model.cached_rows} rows cached after first paint")

    def jump(row: int) -> float:
        view.scrollToTop()
        view.viewport().repaint()
        model.clear_row_cache()  # cold: the target rows are read from the cache file

        def go() -> None:
            view.scrollTo(model.index(row, 0))
            view.viewport().repaint()

        ms = timed(go)
        assert view.rowAt(view.viewport().height() // 2) > 0 or row == 0
        return ms

    rows.append(
        ("jump-scroll to the middle (cold pages)", [jump(n // 2 + k * 7919) for k in range(runs)], BUDGET_MS)
    )
    rows.append(("jump-scroll to the end (cold pages)", [jump(n - 1) for _ in range(runs)], BUDGET_MS))

    def scroll_pages(count: int) -> float:
        bar = view.verticalScrollBar()
        bar.setValue(bar.maximum() // 3)
        view.viewport().repaint()
        times = []
        for _ in range(count):
            bar.setValue(bar.value() + bar.pageStep())
            times.append(timed(view.viewport().repaint))
        return max(times)

    rows.append(("page-down repaint, worst of 50", [scroll_pages(50) for _ in range(runs)], BUDGET_MS))
    print(
        f"row cache after scrolling: {model.cached_rows:,} rows in {model.cached_pages} pages (bound "
        f"{model.max_pages * model.page_size:,})"
    )

    async def snapshot(flt: TrackFilter, sort: TrackSort, keep: set[int]) -> tuple[float, float]:
        probe.start()
        t0 = time.perf_counter()
        model.set_view(flt, sort, keep)
        await wait_signal(model.snapshot_applied)
        return (time.perf_counter() - t0) * 1000, probe.stop()

    cases = [
        ("id snapshot, no filter, by title", TrackFilter(), TrackSort(), set()),
        ("id snapshot, no filter, by -year, 2 ids kept", TrackFilter(), TrackSort(SortColumn.YEAR, True), {1, 2}),
        ("id snapshot, genre + decade filter, by artist", TrackFilter(genre="Rock", decade=1990),
         TrackSort(SortColumn.ARTIST), set()),
        ("id snapshot, search 'kalo', by title", TrackFilter(search="kalo"), TrackSort(), set()),
    ]  # fmt: skip
    worst_stall: list[float] = []
    for name, flt, sort, keep in cases:
        results = [await snapshot(flt, sort, keep) for _ in range(runs)]
        rows.append((f"{name} ({model.rowCount():,} rows)", [r[0] for r in results], None))
        worst_stall.extend(r[1] for r in results)
        print(f"GUI stalls during '{name}': {', '.join(f'{r[1]:.0f}' for r in results)} ms")
    rows.append(("longest GUI stall during those snapshots", [max(worst_stall)], BUDGET_MS))
    page.shutdown()
    page.close()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=1_000_000)
    ap.add_argument("--data-dir", type=Path, default=None, help="reuse (or build and keep) the cache here")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    keyring.set_keyring(NullKeyring())  # the benchmark never needs a secret
    tmp = tempfile.TemporaryDirectory(prefix="zondarr-bench-")
    data_dir = args.data_dir or Path(tmp.name)
    data_dir.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "cache.sqlite3").exists():
        t0 = time.perf_counter()
        build(data_dir, args.tracks).close()
        print(f"built a {args.tracks:,}-track cache in {time.perf_counter() - t0:.0f} s")
    rss0 = current_rss_mb()
    app = QApplication.instance() or QApplication([])
    apply_theme(app, "dark")  # type: ignore[arg-type]
    QApplication.setQuitOnLastWindowClosed(False)  # pages are closed and re-opened between runs
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    ctx = build_context(data_dir)
    try:
        with loop:
            rows = loop.run_until_complete(measure(ctx, args.runs))
    finally:
        ctx.close()
        tmp.cleanup()
    print(f"\nRSS after the runs {current_rss_mb():.0f} MB (before Qt and the page: {rss0:.0f} MB)\n")
    print(f"| {'measure':<62} | {'median ms':>9} | {'budget':>7} | ok |")
    print(f"|{'-' * 64}|{'-' * 11}|{'-' * 9}|----|")
    failed = 0
    for name, values, budget in rows:
        med = statistics.median(values)
        ok = "" if budget is None else ("yes" if med <= budget else "NO")
        failed += ok == "NO"
        print(f"| {name:<62} | {med:9.1f} | {'' if budget is None else f'≤ {budget:.0f}':>7} | {ok:>2} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
