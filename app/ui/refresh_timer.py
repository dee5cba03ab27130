"""Periodic refresh of a page that shows live data (tasks, health), only while the admin can see it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget


def refresh_while_visible(
    page: QWidget, reload: Callable[[], None], busy: Callable[[], bool], interval_ms: int
) -> QTimer:
    """Starts a timer owned by ``page`` that calls ``reload()`` every ``interval_ms`` while the page is visible and
    ``busy()`` is false (no reload still running). GUI thread only; the timer dies with the page."""

    def _on_timer_timeout() -> None:
        if page.isVisible() and not busy():
            reload()

    timer = QTimer(page)
    timer.setInterval(interval_ms)
    timer.timeout.connect(_on_timer_timeout)
    timer.start()
    return timer
