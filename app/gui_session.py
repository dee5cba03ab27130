"""Start-up phase 2 of the window (see ``app/main.py``): the context, the qasync loop, ``window.attach(ctx)`` and
``window.start()``, then the session until the window closes; the ``--self-test`` report.

Main thread. Imported by ``app.main.run_gui`` once the window has painted its first rows: asyncio, qasync, the
services and the wiring (``app.wiring``) load here, after that paint.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import QCoreApplication, Qt, QTimer

from app.core.errors import ZondarrError
from app.process import GuiThreadCollector, freeze_long_lived, process_age_ms, rss_mb
from app.ui import exception_hook
from app.ui.main_window import MainWindow
from app.wiring import build_context

DEMO_TRACKS = 20_000  # per demo server; ZONDARR_DEMO_TRACKS overrides


class FirstPaint:
    """What phase 1 painted: the head's track count (None: no head rows were painted) and when (ms of process
    age)."""

    def __init__(self, head_tracks: int | None, painted_ms: float | None) -> None:
        self.head_tracks = head_tracks
        self.painted_ms = painted_ms
        self.hidden = False  # started in the tray: the window shows only when there is no tray
        self.crash_report: Path | None = None  # the previous run's crash report, mentioned once


def run_attached(
    app: Any,
    window: MainWindow,
    data_dir: Path,
    *,
    demo: bool,
    self_test: bool,
    instance: Any,
    first: FirstPaint,
) -> int:
    """Phase 2: builds the context (demo servers first with ``demo``), runs the qasync loop with the window attached
    and started until it closes, and closes the context. Returns the exit code: 1 when the cache or the demo
    servers cannot be opened (the reason is printed on stderr; the window is closed)."""
    demo_servers: list[Any] = []
    try:
        overrides = None
        if demo:
            demo_servers = _start_demo_servers()
            from app.cli.demo import demo_overrides

            overrides = demo_overrides(*demo_servers)
        ctx = build_context(data_dir, overrides=overrides, defer_cache_check=True)
    except ZondarrError as err:
        print(f"zondarr: {err.display()}", file=sys.stderr)
        for server in demo_servers:
            server.stop()
        window.hide()
        window.deleteLater()
        return 1

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(_session(app, window, ctx, demo_servers, self_test, instance, first))
    finally:
        exception_hook.uninstall(loop)
        ctx.close()
        for server in demo_servers:
            server.stop()
        asyncio.set_event_loop(None)
        loop.close()


def _start_demo_servers() -> list[Any]:
    from app.cli.demo import start_demo_servers  # the demo is loaded only in demo mode

    return list(start_demo_servers(int(os.environ.get("ZONDARR_DEMO_TRACKS", DEMO_TRACKS))))


async def _session(
    app: Any,
    window: MainWindow,
    ctx: Any,
    demo_servers: list[Any],
    self_test: bool,
    instance: Any,
    first: FirstPaint,
) -> int:
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    # With no head, the first rows come from the library's own first page, read now on the read pool.
    painted = _LibraryPainted(window) if self_test and first.head_tracks is None else None
    window.attach(ctx)
    exception_hook.install(loop, window.show_error)
    if instance is not None:
        instance.activate_requested.connect(lambda: _bring_to_front(window))
    # Python runs signal handlers only between bytecodes: a slow timer lets Ctrl+C / SIGTERM quit (not hide to the tray).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: window.quit())
    ticker = QTimer(window)
    ticker.start(250)
    ticker.timeout.connect(lambda: None)
    if demo_servers:
        from app.cli.demo import add_demo_servers

        await add_demo_servers(ctx, *demo_servers)
    # Start-up is done: full collections during a sync skip what is alive now (app/process.py).
    freeze_long_lived()
    # From now on cyclic garbage is collected on this thread only, so a Qt object is never destroyed on a net
    # or db thread that happened to allocate past the threshold (app/process.py).
    collector = GuiThreadCollector()
    collector.start()
    ticker.timeout.connect(collector.collect_due)
    window.start(background_jobs=not self_test)
    if first.hidden and not window.desktop.keeps_running():
        window.show()  # no tray to start in
    if first.crash_report is not None:
        window.show_crash_notice(first.crash_report)
    ready_ms = round(process_age_ms(), 1)
    cache_check = None
    if ctx.deferred_cache_check is not None and not self_test:
        cache_check = asyncio.create_task(_check_cache(ctx, window), name="cache-quick-check")
    code = 0
    if self_test:
        code = await _report_self_test(window, first, painted, ready_ms)
        window.quit()
    await closed.wait()
    if cache_check is not None:
        cache_check.cancel()
    ticker.stop()
    await window.shutdown()
    window.hide()
    window.deleteLater()
    app.processEvents()
    collector.stop()
    return code


async def _report_self_test(
    window: MainWindow, first: FirstPaint, painted: _LibraryPainted | None, ready_ms: float
) -> int:
    """Prints the ``--self-test`` JSON line; returns the exit code. ``rss_mb`` is read once the library holds the
    whole view (its id snapshot), so that it shows what the cache size costs in memory."""
    tracks, startup_ms = first.head_tracks, first.painted_ms
    model = getattr(window.library, "model", None)
    try:
        if painted is not None:
            tracks = await asyncio.wait_for(painted.wait(), timeout=120)
            startup_ms = round(process_age_ms(), 1)
        if model is not None:
            await asyncio.wait_for(model.wait_complete(), timeout=120)
    except TimeoutError:
        print("zondarr: self-test: the library did not load within 120 s", file=sys.stderr)
        return 1
    line = {"startup_ms": startup_ms, "ready_ms": ready_ms, "tracks": tracks, "rss_mb": round(rss_mb(), 1)}
    print(json.dumps(line), flush=True)
    return 0


async def _check_cache(ctx: Any, window: Any) -> None:
    """The start-up ``quick_check``, run on the read pool after the window is up (it reads the whole file)."""
    await asyncio.sleep(1.0)  # let the first paint and the id snapshot go first
    try:
        await ctx.runner.read(ctx.deferred_cache_check)
    except ZondarrError as err:
        window.show_error(err)


def _bring_to_front(window: Any) -> None:
    window.setWindowState(
        (window.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive
    )
    window.show()
    window.raise_()
    window.activateWindow()


class _LibraryPainted:
    """Resolves with the track count once the library page painted its first rows (or its empty state) in phase
    2: when phase 1 painted no head. Build it before ``window.attach``; needs the running loop."""

    def __init__(self, window: Any) -> None:
        self._window = window
        self._future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._count: int | None = None
        # first_rows_ready fires once the row count and the first page are in the model (a count and one page
        # query); the full id snapshot (~0.4 s at 1M tracks) keeps loading behind it without blocking the paint.
        window.library.first_rows_ready.connect(self._on_library_first_rows_ready)

    async def wait(self) -> int:
        if self._count is None:
            await self._future
        count = self._count or 0
        view = getattr(self._window.library, "view", None)
        model = view.model() if view is not None else None
        if count and model is not None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not model.data(model.index(0, 0)):
                await asyncio.sleep(0.005)  # rows arrive by primary-key pages off the GUI thread
        QCoreApplication.processEvents()
        target = view.viewport() if view is not None else self._window
        target.repaint()  # a synchronous paint: the rows are on screen (or in the offscreen buffer) now
        return count

    def _on_library_first_rows_ready(self, count: int) -> None:
        if self._count is None:
            self._count = count
            if not self._future.done():
                self._future.set_result(count)
