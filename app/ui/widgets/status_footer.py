"""The permanent status-bar footer: what the cache holds and what the sync is doing, with one acting link.

Texts, exactly:  ``18,432 tracks · synced 2 hours ago · Refresh``, ``Never synced · Sync now``,
``Syncing… 4,200 / 18,432 (23 %)``, ``Sync failed · Retry`` (tooltip: error and correlation ID),
``2 of 3 servers synced, 1 failed · Details``, ``Sync cancelled · Sync now``. The last word is a link; activating it
emits ``action_requested(action)`` with ``"refresh"`` or ``"details"``. The relative time comes from an injectable
clock and is re-rendered every minute. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from app.ui.widgets.filter_bar import counted

SEP = " · "


def _escape(text: str) -> str:
    """``html.escape(text)``: the ``html`` module (and its entity table) is not loaded before the first paint."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


def relative_time(then: float, now: float) -> str:
    """``just now``, ``1 minute ago``, ``5 minutes ago``, ``2 hours ago``, ``3 days ago`` (floors; future = now)."""
    seconds = max(0.0, now - then)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        n = int(seconds // size)
        if n >= 1:
            return f"{n} {unit}{'' if n == 1 else 's'} ago"
    return "just now"


class StatusFooter(QWidget):
    action_requested = Signal(str)  # "refresh" | "details"

    def __init__(
        self, clock: Callable[[], float], parent: QWidget | None = None, tick_ms: int = 60_000
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._state = "idle"
        self._tracks = 0
        self._last_synced: float | None = None
        self._plain = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.label.setObjectName("footer")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.label.setAccessibleName("Sync status")
        self.label.linkActivated.connect(self._on_label_link_activated)
        layout.addWidget(self.label)
        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self._on_timer_timeout)
        self.timer.start()
        self.set_idle(0, None)

    def set_clock(self, clock: Callable[[], float]) -> None:
        """Replaces the clock the relative time is computed with (the window gets the context's at ``attach``)."""
        self._clock = clock
        if self._state == "idle":
            self._render_idle()

    # ---- states

    def set_idle(self, tracks: int, last_synced_at: float | None) -> None:
        """``N tracks · synced <ago> · Refresh`` or ``Never synced · Sync now``."""
        self._state, self._tracks, self._last_synced = "idle", tracks, last_synced_at
        self._render_idle()

    def set_syncing(self, done: int, total: int) -> None:
        self._state = "syncing"
        if total > 0:
            pct = round(done * 100 / total)
            if done < total:
                pct = min(pct, 99)  # never "100 %" before the last track
            self._show(f"Syncing… {done:,} / {total:,} ({pct} %)", None, None)
        else:
            self._show("Syncing…", None, None)

    def set_failed(self, message: str, correlation_id: str | None) -> None:
        self._state = "failed"
        tip = message + (f"\nReference: {correlation_id}" if correlation_id else "")
        self._show("Sync failed", "Retry", "refresh", tip)

    def set_partial(self, synced: int, total: int, failed: int, tooltip: str = "") -> None:
        self._state = "partial"
        self._show(
            f"{synced} of {counted(total, 'server')} synced, {failed} failed", "Details", "details", tooltip
        )

    def set_cancelled(self) -> None:
        self._state = "cancelled"
        self._show("Sync cancelled", "Sync now", "refresh", "The cache was left as it was before the sync.")

    # ---- reading

    @property
    def state(self) -> str:
        return self._state

    def text(self) -> str:
        """The footer as the admin reads it (no markup)."""
        return self._plain

    def activate_link(self) -> None:
        """What clicking the link does (for keyboard users and tests)."""
        href = self._href
        if href:
            self.label.linkActivated.emit(href)

    # ---- internals

    _href: str | None = None

    def _render_idle(self) -> None:
        if self._last_synced is None:
            self._show("Never synced", "Sync now", "refresh")
        else:
            ago = relative_time(self._last_synced, self._clock())
            noun = "track" if self._tracks == 1 else "tracks"
            self._show(f"{self._tracks:,} {noun}{SEP}synced {ago}", "Refresh", "refresh")

    def _show(self, text: str, link: str | None, href: str | None, tooltip: str = "") -> None:
        self._href = href
        if link and href:
            self._plain = f"{text}{SEP}{link}"
            self.label.setText(f'{_escape(text)}{SEP}<a href="{href}">{_escape(link)}</a>')
        else:
            self._plain = text
            self.label.setText(_escape(text))
        self.setToolTip(tooltip)
        self.label.setToolTip(tooltip)
        self.label.setAccessibleDescription(self._plain)

    def _on_timer_timeout(self) -> None:
        if self._state == "idle":
            self._render_idle()

    def _on_label_link_activated(self, href: str) -> None:
        self.action_requested.emit(href)
