"""State shared by the routes of one demo server: the synthetic library, the credentials it accepts, its
identity, and the little mutable state (users, plex.tv shares, issued Jellyfin tokens). Mutations hold ``lock``."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from app.demo.edits import LibraryEdits
from app.demo.jellyfin_quickconnect import QuickConnect
from app.demo.library import DemoLibrary, DemoUser

PLEX_VERSION = "1.41.3.9314-a0bfb8370"
JELLYFIN_VERSION = "10.11.11"


def machine_id_for(kind: str, seed: int, changed: bool = False) -> str:
    """Plex: 40-hex machineIdentifier; Jellyfin: 32-hex server Id. Stable for (kind, seed, changed)."""
    text = f"zondarr-demo:{kind}:{seed}:{'changed' if changed else 'original'}".encode()
    digest = hashlib.sha1(text, usedforsecurity=False).hexdigest()
    return digest if kind == "plex" else digest[:32]


@dataclass
class PlexShare:
    """A plex.tv share of this server with a user (existing users) or an invited email (pending)."""

    id: int
    user_id: int
    username: str
    email: str
    section_keys: tuple[str, ...]  # PMS section keys
    all_libraries: bool
    pending: bool
    invited_at: int
    allow_sync: bool = (
        False  # plex.tv "allow downloads" (sharing_settings.allowSync; PUT /api/v2/sharings/{id})
    )


@dataclass
class DemoContext:
    library: DemoLibrary
    token: str
    password: str
    name: str
    host: str
    port: int = 0
    users: list[DemoUser] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)  # Jellyfin user id -> password
    issued_tokens: dict[str, str] = field(default_factory=dict)  # Jellyfin access token -> user id
    policies: dict[str, dict[str, object]] = field(default_factory=dict)  # Jellyfin user id -> UserPolicy
    identity_changed: Callable[[], bool] = lambda: False  # the fault state's "identity-change active" check
    set_faults: Callable[[str], None] = lambda spec: None  # replaces the server's faults (control endpoint)
    shares: list[PlexShare] = field(default_factory=list)
    removed_friends: set[int] = field(default_factory=set)  # plex.tv ids of friends removed (removeFriend)
    # username -> epoch of the account's last activity (Jellyfin LastActivityDate, Plex share lastSeenAt);
    # tests set it to stage inactive accounts; absent = a deterministic time from the account's index
    activity: dict[str, float] = field(default_factory=dict)
    last_share_id: int = 0  # plex.tv never reuses an id, even after a share is removed
    invitee_ids: dict[str, int] = field(default_factory=dict)  # plex.tv ids of invited addresses
    account_confirmed: bool = True  # plex.tv: the owner's e-mail is verified (sharing needs it)
    lock: threading.RLock = field(default_factory=threading.RLock)
    pin_approve_after_polls: int = 0  # demo plex.tv: approve a sign-in PIN by itself after this many polls
    scheme: str = "http"  # https when the demo serves TLS
    extra_connections: tuple[tuple[str, str], ...] = ()  # demo plex.tv: more (where, uri) of this server

    def __post_init__(self) -> None:
        lib = self.library
        self.edits = LibraryEdits(lib)  # the library as edited by tests (/zondarr-demo/edit)
        self.quick_connect = QuickConnect(self.lock)  # Jellyfin's pending Quick Connect requests
        self.users = list(lib.users)
        self.machine_id = machine_id_for(lib.kind, lib.seed)
        self.changed_machine_id = machine_id_for(lib.kind, lib.seed, changed=True)
        if self.users:
            self.passwords[self.users[0].jellyfin_id] = self.password
        for user in self.users[1:]:
            # Existing friends share everything or their listed libraries; managed (home) users are not pending.
            keys = user.library_keys or tuple(k for k, _, _ in lib.music_libraries())
            self.shares.append(
                PlexShare(
                    user.index,
                    user.plex_id,
                    user.username,
                    user.email or "",
                    keys,
                    user.library_keys is None,
                    False,
                    1_600_000_000 + user.index * 86_400,
                    True,
                )
            )

    def last_active(self, username: str, index: int) -> float:
        with self.lock:
            return self.activity.get(username, 1_700_000_000 + index * 3600)

    def identity(self, changed: bool) -> str:
        return self.changed_machine_id if changed else self.machine_id

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"
