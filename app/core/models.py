"""Plain dataclasses shared by every layer. No behaviour beyond small derived values; stdlib only.

Times are UTC epoch seconds (``float``) everywhere inside the app; formatting happens at the edges.
Remote ids (Plex ``ratingKey``, Jellyfin ``Id``) are strings; local ids are SQLite integer row ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.errors import ZondarrError


class ServerKind(StrEnum):
    PLEX = "plex"
    JELLYFIN = "jellyfin"


class AuthMethod(StrEnum):
    TOKEN = "token"  # Plex X-Plex-Token
    API_KEY = "api_key"  # Jellyfin API key
    PASSWORD = "password"  # Jellyfin user/password: exchanged for an access token at add time


class Capability(StrEnum):
    """What an adapter can do against its server kind (the UI greys out what a kind cannot do)."""

    LIST_TRACKS = "list_tracks"
    LIST_USERS = "list_users"
    CREATE_USER = "create_user"
    DELETE_USER = "delete_user"
    DISABLE_USER = "disable_user"
    LIBRARY_ACCESS = "library_access"
    PASSWORD = "password"
    MAX_SESSIONS = "max_sessions"  # Restrictions.max_sessions
    ALLOW_DOWNLOADS = "allow_downloads"  # Restrictions.allow_downloads
    REMOTE_ACCESS = "remote_access"  # Restrictions.allow_remote
    PENDING_INVITES = "pending_invites"  # new accounts are invitations pending until accepted (plex.tv)
    SIGN_IN_DEVICE = "sign_in_device"  # approve a device's Quick Connect code as an account (Jellyfin)


class Change(StrEnum):
    """What a "changed since" listing asks for (SERVER-PROTOCOLS.md, "Changed since")."""

    METADATA = "metadata"  # Plex updatedAt (>= addedAt, so additions too); Jellyfin MinDateLastSaved
    USER_DATA = "user_data"  # ratings: Plex lastRatedAt; Jellyfin MinDateLastSavedForUser
    ALBUM = "album"  # tracks whose album changed (Plex album.updatedAt: they inherit its genres and year)


@dataclass(frozen=True, slots=True)
class TrackBucket:
    """Tracks of one library a server counts in one request (the deletion search, DESIGN §4.2). ``fixed`` holds
    one value per leading partition level (never None); ``values`` the values of the next level, ascending (never
    None). A server whose level is a range (Plex ``addedAt``) counts every track from the first to the last."""

    fixed: tuple[str | int | float, ...]
    values: tuple[str | int | float, ...]


@dataclass(frozen=True, slots=True)
class PartitionLevel:
    """One level of the partition a server can count tracks by: ``group`` is the ``TrackRecord`` field whose
    equal values form one bucket, ``handle`` the field the server is asked by (often the same; Jellyfin matches
    albums by name but is asked by an album id)."""

    group: str
    handle: str


@dataclass(frozen=True, slots=True)
class ListingMark:
    """When a library was last listed: ``since`` is the server's clock when that listing began (a refresh asks
    for what changed after it), ``full_at`` this app's clock when the last complete listing ended."""

    since: float
    full_at: float | None


class SyncStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished, but some items or libraries failed
    FAILED = "failed"
    CANCELLED = "cancelled"
    HELD = "held"  # a listing would remove too much: nothing changed, the admin decides (DESIGN §4.6)


class SyncStage(StrEnum):
    CONNECTING = "connecting"
    FETCHING = "fetching"
    PROCESSING = "processing"
    FINALIZING = "finalizing"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Server:
    """A configured media server. Secrets are *not* here: they live in the SecretStore under ``secret_ref``."""

    id: int
    name: str
    kind: ServerKind
    url: str
    auth_method: AuthMethod
    enabled: bool = True
    status: str = "verified"  # draft | verified: a draft is not synced until a Test connection succeeds
    machine_id: str | None = None  # server identity seen at the last successful sync/test
    remote_user_id: str | None = None  # Jellyfin: the user the token belongs to (None for API keys)
    version: str | None = None
    created_at: float = 0.0
    last_synced_at: float | None = None
    last_verified_at: float | None = None

    @property
    def secret_ref(self) -> str:
        """Key under which the server's secret is stored in the SecretStore."""
        return f"server:{self.name}"


@dataclass(frozen=True, slots=True)
class NewServer:
    """What the admin typed to add a server (before it has a local id)."""

    name: str
    kind: ServerKind
    url: str
    auth_method: AuthMethod


