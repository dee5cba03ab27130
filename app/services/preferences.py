"""The settings as the running app sees them: validated changes saved to the cache, and who to tell.

A change is validated exactly as ``zondarr settings set`` validates it (``Settings.load`` over the stored values
plus the change, so a bad value is refused with the same message naming it). Settings in ``LIVE`` take effect at
once (their readers call ``current`` each time or listen); the others apply after a restart.

Loop thread (``save`` is a coroutine; the write goes through ``Runner.db``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from app.core.ports import Runner, SettingsStore
from app.core.settings import Settings

log = logging.getLogger(__name__)

# Read live by their users: everything else is read once at start.
LIVE = frozenset(
    {
        "theme",
        "close_to_tray",
        "start_at_login",
        "notify_incidents",
        "notify_sync_problems",
        "notify_redemptions",
        "notify_expiring_accounts",
        "webhook_format",
        "webhook_timeout_s",
        "notify_email_to",
        # the scheduler reads each interval when it schedules the next run
        "invite_expiry_interval_s",
        "user_sync_interval_s",
        "heartbeat_interval_s",
        # the SMTP sender and the expiry task read the current settings at each use
        "smtp_host",
        "smtp_port",
        "smtp_starttls",
        "smtp_user",
        "smtp_from",
        "smtp_timeout_s",
        "expiry_action",
        "delete_after_days",
        "auto_delete_expired",
        "expiry_reminder_days",
        "reminder_template",
    }
)

SettingsListener = Callable[[Settings, Settings], None]  # (old, new); on the loop thread; must not raise


class SettingsService:
    def __init__(
        self,
        store: SettingsStore,
        runner: Runner,
        initial: Settings,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._store = store
        self._runner = runner
        self._environ = environ
        self.current = initial
        self._listeners: list[SettingsListener] = []

    def add_listener(self, listener: SettingsListener) -> None:
        """``listener(old, new)`` is called after each save, on the loop thread; what it raises is logged."""
        self._listeners.append(listener)

    def remove_listener(self, listener: SettingsListener) -> None:
        """Stops calling ``listener``; nothing happens when it was not added."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def validate(self, stored: Mapping[str, str], changes: Mapping[str, str]) -> Settings:
        """The settings ``changes`` would give over ``stored``. Raises ConfigurationError (the CLI's message)."""
        return Settings.load({**stored, **changes}, {})

    async def save(self, changes: Mapping[str, str]) -> Settings:
        """Validates ``changes`` (name → text), stores them and tells the listeners. Returns the new settings.
        Raises ConfigurationError (a bad value: nothing stored) or CacheError (the write failed)."""
        stored = await self._runner.read(self._store.load_raw)
        self.validate(stored, changes)
        merged = {**stored, **changes}
        await self._runner.db(self._store.save_raw, merged)
        old, self.current = self.current, Settings.load(merged, self._environ)
        for listener in list(self._listeners):
            try:
                listener(old, self.current)
            except Exception:  # one broken listener must not stop the others or the save
                log.exception("settings listener failed")
        return self.current
