"""What the composition roots (cli.py, main.py) hand to the front ends: stores through ports, and services.

Front ends (CLI commands, Qt pages) read through these ports and run use cases through these services; they
never import storage or servers themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.core.ports import (
    Clock,
    LoginItem,
    Runner,
    SecretStore,
    ServerStore,
    SettingsStore,
    SyncRunStore,
    TrackStore,
    UserStore,
)
from app.core.settings import Settings
from app.services.backups import BackupService
from app.services.bundle import BundleWriter
from app.services.device_signin import DeviceSignInService
from app.services.diagnostics import DiagnosticsService
from app.services.error_recorder import ErrorRecorder
from app.services.expiry import ExpiryService
from app.services.health import HealthService
from app.services.identities import IdentityService
from app.services.invitations import InvitationService
from app.services.invite_card import InviteCardService
from app.services.jellyfin_signin import JellyfinSignInService
from app.services.notifications import NotificationService
from app.services.plex_signin import PlexSignInService
from app.services.preferences import SettingsService
from app.services.servers import ServerService
from app.services.sync import SyncService
from app.services.tasks import TaskScheduler
from app.services.users import UserService


@dataclass
class AppContext:
    """Built once per process by a composition root; ``close()`` releases threads and the cache."""

    data_dir: Path
    settings: Settings
    runner: Runner
    server_store: ServerStore
    tracks: TrackStore
    users: UserStore
    runs: SyncRunStore
    settings_store: SettingsStore
    servers: ServerService
    sync: SyncService
    clock: Clock
    secrets: SecretStore | None = None
    # Set when the cache was opened without its start-up quick_check (desktop app): run it off the GUI thread
    # after the first paint; it raises CacheError when the file is damaged.
    deferred_cache_check: Callable[[], None] | None = None
    # Issue 5: health, diagnostics, error events (None in contexts built without them, e.g. some tests).
    health: HealthService | None = None
    diagnostics: DiagnosticsService | None = None
    errors: ErrorRecorder | None = None
    bundle: BundleWriter | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)
    # people (issue 4): account actions and user sync, invitations, identities, background tasks
    user_admin: UserService | None = None
    invitations: InvitationService | None = None
    identities: IdentityService | None = None
    tasks: TaskScheduler | None = None
    # people over time (issue 13): account expiry, reminders and the deletions that wait for confirmation
    expiry: ExpiryService | None = None
    # desktop: live settings (the Settings dialog), notifications (tray, webhook, e-mail), start at login
    preferences: SettingsService | None = None
    notifications: NotificationService | None = None
    login_entry: LoginItem | None = None
    invite_cards: InviteCardService | None = None
    devices: DeviceSignInService | None = None  # Quick Connect: sign in someone's device as their account
    backups: BackupService | None = None  # copies of the cache: on demand and the daily "backup" task
    # signing in and finding servers (issue 12)
    plex_signin: PlexSignInService | None = None
    jellyfin_signin: JellyfinSignInService | None = None

    def close(self) -> None:
        """Closes in reverse order of opening (threads first, then the cache). Idempotent."""
        while self.closers:
            self.closers.pop()()