@dataclass(frozen=True, slots=True)
class Credentials:
    """A secret handed to an adapter. Never logged, stored in SQLite, or put in an exception."""

    token: str | None = None  # Plex token, Jellyfin API key or access token
    username: str | None = None  # Jellyfin user/password login only
    password: str | None = None

    def __repr__(self) -> str:  # secrets never reach logs through repr()
        return f"Credentials(token={'***' if self.token else None}, username={self.username!r}, password=***)"


@dataclass(frozen=True, slots=True)
class ServerIdentity:
    """Who answered: the stable id of the server installation, its name and version."""

    machine_id: str
    name: str
    version: str
    kind: ServerKind


@dataclass(frozen=True, slots=True)
class ConnectResult:
    """Outcome of authenticating a new server: its identity and the secret to store (a token, never a password)."""

    identity: ServerIdentity
    token: str
    remote_user_id: str | None = None
    is_admin: bool | None = None  # Jellyfin user sign-ins: whether the account administers the server


@dataclass(frozen=True, slots=True)
class RemoteLibrary:
    """A music library (Plex section, Jellyfin collection folder) as the server lists it."""

    key: str
    title: str


@dataclass(frozen=True, slots=True)
class Library:
    id: int
    server_id: int
    key: str
    title: str
    track_count: int = 0


@dataclass(frozen=True, slots=True)
class AlbumRecord:
    """An album as read from a server page. Plex tracks inherit genres and year from here."""

    remote_id: str
    title: str
    artist: str | None = None
    year: int | None = None
    genres: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """A track as read from a server page (no local ids). ``rating`` is 0-10 or None; ``added_at`` epoch s."""

    remote_id: str
    title: str
    artist: str | None = None
    album: str | None = None
    album_artist: str | None = None
    album_remote_id: str | None = None
    genres: tuple[str, ...] = ()
    year: int | None = None
    rating: float | None = None
    duration_ms: int | None = None
    track_no: int | None = None
    disc_no: int | None = None
    added_at: float | None = None
    is_live: bool = False


@dataclass(frozen=True, slots=True)
class Track:
    """A cached track, as the library view and ``tracks --json`` show it."""

    id: int
    server_id: int
    server: str
    library: str
    remote_id: str
    title: str
    artist: str | None
    album: str | None
    album_artist: str | None
    genres: tuple[str, ...]
    year: int | None
    rating: float | None
    duration_ms: int | None
    track_no: int | None
    is_live: bool
    added_at: float | None

    def to_json(self) -> dict[str, object]:
        """The documented, stable ``--json`` shape of a track (docs/CLI.md "JSON output")."""
        return {
            "server": self.server,
            "library": self.library,
            "id": self.remote_id,
            "title": self.title,
            "artist": self.artist,
            "album": self.album,
            "album_artist": self.album_artist,
            "genres": list(self.genres),
            "year": self.year,
            "rating": self.rating,
            "duration_ms": self.duration_ms,
            "track_no": self.track_no,
            "is_live": self.is_live,
            "added_at": self.added_at,
        }


@dataclass(frozen=True, slots=True)
class RemoteUser:
    """An account as a server lists it."""

    remote_id: str
    username: str
    email: str | None = None
    is_admin: bool = False
    is_disabled: bool = False
    library_keys: tuple[str, ...] | None = None  # None = all libraries
    last_active_at: float | None = None  # Jellyfin LastActivityDate, Plex lastSeenAt; None = unknown
    pending_since: float | None = None  # Plex: invited on plex.tv at this time, not accepted yet


@dataclass(frozen=True, slots=True)
class User:
    """A cached account on one server."""

    id: int
    server_id: int
    server: str
    remote_id: str
    username: str
    email: str | None
    is_admin: bool
    is_disabled: bool
    identity_id: int | None = None
    seen_at: float | None = None
    last_active_at: float | None = None  # as the server reported it at the last users sync; None = unknown
    expires_at: float | None = None  # when Zondarr disables the account (None = never)
    pending_since: float | None = None  # Plex: the plex.tv invitation is not accepted yet (invited then)

    def to_json(self) -> dict[str, object]:
        return {
            "server": self.server,
            "id": self.remote_id,
            "username": self.username,
            "email": self.email,
            "is_admin": self.is_admin,
            "is_disabled": self.is_disabled,
            "last_active_at": self.last_active_at,
            "expires_at": self.expires_at,
            "pending_since": self.pending_since,
        }


