"""Telling the admin what happened: a desktop notification (the tray) and the optional outbound channels
(webhook, e-mail), each kind of event switchable in the settings.

Kinds: ``incident`` (opened or closed), ``sync`` (a sync failed or was held), ``redemption`` (an invitation was
redeemed), ``expiring`` (accounts about to expire). ``notify`` runs on the loop thread and never blocks or
raises: the desktop callback is called at once; the outbound channels are built and sent on the net pool in a
task of this service. A channel that fails is recorded as an error event (the Errors view shows it with its
correlation id) and the others still get the message.

Channels are built at each send by ``channels`` (the composition root's factory; it reads the secrets, so it
BLOCKS and runs on the net pool), so a change in Settings applies to the next notification.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from app.core.errors import ValidationError, ZondarrError
from app.core.ports import MailMessage, MailSender, NotificationChannel, Runner
from app.core.settings import Settings
from app.services.error_recorder import ErrorRecorder

log = logging.getLogger(__name__)

# kind -> the setting that switches it
KINDS: dict[str, str] = {
    "incident": "notify_incidents",
    "sync": "notify_sync_problems",
    "redemption": "notify_redemptions",
    "expiring": "notify_expiring_accounts",
}
KIND_TITLES = {
    "incident": "Incidents opened and closed",
    "sync": "Syncs that failed or were held",
    "redemption": "Invitations redeemed",
    "expiring": "Accounts about to expire",
}

WEBHOOK_URL_REF = "notify-webhook-url"  # the webhook URL's name in the SecretStore (it may hold a token)

DesktopNotify = Callable[
    [str, str, str, bool], None
]  # (kind, title, text, warning); loop thread; must not raise


class NotificationService:
    def __init__(
        self,
        settings: Callable[[], Settings],
        runner: Runner,
        channels: Callable[[], Sequence[NotificationChannel]],
        errors: ErrorRecorder | None = None,
    ) -> None:
        self._settings = settings
        self._runner = runner
        self._channels = channels
        self._errors = errors
        self._desktop: DesktopNotify | None = None  # the window's tray, while it is open
        self._tasks: set[asyncio.Task[None]] = set()

    def set_desktop_channel(self, desktop: DesktopNotify | None) -> None:
        """Makes ``desktop`` the desktop notification (the window's tray or toast); None while no window is open.
        Called on the loop thread, at once for each notification; what it raises is logged."""
        self._desktop = desktop

    def enabled(self, kind: str) -> bool:
        setting = KINDS.get(kind)
        return setting is None or bool(getattr(self._settings(), setting))

    def notify(self, kind: str, title: str, text: str, warning: bool = False) -> bool:
        """Tells the admin, unless ``kind`` is switched off (``warning``: something needs a look). Returns
        whether it was sent. Loop thread."""
        if not self.enabled(kind):
            return False
        if self._desktop is not None:
            try:
                self._desktop(kind, title, text, warning)
            except Exception:  # the tray must never break the caller (a sync, a heartbeat)
                log.exception("desktop notification failed")
        task = asyncio.get_running_loop().create_task(
            self._send_outbound(kind, title, text), name=f"notify-{kind}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _send_outbound(self, kind: str, title: str, text: str) -> None:
        failures = await self._runner.net(self._deliver, kind, title, text)
        for err in failures:
            log.warning("notification channel failed: %s", err.user_message)
            if self._errors is not None:
                await self._errors.record(err)

    def _deliver(self, kind: str, title: str, text: str) -> list[ZondarrError]:
        """Net pool: builds the channels and sends to each; returns the failures (never raises them)."""
        failures: list[ZondarrError] = []
        try:
            channels = list(self._channels())
        except ZondarrError as err:
            return [err]
        for channel in channels:
            try:
                channel.send(kind, title, text)
            except ZondarrError as err:
                failures.append(err)
            except Exception as exc:  # a bug in one channel: the others still go
                log.exception("channel %s crashed", getattr(channel, "name", "?"))
                failures.append(ZondarrError(f"The {channel.name} notification failed.", detail=repr(exc)))
        return failures

    async def test(self, name: str) -> None:
        """Sends a test message through the saved channel called ``name`` ("webhook", "e-mail") now. Raises
        ValidationError when it is not set up, else the channel's ZondarrError (for the Test buttons)."""
        await self._runner.net(self._test, name)

    def _test(self, name: str) -> None:
        channel = next((c for c in self._channels() if c.name == name), None)
        if channel is None:
            raise ValidationError(
                f"The {name} channel is not set up.", remedy="Fill in its fields, press Save, then Test."
            )
        channel.send("test", "Zondarr test", "Notifications from Zondarr reach this channel.")

    async def drain(self) -> None:
        """Waits for the sends under way (tests; shutdown waits at most ``timeout``)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancels the sends under way and waits for them (shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)


class MailChannel:
    """E-mail notifications to the admin's address through the shared ``MailSender``. ``send`` BLOCKS."""

    name = "e-mail"

    def __init__(self, sender: MailSender, to: str) -> None:
        self._sender = sender
        self._to = to

    def send(self, kind: str, title: str, text: str) -> None:
        self._sender.send(MailMessage(self._to, f"Zondarr: {title}", text))
