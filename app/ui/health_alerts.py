"""Incident alerts for the desktop: exactly one notification per incident opening and one per closing, and the
set of open incidents the tray's badge shows.

GUI (loop) thread only: ``HealthService`` calls the alert callback from its coroutines on the loop thread.
``notify(title, text, opened)`` is the window's way to tell the admin (the notification service: tray message
or toast, webhook, e-mail); ``changed`` is called when the set of open incidents changes.
"""

from __future__ import annotations

from collections.abc import Callable

from app.services.health import IncidentAlert


class HealthNotifier:
    def __init__(self, notify: Callable[[str, str, bool], object], changed: Callable[[], object]) -> None:
        self._notify = notify
        self._changed = changed
        self._seen: set[tuple[int, bool]] = set()
        self.open_incidents: set[int] = set()
        self.shown: list[str] = []  # every message shown, oldest first (tests read it)

    def __call__(self, alert: IncidentAlert) -> None:
        key = (alert.incident.id, alert.opened)
        if key in self._seen:
            return
        self._seen.add(key)
        if alert.opened:
            self.open_incidents.add(alert.incident.id)
        else:
            self.open_incidents.discard(alert.incident.id)
        self._changed()
        title = "Server problem" if alert.opened else "Server back up"
        self.shown.append(alert.message)
        self._notify(title, alert.message, alert.opened)
