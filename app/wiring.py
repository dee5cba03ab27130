"""The composition root (DESIGN §2): opens the cache and builds the stores, server clients and services into
one frozen ``AppContext``, in one call.

The one module that imports storage, servers and services together. The entry points call it (the window's
session in ``app/gui_session.py``, the CLI in ``app/cli/main.py``, the demo runner in ``app/cli/demo.py``);
nothing else imports it, so no module imports a composition root back. Main thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.ports import AdminNotice, Clock, NotificationChannel, SecretStore
from app.core.settings import Settings
from app.logsetup import configure_logging
from app.servers.jellyfin_signin import JellyfinSignInClient
from app.servers.mail import SmtpMailSender
from app.servers.plex_account import PlexAccountClient
from app.servers.registry import ServerRegistry
from app.servers.webhook import WebhookChannel
from app.services.backups import BackupService
from app.services.bundle import BundleWriter
from app.services.context import AppContext, Closers, HealthServices
from app.services.diagnostics import DiagnosticsService
from app.services.error_recorder import ErrorRecorder
from app.services.health import HealthService
from app.services.invite_card import InviteCardService
from app.services.jellyfin_signin import JellyfinSignInService
from app.services.notifications import WEBHOOK_URL_REF, MailChannel, NotificationService
from app.services.people import build_people
from app.services.plex_signin import PlexSignInService
from app.services.preferences import SettingsService
from app.services.runner import ThreadRunner
from app.services.server_moves import ServerMoves
from app.services.servers import ServerService
from app.services.sync import SyncService
from app.services.tasks import TaskSpec
from app.services.user_policy import UserPolicy
from app.storage import open_cache, open_secret_store
from app.storage.autostart import LoginEntry, login_command
from app.storage.diagnostics import sqlite_version


def build_context(
    data_dir: Path,
    overrides: dict[str, str] | None = None,
    *,
    defer_cache_check: bool = False,
    clock: Clock = time.time,
) -> AppContext:
    """Opens the cache in ``data_dir`` and wires stores, clients and services into one ``AppContext``.

    ``overrides`` replace stored settings for this process only (demo mode points plex.tv at the demo server).
    ``defer_cache_check`` opens the cache without its start-up ``quick_check`` and hands it over as
    ``ctx.deferred_cache_check`` (the window runs it after its first paint). ``clock`` is the clock of the
    stores, the people services and the front ends. Raises CacheError, ConfigurationError (the cache is closed
    again when its settings or the secret store cannot be read)."""
    cache = open_cache(data_dir, clock, check=not defer_cache_check)
    try:
        configure_logging(cache.data_dir / "logs")
        settings = Settings.load({**cache.settings.load_raw(), **(overrides or {})})
        secrets = open_secret_store(cache.data_dir)
    except BaseException:
        cache.close()
        raise
    registry = ServerRegistry(settings)
    runner = ThreadRunner()
    errors = ErrorRecorder(cache.error_events, runner)  # every error the admin sees is stored behind its ref
    servers = ServerService(servers=cache.servers, secrets=secrets, clients=registry, runner=runner)
    moves = ServerMoves(servers=cache.servers, clients=registry, runner=runner)  # a Plex server that moved
    sync = SyncService(
        servers=cache.servers,
        tracks=cache.tracks,
        users=cache.users,
        runs=cache.sync_runs,
        secrets=secrets,
        clients=registry,
        locks=cache.locks,
        runner=runner,
        settings=settings,
        errors=errors,
        policy=UserPolicy(cache.exclusions, cache.shares, runner),
        moves=moves,
    )
    monitor = HealthService(
        servers=cache.servers,
        health=cache.health,
        secrets=secrets,
        clients=registry,
        runner=runner,
        errors=errors,
        moves=moves,
    )
    health = HealthServices(
        monitor=monitor,
        diagnostics=DiagnosticsService(
            servers=cache.servers,
            store=cache.diagnostics,
            secrets=secrets,
            clients=registry,
            probe=_LazyHttpProbe(settings),
            runner=runner,
            data_dir=cache.data_dir,
            quick_check=cache.quick_check,
        ),
        bundle=BundleWriter(
            settings=settings,
            servers=cache.servers,
            sync_runs=cache.sync_runs,
            errors=cache.error_events,
            diagnostics=cache.diagnostics,
            secrets=secrets,
            runner=runner,
            schema_version=cache.schema_version,
            sqlite_version=sqlite_version(),
            log_dir=cache.data_dir / "logs",
        ),
    )
    backups = BackupService(store=cache.backups, runner=runner, settings=settings)
    preferences = SettingsService(cache.settings, runner, settings)
    mail = SmtpMailSender(lambda: preferences.current, secrets)  # the one SMTP sender, on the live settings
    notifications = _notifications(preferences, mail, secrets, runner, errors)
    people = build_people(
        settings=settings, runner=runner, servers=cache.servers, secrets=secrets, clients=registry,
        tracks=cache.tracks, users=cache.users, accounts=cache.accounts, shares=cache.shares,
        exclusions=cache.exclusions, identities=cache.identities, invitations=cache.invitations,
        task_runs=cache.task_runs, sync=sync,
        extra_tasks=[_heartbeat_task(monitor, lambda: preferences.current), backups.task_spec()],
        preferences=cache.settings, expiry=cache.expiry, history=cache.history,
        mail=mail, notifier=_ExpiringNotifier(notifications),
        live_settings=lambda: preferences.current, clock=clock,
    )  # fmt: skip

    def redeemed(code: str, user: str, servers: tuple[str, ...]) -> None:
        text = f"{user} redeemed {code}: an account on {', '.join(servers)}."
        notifications.notify("redemption", "Invitation redeemed", text)

    people.invitations.set_redeemed_listener(redeemed)

    def moved(text: str) -> None:
        notifications.notify("incident", "A server moved", text)

    moves.notify = moved
    return AppContext(
        data_dir=cache.data_dir,
        settings=settings,
        runner=runner,
        server_store=cache.servers,
        tracks=cache.tracks,
        users=cache.users,
        runs=cache.sync_runs,
        settings_store=cache.settings,
        secrets=secrets,
        clock=clock,
        servers=servers,
        sync=sync,
        errors=errors,
        health=health,
        people=people,
        invite_cards=InviteCardService(
            runner=runner,
            invitations=cache.invitations,
            servers=cache.servers,
            tracks=cache.tracks,
            settings=cache.settings,
        ),
        preferences=preferences,
        notifications=notifications,
        login_entry=LoginEntry(login_command(cache.data_dir)),
        backups=backups,
        plex_signin=PlexSignInService(account=PlexAccountClient(settings), runner=runner),
        jellyfin_signin=JellyfinSignInService(
            client=JellyfinSignInClient(settings),
            servers=servers,
            server_store=cache.servers,
            secrets=secrets,
            runner=runner,
        ),
        server_moves=moves,
        closers=Closers([cache.close, runner.close]),
        deferred_cache_check=cache.quick_check if defer_cache_check else None,
    )


def _notifications(
    preferences: SettingsService,
    mail: SmtpMailSender,
    secrets: SecretStore,
    runner: ThreadRunner,
    errors: ErrorRecorder,
) -> NotificationService:
    """The notification channels: the webhook (its URL from the secret store) and e-mail through the shared SMTP
    sender, both read from the live settings at each notification."""

    def channels() -> list[NotificationChannel]:  # net pool: reads the keychain
        now = preferences.current
        out: list[NotificationChannel] = []
        url = secrets.get(WEBHOOK_URL_REF)
        if url:
            out.append(WebhookChannel(url, now))
        if now.notify_email_to and mail.configured:
            out.append(MailChannel(mail, now.notify_email_to))
        return out

    return NotificationService(lambda: preferences.current, runner, channels, errors)


class _ExpiringNotifier:
    """``AdminNotifier`` for the expiry task: the "expiring" kind of the notification service (tray, webhook,
    e-mail to the admin)."""

    def __init__(self, notifications: NotificationService) -> None:
        self._notifications = notifications

    def notify(self, notice: AdminNotice) -> None:
        self._notifications.notify("expiring", notice.title, notice.body)


def _heartbeat_task(monitor: HealthService, settings: Callable[[], Settings]) -> TaskSpec:
    """The "heartbeat" background task: one health round every ``heartbeat_interval_s`` (the current one)."""
    return TaskSpec(
        "heartbeat", "Server heartbeats", lambda: settings().heartbeat_interval_s, monitor.heartbeat_task
    )


class _LazyHttpProbe:
    """``app.servers.diagnose.HttpProbe``, built on first use: it imports ``requests`` (~50 ms), which the
    desktop window's start-up does not need (the adapters load lazily for the same reason)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._probe: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._probe is None:
            from app.servers.diagnose import HttpProbe

            self._probe = HttpProbe(self._settings)
        return getattr(self._probe, name)