@dataclass(frozen=True, slots=True)
class MergeCounts:
    """What a committed sync changed in the cache."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


@dataclass(slots=True)
class SyncRun:
    """One sync of one server (a row of ``sync_runs``)."""

    id: int
    server_id: int | None
    trigger: str  # cli | manual | startup | stale | task
    status: SyncStatus
    stage: SyncStage
    started_at: float
    finished_at: float | None = None
    total: int = 0
    done: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed_items: int = 0
    message: str = ""
    error: str | None = None
    correlation_id: str | None = None
    removed_server: str | None = None  # the server's name once it was removed (server_id is None then)

    @property
    def duration_s(self) -> float | None:
        return None if self.finished_at is None else self.finished_at - self.started_at

    def server_label(self, names: dict[int, str]) -> str:
        """The server's name for history views (``names``: id → name of the servers that exist)."""
        if self.server_id is not None:
            return names.get(self.server_id, "(removed)")
        return f"{self.removed_server} (removed)" if self.removed_server else "all"


@dataclass(frozen=True, slots=True)
class LibrarySyncInfo:
    """How one library was listed in a run: ``mode`` "full" (every item) or "delta" (only what changed since
    the last listing), and how many items (tracks and albums) were fetched."""

    key: str
    title: str
    mode: str
    fetched: int
    requests: int = 0  # requests sent for this library (counts, pages, and the deletion search's probes)
    deleted: int = 0  # tracks a refresh found deleted without listing the library (0 for a full listing)


@dataclass(frozen=True, slots=True)
class ServerSyncResult:
    """The outcome of syncing one server inside a sync job."""

    server: str
    status: SyncStatus
    run_id: int | None
    counts: MergeCounts = field(default_factory=MergeCounts)
    total: int = 0
    failed_items: int = 0
    message: str = ""
    error: ZondarrError | None = None  # why it failed or was cancelled (rendered at the edge: CLI, UI)
    libraries: tuple[LibrarySyncInfo, ...] = ()


# ---------------------------------------------------------------- people


class InvitationStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    USED_UP = "used up"
    DISABLED = "disabled"
    NO_SERVERS = "no servers"  # every target server was removed


class RefusalReason(StrEnum):
    """Why an invitation cannot be redeemed (the words the CLI and the UI show)."""

    NOT_FOUND = "not found"
    NO_SERVERS = "no servers"
    DISABLED = "disabled"
    EXPIRED = "expired"
    USED_UP = "used up"
    SERVER_UNAVAILABLE = "server unavailable"
    USERNAME_TAKEN = "username taken"
    LIBRARY_MISSING = "library missing"
    NOT_SUPPORTED = "not supported"


@dataclass(frozen=True, slots=True)
class InvitationTarget:
    """One target server of an invitation and the library keys to share there (empty = all libraries)."""

    server_id: int
    server: str
    library_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NewInvitation:
    code: str
    targets: tuple[InvitationTarget, ...]
    expires_at: float | None = None
    max_uses: int | None = None
    duration_days: int | None = None
    note: str = ""
    restrictions: Restrictions = field(default_factory=lambda: Restrictions())


@dataclass(frozen=True, slots=True)
class Invitation:
    id: int
    code: str
    enabled: bool
    created_at: float
    expires_at: float | None
    max_uses: int | None
    use_count: int
    duration_days: int | None
    note: str
    targets: tuple[InvitationTarget, ...] = ()
    restrictions: Restrictions = field(default_factory=lambda: Restrictions())
    removed_servers: tuple[str, ...] = ()  # names of target servers removed since it was created

    def to_json(self, status: str) -> dict[str, object]:
        return {
            "code": self.code,
            "status": status,
            "enabled": self.enabled,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "max_uses": self.max_uses,
            "use_count": self.use_count,
            "duration_days": self.duration_days,
            "note": self.note,
            "servers": [{"server": t.server, "libraries": list(t.library_keys)} for t in self.targets],
            "restrictions": self.restrictions.to_json(),
            "removed_servers": list(self.removed_servers),
        }


@dataclass(frozen=True, slots=True)
class Redemption:
    """One account created (or attempted) on one server by redeeming an invitation."""

    id: int
    invitation_id: int
    server_id: int | None
    username: str
    email: str | None
    redeemed_at: float
    expires_at: float | None
    status: str  # ok | rolled_back | failed | expired
    error: str | None = None
    remote_id: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """One person; their accounts on servers are linked by (server, remote id)."""

    id: int
    display_name: str
    email: str | None
    note: str = ""
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class AccountRef:
    """An account named by server and remote id (survives a rebuild of the users cache)."""

    server_id: int
    remote_id: str


@dataclass(frozen=True, slots=True)
class RememberedShare:
    """Library access Zondarr removed to "disable" an account on a server without a disabled state (Plex)."""

    server_id: int
    remote_id: str
    username: str
    library_keys: tuple[str, ...] | None  # None = every library
    removed_at: float


