"""The GUI composition root: Qt application, qasync loop, AppContext, main window (DESIGN §2).

``run_gui`` is what ``zondarr`` (no subcommand) calls. It runs on the main thread and returns the exit code.
``--demo`` starts demo Plex + Jellyfin servers in-process and uses ``<data dir>/demo-gui`` as its data dir.
``--self-test`` opens the window (offscreen works), waits until the library has painted its first rows (or its
empty state), prints ONE JSON line ``{"startup_ms": ..., "tracks": ..., "rss_mb": ...}`` and exits 0; it runs
no sync, no connection test, and does not take part in the single-instance guard.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

_IMPORTED_AT = time.perf_counter()

log = logging.getLogger("app.main")

DEMO_TRACKS = 20_000  # per demo server; ZONDARR_DEMO_TRACKS overrides


def process_age_ms() -> float:
    """Milliseconds since this process started (Linux: /proc/self/stat; elsewhere: since this module loaded)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start time in ticks after boot
        return (time.clock_gettime(time.CLOCK_BOOTTIME) - started) * 1000
    except (OSError, ValueError, IndexError, AttributeError):
        return (time.perf_counter() - _IMPORTED_AT) * 1000


def rss_mb() -> float:
    """Resident set size in MB (Linux /proc; 0.0 when unknown)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def run_gui(data_dir: Path, demo: bool = False, self_test: bool = False) -> int:
    """Opens the window on ``data_dir`` and runs until it closes. Returns 0, or 1 when the cache or the demo
    servers cannot be opened (the reason is printed on stderr)."""
    headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if sys.platform.startswith("linux") and headless and not os.environ.get("QT_QPA_PLATFORM"):
        if not self_test:
            print(
                "zondarr: no display found (DISPLAY and WAYLAND_DISPLAY are unset). Start it in a desktop "
                "session, or set QT_QPA_PLATFORM.",
                file=sys.stderr,
            )
            return 1
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import qasync
    from PySide6.QtWidgets import QApplication

    from app.core.errors import ZondarrError
    from app.ui.single_instance import SingleInstance, ask_running_instance, server_name
    from app.ui.theme import app_icon, apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setOrganizationName("Zondarr")
    app.setApplicationName("zondarr")
    app.setApplicationDisplayName("Zondarr")
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # the session coroutine decides when to stop the loop
    apply_theme(app)

    if demo:
        data_dir = data_dir / "demo-gui"
    instance: SingleInstance | None = None
    if not self_test:
        name = server_name(data_dir)
        if ask_running_instance(name):
            print(
                f"Zondarr is already open for {data_dir}; its window was brought to the front.",
                file=sys.stderr,
            )
            return 0
        instance = SingleInstance(name)
        if not instance.listen():
            log.warning("single-instance guard could not listen on %s", name)

    demo_servers: list[Any] = []
    try:
        overrides = None
        if demo:
            demo_servers = _start_demo_servers()
            overrides = {"plex_tv_url": demo_servers[0].url}
        from app.cli import build_context  # the CLI module owns the wiring (composition root)

        ctx = build_context(data_dir, overrides=overrides, defer_cache_check=True)
    except ZondarrError as err:
        print(f"zondarr: {err.display()}", file=sys.stderr)
        for server in demo_servers:
            server.stop()
        if instance is not None:
            instance.close()
        return 1

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(_session(app, ctx, demo_servers, self_test, instance))
    finally:
        from app.ui import exception_hook

        exception_hook.uninstall(loop)
        ctx.close()
        for server in demo_servers:
            server.stop()
        if instance is not None:
            instance.close()
        asyncio.set_event_loop(None)
        loop.close()


def _start_demo_servers() -> list[Any]:
    from app.demo import DemoConfig, start_demo_server

    tracks = int(os.environ.get("ZONDARR_DEMO_TRACKS", DEMO_TRACKS))
    plex = start_demo_server(DemoConfig(kind="plex", tracks=tracks))
    try:
        jellyfin = start_demo_server(DemoConfig(kind="jellyfin", tracks=tracks))
    except BaseException:
        plex.stop()
        raise
    return [plex, jellyfin]


async def _session(app: Any, ctx: Any, demo_servers: list[Any], self_test: bool, instance: Any) -> int:
    from PySide6.QtCore import QTimer

    from app.ui import exception_hook
    from app.ui.main_window import MainWindow

    if demo_servers:
        from app.demo_run import add_demo_servers

        await add_demo_servers(ctx, *demo_servers)
    window = MainWindow(ctx)
    loop = asyncio.get_running_loop()
    exception_hook.install(loop, window.show_error)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    if instance is not None:
        instance.activate_requested.connect(lambda: _bring_to_front(window))
    # Python runs signal handlers only between bytecodes: a slow timer lets Ctrl+C / SIGTERM close the window.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: window.close())
    ticker = QTimer(window)
    ticker.start(250)
    ticker.timeout.connect(lambda: None)
    painted = _FirstPaint(window) if self_test else None
    window.show()
    window.start(background_jobs=not self_test)
    cache_check = None
    if ctx.deferred_cache_check is not None and not self_test:
        cache_check = asyncio.create_task(_check_cache(ctx, window), name="cache-quick-check")
    code = 0
    if painted is not None:
        try:
            tracks = await asyncio.wait_for(painted.wait(), timeout=120)
        except TimeoutError:
            print("zondarr: self-test: the library did not paint within 120 s", file=sys.stderr)
            code = 1
        else:
            line = {"startup_ms": round(process_age_ms(), 1), "tracks": tracks, "rss_mb": round(rss_mb(), 1)}
            print(json.dumps(line), flush=True)
        window.close()
    await closed.wait()
    if cache_check is not None:
        cache_check.cancel()
    ticker.stop()
    await window.shutdown()
    window.hide()
    window.deleteLater()
    app.processEvents()
    return code


async def _check_cache(ctx: Any, window: Any) -> None:
    """The start-up ``quick_check``, run on the read pool after the window is up (it reads the whole file)."""
    from app.core.errors import ZondarrError

    await asyncio.sleep(1.0)  # let the first paint and the id snapshot go first
    try:
        await ctx.runner.read(ctx.deferred_cache_check)
    except ZondarrError as err:
        window.show_error(err)


def _bring_to_front(window: Any) -> None:
    from PySide6.QtCore import Qt

    window.setWindowState(
        (window.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive
    )
    window.show()
    window.raise_()
    window.activateWindow()


class _FirstPaint:
    """Resolves with the track count once the library page painted its first rows (or its empty state)."""

    def __init__(self, window: Any) -> None:
        self._window = window
        self._future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._count: int | None = None
        # first_rows_ready fires once the row count and the first page are in the model (a count and one page
        # query); the full id snapshot (~0.4 s at 1M tracks) keeps loading behind it without blocking the paint.
        window.library.first_rows_ready.connect(self._on_library_first_rows_ready)

    async def wait(self) -> int:
        from PySide6.QtWidgets import QApplication

        if self._count is None:
            await self._future
        count = self._count or 0
        view = getattr(self._window.library, "view", None)
        model = view.model() if view is not None else None
        if count and model is not None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not model.data(model.index(0, 0)):
                await asyncio.sleep(0.005)  # rows arrive by primary-key pages off the GUI thread
        QApplication.processEvents()
        target = view.viewport() if view is not None else self._window
        target.repaint()  # a synchronous paint: the rows are on screen (or in the offscreen buffer) now
        return count

    def _on_library_first_rows_ready(self, count: int) -> None:
        if self._count is None:
            self._count = count
            if not self._future.done():
                self._future.set_result(count)
