"""The desktop entry: Qt application, main window, then the session over the AppContext (DESIGN §2, §8).

``run_gui`` is what ``zondarr`` without a subcommand calls (through ``app/entry.py``). It runs on the main thread,
returns the exit code, and starts in two phases so that the library is on screen before most of the app is
even imported (the start-up budget of DESIGN §8: a painted window within 2 s, 1.2× a bare library window):

1. Synchronous, before asyncio, qasync, the services, the servers or the CLI are imported: QApplication, theme
   and icon; the single-instance check; the head of the cache read straight from the file (``app.storage.head``,
   read-only: track count, first page of the default view, oldest last sync); the real ``MainWindow`` built
   without a context, given that head, shown and painted. A missing, empty or too-old cache has no head: the
   window then paints its loading state.
2. ``app/gui_session.py``: qasync and the context (``app.wiring.build_context``), then ``window.attach(ctx)`` (the
   head rows stay as the library's first page) and ``window.start()``; the loop runs until the window closes.

``--demo`` starts demo Plex + Jellyfin servers in-process (in phase 2) and uses ``<data dir>/demo-gui`` as its
data dir. ``--self-test`` opens the window (offscreen works), waits until phase 2 is done, prints ONE JSON line
``{"startup_ms": ..., "ready_ms": ..., "tracks": ..., "rss_mb": ...}`` and exits 0. ``startup_ms``: process start
to the library's rows painted (phase 1; when the cache had no head, the first rows or empty state painted in
phase 2); ``ready_ms``: process start to the window attached and started; ``rss_mb``: resident memory once the
library holds the whole view (printed then). It runs no sync and no connection test, and does not take part in
the single-instance guard.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.process import process_age_ms

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

log = logging.getLogger("app.main")

EXPOSE_WAIT_S = 0.5  # on a real display the window is exposed a few ms after show(); offscreen at once


def run_gui(data_dir: Path, demo: bool = False, self_test: bool = False, hidden: bool = False) -> int:
    """Opens the window on ``data_dir`` and runs until it quits. ``hidden``: start in the tray (the window shows
    only when the platform has no tray). Returns 0, or 1 when the cache or the demo servers cannot be opened
    (the reason is printed on stderr)."""
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
    if demo:
        data_dir = data_dir / "demo-gui"
    from app import crashlog

    crash_report = None if self_test else crashlog.arm(data_dir / "logs")
    from PySide6.QtWidgets import QApplication

    from app.ui.theme import app_icon, apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setOrganizationName("Zondarr")
    app.setApplicationName("zondarr")
    app.setApplicationDisplayName("Zondarr")
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # the session coroutine decides when to stop the loop
    apply_theme(app)

    instance: Any = None
    if not self_test:
        from app.ui.single_instance import SingleInstance, ask_running_instance, server_name

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
    try:
        window, head_tracks = _first_paint(app, data_dir, show=not hidden or self_test)
        painted_ms = round(process_age_ms(), 1)
        from app.gui_session import FirstPaint, run_attached  # phase 2

        first = FirstPaint(head_tracks, painted_ms if head_tracks is not None else None)
        first.hidden, first.crash_report = hidden and not self_test, crash_report
        return run_attached(
            app, window, data_dir, demo=demo, self_test=self_test, instance=instance, first=first
        )
    finally:
        if instance is not None:
            instance.close()


def _first_paint(app: Any, data_dir: Path, show: bool = True) -> tuple[MainWindow, int | None]:
    """Phase 1: the window without a context, shown with the head of the cache and painted (``show`` False: built
    and filled, not shown). Returns the window and the track count of the head its library painted (None when
    it painted none: no head, or another sort, or not shown)."""
    from app.storage.head import read_head
    from app.ui.main_window import MainWindow
    from app.ui.models.track_model import PAGE_SIZE

    # Read on this thread: on a helper thread the count of a 1M cache (~5 ms without the GIL) did overlap the
    # imports, but handing the GIL back and forth cost a small cache more than that (measured, 2 cores).
    head = read_head(data_dir, PAGE_SIZE)
    window = MainWindow()
    shown = head is not None and window.show_head(head.tracks, head.rows, head.last_synced_at)
    if not show:
        return window, None
    window.show()
    _paint_now(app, window)
    return window, head.tracks if head is not None and shown else None


def _paint_now(app: Any, window: Any) -> None:
    """Returns once the library's rows are painted (on screen, or in the offscreen buffer): the events that
    follow ``show()`` paint the exposed window; a viewport they did not paint (not exposed yet) is repainted."""
    from PySide6.QtCore import QEvent, QObject

    class PaintSeen(QObject):
        seen = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.seen = True
            return False

    view = getattr(window.library, "view", None)
    target = view.viewport() if view is not None else window
    probe = PaintSeen()
    target.installEventFilter(probe)
    deadline = time.monotonic() + EXPOSE_WAIT_S
    app.processEvents()
    handle = window.windowHandle()
    while handle is not None and not handle.isExposed() and time.monotonic() < deadline:
        time.sleep(0.002)
        app.processEvents()
    target.removeEventFilter(probe)
    if not probe.seen:
        target.repaint()  # a synchronous paint