@dataclass(slots=True)
class TaskRun:
    """One run of a background task (a row of ``task_runs``)."""

    id: int
    task: str
    started_at: float
    finished_at: float | None = None
    status: str = "running"  # running | succeeded | failed
    message: str = ""
    correlation_id: str | None = None

    @property
    def duration_s(self) -> float | None:
        return None if self.finished_at is None else self.finished_at - self.started_at


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """What the Tasks page and ``tasks list`` show for one task."""

    name: str
    title: str
    interval_s: float
    next_run_at: float | None
    paused: bool
    running: bool
    last_run: TaskRun | None = None

    def to_json(self) -> dict[str, object]:
        last = self.last_run
        return {
            "name": self.name,
            "title": self.title,
            "interval_s": self.interval_s,
            "next_run_at": self.next_run_at,
            "paused": self.paused,
            "running": self.running,
            "last_status": None if last is None else last.status,
            "last_message": None if last is None else last.message,
            "last_started_at": None if last is None else last.started_at,
            "last_duration_s": None if last is None else last.duration_s,
        }


# ---------------------------------------------------------------- people over time


@dataclass(frozen=True, slots=True)
class AccountExpiry:
    """When an account ends (primary data). ``disabled_at`` is set once the expiry task disabled it; the grace
    period before a deletion counts from there."""

    server_id: int
    remote_id: str
    expires_at: float
    disabled_at: float | None = None


class AccountAction(StrEnum):
    """What Zondarr did to an account (a row of the history)."""

    CREATED = "created"
    ACCESS = "access changed"
    EXPIRY = "expiry set"
    DISABLED = "disabled"
    ENABLED = "enabled"
    DELETED = "deleted"
    REMINDER = "reminder sent"
    RESTRICTIONS = "restrictions set"
    INVITE_RESENT = "invitation sent again"
    INVITE_CANCELLED = "invitation cancelled"


class Trigger(StrEnum):
    ADMIN = "admin"
    TASK = "task"
    INVITATION = "invitation"


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """One change Zondarr made (or tried) to one account on one server. ``server`` keeps the server's name after
    the server is removed."""

    at: float
    server: str
    remote_id: str
    username: str
    action: str  # an AccountAction value
    trigger: str  # a Trigger value
    ok: bool
    message: str = ""
    server_id: int | None = None
    identity_id: int | None = None
    id: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "at": self.at,
            "server": self.server,
            "id": self.remote_id,
            "username": self.username,
            "action": self.action,
            "trigger": self.trigger,
            "ok": self.ok,
            "message": self.message,
            "identity_id": self.identity_id,
        }


@dataclass(frozen=True, slots=True)
class Restrictions:
    """Per-account limits an invitation carries (applied at redemption) or the admin re-applies. None = leave as
    the server has it. Jellyfin: all three; Plex: ``allow_downloads`` (plex.tv "allow sync") only."""

    max_sessions: int | None = None  # Jellyfin MaxActiveSessions (0 = unlimited)
    allow_downloads: bool | None = (
        None  # Jellyfin EnableContentDownloading + EnableSyncTranscoding; Plex allowSync
    )
    allow_remote: bool | None = None  # Jellyfin EnableRemoteAccess

    @property
    def empty(self) -> bool:
        return self.max_sessions is None and self.allow_downloads is None and self.allow_remote is None

    def to_json(self) -> dict[str, object]:
        return {
            "max_sessions": self.max_sessions,
            "allow_downloads": self.allow_downloads,
            "allow_remote": self.allow_remote,
        }

    @classmethod
    def from_json(cls, data: object) -> Restrictions:
        """Tolerant of missing keys and wrong types (stored JSON written by another version)."""
        d = data if isinstance(data, dict) else {}
        sessions = d.get("max_sessions")
        downloads, remote = d.get("allow_downloads"), d.get("allow_remote")
        return cls(
            sessions if isinstance(sessions, int) and not isinstance(sessions, bool) else None,
            downloads if isinstance(downloads, bool) else None,
            remote if isinstance(remote, bool) else None,
        )


@dataclass(frozen=True, slots=True)
class Backup:
    """A copy of the cache file in the data folder's ``backups/`` (or a file given to restore). ``reason``:
    daily, manual, before-migration-vN, before-restore."""

    name: str
    created_at: float
    reason: str
    size: int
    schema_version: int

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "created_at": self.created_at,
            "reason": self.reason,
            "bytes": self.size,
            "schema_version": self.schema_version,
        }
