"""What the composition root (``app/wiring.py``) hands to the front ends: stores through ports, and services.

Front ends (CLI commands, Qt pages) read through these ports and run use cases through these services; they
never import storage or servers themselves. The context is frozen: everything in it is built by
``app.wiring.build_context`` in one call, and nothing is attached to it afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from app.core.ports import (
    Clock,
    LoginItem,
    Runner,
    SecretStore,
    ServerStore,
    SettingsStore,
    SyncRunStore,
    TrackReader,
    UserStore,
)
from app.core.settings import Settings
from app.services.backups import BackupService
from app.services.bundle import BundleWriter
from app.services.diagnostics import DiagnosticsService
from app.services.error_recorder import ErrorRecorder
from app.services.health import HealthService
from app.services.invite_card import InviteCardService
from app.services.jellyfin_signin import JellyfinSignInService
from app.services.notifications import NotificationService
from app.services.people import PeopleServices
from app.services.plex_signin import PlexSignInService
from app.services.preferences import SettingsService
from app.services.server_moves import ServerMoves
from app.services.servers import ServerService
from app.services.sync import SyncService


@dataclass(frozen=True)
class HealthServices:
    """Server health: heartbeats, incidents and alerts (``monitor``), the diagnostic checks and the support
    bundle."""

    monitor: HealthService
    diagnostics: DiagnosticsService
    bundle: BundleWriter


class Closers:
    """What to close when the context closes, called in reverse order of opening (threads first, then the
    cache), each once."""

    def __init__(self, closers: Iterable[Callable[[], None]] = ()) -> None:
        self._closers = list(closers)

    def close(self) -> None:
        """Idempotent; a closer that raises stops the ones opened before it (as a failed ``with`` would)."""
        while self._closers:
            self._closers.pop()()


@dataclass(frozen=True)
class AppContext:
    """Built once per process by ``app.wiring.build_context``; ``close()`` releases threads and the cache."""

    data_dir: Path
    settings: Settings
    runner: Runner
    server_store: ServerStore
    tracks: TrackReader  # the window and the CLI read; only the sync service stages
    users: UserStore
    runs: SyncRunStore
    settings_store: SettingsStore
    secrets: SecretStore
    clock: Clock
    servers: ServerService
    sync: SyncService
    errors: ErrorRecorder  # every error the admin sees is stored as an event behind its reference
    health: HealthServices
    # account actions and user sync, invitations, identities, background tasks, account expiry
    people: PeopleServices
    invite_cards: InviteCardService
    # desktop: live settings (the Settings dialog), notifications (tray, webhook, e-mail), start at login
    preferences: SettingsService
    notifications: NotificationService
    login_entry: LoginItem
    backups: BackupService  # copies of the cache: on demand and the daily "backup" task
    plex_signin: PlexSignInService  # signing in with Plex and finding its servers
    jellyfin_signin: JellyfinSignInService  # Jellyfin discovery, Quick Connect and API keys
    server_moves: ServerMoves  # a Plex server that moved, found again through plex.tv (what was said)
    closers: Closers
    # Set when the cache was opened without its start-up quick_check (desktop app): run it off the GUI thread
    # after the first paint; it raises CacheError when the file is damaged.
    deferred_cache_check: Callable[[], None] | None = None

    def close(self) -> None:
        """Closes in reverse order of opening (threads first, then the cache). Idempotent."""
        self.closers.close()
