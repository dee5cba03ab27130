"""Protocols through which services reach storage, media servers and secrets (DESIGN §2).

Every method here is **blocking**. Services never call them on the event loop directly: network calls go through
``Runner.net`` (the ``net`` pool) and cache writes through ``Runner.db`` (the single ``db-writer`` thread).
Read methods of the stores open their own read-only connection per thread and may run on any thread.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar, runtime_checkable

from app.core.filters import TrackFilter, TrackSort
from app.core.health import DiagnosticResult, DiagnosticRun, ErrorEvent, HealthCheck, Incident, ProbeResult
from app.core.models import (
    AccountEvent,
    AccountExpiry,
    AccountRef,
    AlbumRecord,
    Backup,
    Capability,
    Change,
    ConnectResult,
    Credentials,
    Identity,
    Invitation,
    Library,
    ListingMark,
    MergeCounts,
    NewInvitation,
    NewServer,
    PartitionLevel,
    Redemption,
    RememberedShare,
    RemoteLibrary,
    RemoteUser,
    Restrictions,
    Server,
    ServerIdentity,
    ServerKind,
    SyncRun,
    TaskRun,
    Track,
    TrackBucket,
    TrackRecord,
    User,
)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a paged listing. ``total`` is what the server said the whole listing holds;
    ``failed`` counts items in this page that could not be parsed (they are skipped and logged)."""

    items: list[T]
    total: int
    failed: int = 0
    failed_ids: tuple[str, ...] = field(default=())


class ServerConnection(Protocol):
    """One connected media server. Methods block, honour the client's deadline, and raise only
    ``core.errors.ExternalServiceError`` subclasses naming the server (never a library exception)."""

    @property
    def kind(self) -> ServerKind: ...

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    def identity(self) -> ServerIdentity: ...

    def close(self) -> None: ...


class TrackListing(ServerConnection, Protocol):
    """What a sync lists: libraries, albums and tracks, complete or changed since a time."""

    @property
    def needs_album_pass(self) -> bool:
        """True when tracks carry no genre/year and must inherit them from albums (Plex)."""
        ...

    def music_libraries(self) -> list[RemoteLibrary]: ...

    def count_tracks(self, library_key: str) -> int: ...

    def count_albums(self, library_key: str) -> int: ...

    def fetch_albums(self, library_key: str, start: int, size: int) -> Page[AlbumRecord]: ...

    def fetch_tracks(self, library_key: str, start: int, size: int) -> Page[TrackRecord]: ...

    # -- "changed since" listings (DESIGN §4.2): ``since`` is the server's clock (epoch seconds)

    @property
    def track_changes(self) -> tuple[Change, ...]:
        """The track listings a refresh asks for (``Change.ALBUM`` is asked only when albums changed)."""
        ...

    def server_time(self) -> float | None:
        """The server's clock from the ``Date`` header of the last answer (call after ``identity()``)."""
        ...

    def count_changed_tracks(self, library_key: str, change: Change, since: float) -> int: ...

    def fetch_changed_tracks(
        self, library_key: str, start: int, size: int, *, change: Change, since: float
    ) -> Page[TrackRecord]: ...

    def count_changed_albums(self, library_key: str, since: float) -> int: ...

    def fetch_changed_albums(
        self, library_key: str, start: int, size: int, *, since: float
    ) -> Page[AlbumRecord]: ...

    # -- finding deletions without a complete listing (DESIGN §4.2): counts over a partition, then ids

    @property
    def partition(self) -> tuple[PartitionLevel, ...]:
        """The levels the server can count a library's tracks by, coarsest first (empty: it cannot)."""
        ...

    @property
    def max_bucket_values(self) -> int:
        """How many values one ``count_tracks_in`` request may name (the URL stays short)."""
        ...

    def count_tracks_in(self, library_key: str, bucket: TrackBucket) -> int:
        """How many tracks of the library fall in ``bucket`` (one count-only request)."""
        ...

    @property
    def max_ids_per_request(self) -> int: ...

    def existing_tracks(self, library_key: str, remote_ids: Sequence[str]) -> set[str]:
        """Which of ``remote_ids`` (at most ``max_ids_per_request``) the server still has (one request)."""
        ...


class UserListing(ServerConnection, Protocol):
    """The accounts of the server (as it lists them; ``services.user_policy`` decides what Zondarr keeps)."""

    def users(self) -> list[RemoteUser]: ...


class UserAdmin(UserListing, Protocol):
    """Account administration. A client without the matching Capability raises ValidationError saying why."""

    def create_user(
        self,
        username: str,
        password: str | None,
        email: str | None,
        library_keys: Sequence[str],
        restrictions: Restrictions | None = None,
    ) -> RemoteUser:
        """Creates (Jellyfin) or invites/shares with (Plex) an account with access to exactly ``library_keys``
        (empty = every library) and ``restrictions``. Raises ValidationError (username taken, missing input, a
        restriction the kind does not have), ExternalServiceError."""
        ...

    def set_user_disabled(self, remote_id: str, disabled: bool) -> None:
        """Needs Capability.DISABLE_USER. Raises NotFoundError, ValidationError, ExternalServiceError."""
        ...

    def delete_user(self, remote_id: str) -> None:
        """Needs Capability.DELETE_USER (Plex: removes the share of this server). Raises NotFoundError ..."""
        ...

    def set_library_access(self, remote_id: str, library_keys: Sequence[str] | None) -> None:
        """Needs Capability.LIBRARY_ACCESS. ``None`` = every library; ``()`` = none (Plex: share removed)."""
        ...

    def set_restrictions(self, remote_id: str, restrictions: Restrictions) -> None:
        """Applies the fields that are not None (each needs its Capability: MAX_SESSIONS, ALLOW_DOWNLOADS,
        REMOTE_ACCESS; a missing one raises ValidationError saying why). Raises NotFoundError, ExternalServiceError."""
        ...


class MediaServerClient(TrackListing, UserAdmin, Protocol):
    """Every capability of a connected server (what ``ClientFactory.connect`` returns); a use case asks for
    the narrowest of ``TrackListing``, ``UserListing``, ``UserAdmin``."""


@runtime_checkable
class PendingInvites(Protocol):
    """A client whose new accounts are invitations pending until accepted (Plex: plex.tv shares). Blocking;
    call through the runner's ``net`` pool."""

    def resend_invite(self, remote_id: str) -> None:
        """Sends the pending invitation of ``remote_id`` again. Raises NotFoundError (nothing pending),
        ValidationError (accepted meanwhile), ExternalServiceError."""
        ...

    def sharing_allowed(self) -> bool:
        """False when the server's account may not invite anyone yet (plex.tv: e-mail not verified)."""
        ...


@runtime_checkable
class DeviceSignIn(Protocol):
    """A client that can sign in someone's device as one of its accounts (Capability.SIGN_IN_DEVICE; Jellyfin's
    Quick Connect). Blocking; call through the runner's ``net`` pool."""

    def quick_connect_enabled(self) -> bool: ...

    def authorize_device(self, remote_id: str, code: str) -> None:
        """Approves the device showing ``code`` as ``remote_id``. Raises ValidationError (bad, unknown or
        expired code; Quick Connect off; not allowed), NotFoundError (no such account), ExternalServiceError."""
        ...


class ClientFactory(Protocol):
    """Builds clients by server kind (the registry in ``app.servers``)."""

    def connect(self, server: Server, credentials: Credentials) -> MediaServerClient:
        """Connects with stored credentials. Raises ExternalServiceError (AuthFailed, ServerUnreachable ...)."""
        ...

    def authenticate(self, new: NewServer, credentials: Credentials) -> ConnectResult:
        """Tests a server the admin is adding: reaches it, checks it is the right kind, verifies the
        credentials, and returns the token to store (a Jellyfin password is exchanged for an access token)."""
        ...

    def detect_kind(self, url: str) -> ServerKind | None:
        """Which kind answers at ``url`` (public endpoints, no credential sent); None for neither. Blocks."""
        ...

    def locate_plex(self, machine_id: str, token: str) -> str | None:
        """Where the Plex server ``machine_id`` answers now, from plex.tv's resources (best connection first);
        None when plex.tv does not list it or no address answers. Blocks. Raises ExternalServiceError."""
        ...


class SecretStore(Protocol):
    """OS keychain (keyring) with a 0600 file fallback. Values never reach SQLite or logs."""

    def get(self, ref: str) -> str | None: ...

    def set(self, ref: str, value: str) -> None: ...

    def delete(self, ref: str) -> None: ...


class ServerStore(Protocol):
    def add(self, new: NewServer, result: ConnectResult) -> Server:
        """Raises ValidationError when the name is taken."""
        ...

    def list(self) -> list[Server]: ...

    def get_by_name(self, name: str) -> Server:
        """Raises NotFoundError naming the server."""
        ...

    def get(self, server_id: int) -> Server: ...

    def remove(self, server_id: int) -> None:
        """Deletes the server and its cached rows (libraries, albums, tracks, users)."""
        ...

    def set_identity(self, server_id: int, identity: ServerIdentity) -> None: ...

    def mark_synced(self, server_id: int, when: float) -> None: ...

    def set_url(self, server_id: int, url: str) -> Server:
        """One transaction; only the URL changes (not ``machine_id``). Raises NotFoundError."""
        ...


class TrackReader(Protocol):
    """The read side of the cached tracks: what the window and the CLI are handed. Any thread (each call one
    consistent snapshot on that thread's read-only connection). Raises CacheError."""

    def listing_marks(self, server_id: int) -> dict[str, ListingMark]:
        """The stored listing mark of each library of the server that has one."""
        ...

    def library_track_counts(self, server_id: int) -> dict[str, int]:
        """Cached tracks per library key."""
        ...

    def libraries(self, server_id: int | None = None) -> list[Library]: ...

    def count(self, flt: TrackFilter) -> int: ...

    def query(
        self, flt: TrackFilter, sort: TrackSort, limit: int | None = None, offset: int = 0
    ) -> list[Track]: ...

    def ids(self, flt: TrackFilter, sort: TrackSort) -> Sequence[int]:
        """The ordered id snapshot of a view (for the lazy table model); compact (e.g. ``array('q')``)."""
        ...

    def get_many(self, ids: Sequence[int]) -> list[Track]:
        """Tracks by local id, in the order given; ids that no longer exist are skipped."""
        ...

    def genres(self) -> list[str]: ...


class TrackStaging(Protocol):
    """The sync's write path. Write methods run on the db-writer thread; each is one transaction."""

    def begin_staging(self, server_id: int) -> None:
        """Drops staged rows a killed or failed earlier run may have left for this server."""
        ...

    def stage_albums(self, server_id: int, library_key: str, albums: Sequence[AlbumRecord]) -> None:
        """Stages one page of albums; at the merge, a staged track without genres or year takes its album's
        (real Plex tracks carry neither; SERVER-PROTOCOLS.md)."""
        ...

    def stage_tracks(self, server_id: int, library_key: str, tracks: Sequence[TrackRecord]) -> None:
        """Stages one page of tracks as the server listed them."""
        ...

    def commit_staging(
        self,
        server_id: int,
        libraries: Sequence[RemoteLibrary],
        merge_keys: Sequence[str],
        delete_vanished_keys: Sequence[str],
        *,
        replace: bool = False,
        max_removal_pct: float | None = None,
        marks: Mapping[str, ListingMark] | None = None,
    ) -> MergeCounts:
        """In ONE transaction: with ``replace`` (the server is another installation now) first deletes every
        cached library/album/track/user row of the server; upserts ``libraries``; for each library in
        ``merge_keys`` inserts new staged tracks and updates changed ones (rows whose content did not change are
        not written); for each library in ``delete_vanished_keys`` (a subset of ``merge_keys``) deletes cached
        tracks that were not staged; records ``marks`` (library key -> listing mark; a mark's None ``full_at``
        keeps the stored one); then clears this server's staging rows. Readers see either the old or the new
        library, never a mix. Raises RemovalsHeld (nothing changed, staging kept) when, with
        ``max_removal_pct``, the deletions would remove more than that share of a library's cached tracks."""
        ...

    def staged_totals(self, server_id: int, library_key: str) -> tuple[int, int]:
        """(tracks, albums) the library would hold after merging what is staged for it without deletions:
        cached rows plus distinct staged remote ids not cached yet."""
        ...

    def stage_deleted(self, server_id: int, library_key: str, remote_ids: Sequence[str]) -> None:
        """Stages tracks the server no longer has (found by a refresh without a complete listing): the merge
        deletes them, under the same removal floor as vanished tracks."""
        ...

    def expected_partition(
        self, server_id: int, library_key: str, levels: Sequence[PartitionLevel], fixed: Sequence[object]
    ) -> tuple[list[object], list[object], list[int]]:
        """(groups, handles, counts) of the library's tracks after a merge of what is staged (deletions left
        out): one entry per distinct value of level ``len(fixed)`` among the tracks whose earlier levels equal
        ``fixed`` (groups), ordered with every value whose handle is None last. Writer thread (reads staging)."""
        ...

    def expected_ids(
        self,
        server_id: int,
        library_key: str,
        levels: Sequence[PartitionLevel],
        fixed: Sequence[object],
        groups: Sequence[object],
        limit: int,
    ) -> list[str]:
        """Remote ids of the tracks ``expected_partition`` counts in ``groups`` (None: no value) under
        ``fixed``; at most ``limit`` + 1 of them (more than ``limit`` means too many to ask about)."""
        ...

    def discard_staging(self, server_id: int) -> None: ...

    def clear_server(self, server_id: int) -> None:
        """Deletes every cached library/album/track/user row of the server (identity changed)."""
        ...


class TrackStore(TrackReader, TrackStaging, Protocol):
    """Both sides (the sync service reads what is cached and stages what it lists)."""


class UserStore(Protocol):
    def replace_server_users(self, server_id: int, users: Sequence[RemoteUser]) -> MergeCounts: ...

    def list(self, server: str | None = None, search: str | None = None) -> list[User]: ...


class SyncRunStore(Protocol):
    def start(self, server_id: int | None, trigger: str) -> SyncRun: ...

    def save(self, run: SyncRun) -> None:
        """Writes the run's current stage, counts, status, message and error."""
        ...

    def list(self, limit: int = 100) -> list[SyncRun]: ...

    def last_finished(self, server_id: int) -> SyncRun | None: ...

    def abandon_running(self) -> int:
        """Marks runs left 'running' by a killed process as failed; returns how many."""
        ...


class SettingsStore(Protocol):
    def load_raw(self) -> dict[str, str]: ...

    def save_raw(self, values: Mapping[str, str]) -> None:
        """Upserts the given keys; other stored keys stay."""
        ...

    def remove_raw(self, keys: Sequence[str]) -> None:
        """Forgets the stored values of ``keys`` (their defaults apply again)."""
        ...


class JobLocks(Protocol):
    """Cross-process single-flight locks (a file lock per name in the data dir)."""

    def try_acquire(self, name: str) -> AbstractContextManager[None] | None:
        """A held lock (release by leaving the context), or None when another holder has it."""
        ...


class Runner(Protocol):
    """Moves blocking calls off the event loop: ``net`` to the network pool, ``db`` to the single writer,
    ``read`` to the cache-read pool."""

    def net(self, fn: Callable[..., R], *args: object) -> Awaitable[R]: ...

    def db(self, fn: Callable[..., R], *args: object) -> Awaitable[R]: ...

    def read(self, fn: Callable[..., R], *args: object) -> Awaitable[R]: ...


class Clock(Protocol):
    def __call__(self) -> float:
        """UTC epoch seconds."""
        ...


# ---------------------------------------------------------------- people stores


class InvitationStore(Protocol):
    """Writes: db-writer thread, one transaction each. Reads: any thread. Raises CacheError."""

    def create(self, new: NewInvitation) -> Invitation:
        """Raises ValidationError when the code exists already."""
        ...

    def get_by_code(self, code: str) -> Invitation | None: ...

    def get(self, invitation_id: int) -> Invitation | None: ...

    def set_enabled(self, invitation_id: int, enabled: bool) -> bool: ...

    def delete(self, invitation_id: int) -> bool: ...

    def claim_use(self, invitation_id: int, now: float) -> bool:
        """Atomically counts one use when the invitation is enabled, unexpired and not used up."""
        ...

    def release_use(self, invitation_id: int) -> None:
        """Gives back a use claimed by a redemption that was rolled back."""
        ...

    def expired_enabled(self, now: float) -> list[Invitation]: ...

    def add_redemption(
        self,
        invitation_id: int,
        server_id: int,
        username: str,
        email: str | None,
        remote_id: str | None,
        expires_at: float | None,
        status: str,
        error: str | None = None,
    ) -> Redemption: ...

    def redemptions(self, invitation_id: int | None = None) -> list[Redemption]: ...

    def due_account_expiries(self, now: float) -> list[Redemption]:
        """Redemptions with status ok whose account duration ended at or before ``now``."""
        ...

    def set_redemption_status(self, redemption_id: int, status: str, error: str | None = None) -> None: ...

    def list(self) -> list[Invitation]:
        """Newest first."""
        ...


class IdentityStore(Protocol):
    def create(self, display_name: str, email: str | None, note: str = "") -> Identity: ...

    def get(self, identity_id: int) -> Identity | None: ...

    def list(self) -> list[Identity]: ...

    def delete(self, identity_id: int) -> None: ...

    def link(self, identity_id: int, accounts: Sequence[AccountRef]) -> None:
        """Links accounts (moving them from another identity) and marks cached user rows."""
        ...

    def unlink(self, accounts: Sequence[AccountRef]) -> None: ...

    def accounts(self, identity_id: int | None = None) -> dict[AccountRef, int]:
        """Linked accounts -> identity id (of one identity, or all)."""
        ...


class AccountStore(Protocol):
    """The cached ``users`` rows as single accounts (the Users page acts on them)."""

    def find(self, server_id: int, name_or_id: str) -> User | None:
        """By remote id, else by username (case-insensitive)."""
        ...

    def library_access(self, server_id: int) -> dict[str, tuple[str, ...] | None]:
        """remote id -> cached library keys (None = every library)."""
        ...

    def upsert(self, server_id: int, user: RemoteUser) -> User: ...

    def set_disabled(self, server_id: int, remote_id: str, disabled: bool) -> None: ...

    def set_library_access(
        self, server_id: int, remote_id: str, library_keys: tuple[str, ...] | None
    ) -> None:
        """The cached access after a change on the server succeeded (None = every library)."""
        ...

    def remove(self, server_id: int, remote_id: str) -> None: ...


class ExclusionStore(Protocol):
    def add(self, server_id: int, remote_id: str, reason: str) -> None: ...

    def remove(self, server_id: int, remote_id: str) -> None: ...

    def excluded(self, server_id: int) -> set[str]:
        """Remote ids never (re-)imported into the users cache. Any thread."""
        ...


class ShareMemory(Protocol):
    """Library shares removed to disable an account (Plex), so enabling restores exactly them."""

    def remember(self, share: RememberedShare) -> None: ...

    def recall(self, server_id: int, remote_id: str) -> RememberedShare | None: ...

    def forget(self, server_id: int, remote_id: str) -> None: ...

    def remembered(self, server_id: int) -> list[RememberedShare]:
        """Any thread (adapters read it while listing users)."""
        ...


class TaskRunStore(Protocol):
    def start(self, task: str) -> TaskRun: ...

    def finish(self, run: TaskRun) -> None: ...

    def last(self, task: str) -> TaskRun | None:
        """The newest finished run of the task."""
        ...

    def list(self, task: str | None = None, limit: int = 100) -> list[TaskRun]: ...

    def abandon_running(self) -> int: ...


# ---------------------------------------------------------------- people over time


class ExpiryStore(Protocol):
    """When accounts end, and which reminders went out. Writes: db-writer thread, one transaction per call.
    Reads: any thread. Raises CacheError."""

    def set_expiry(self, changes: Sequence[tuple[AccountRef, float | None]]) -> None:
        """Sets (None: clears) each account's expiry; a new date clears ``disabled_at``."""
        ...

    def expiries(self, server_id: int | None = None) -> dict[AccountRef, AccountExpiry]: ...

    def due(self, now: float) -> list[AccountExpiry]:
        """Expired at or before ``now`` and not yet disabled by the expiry task."""
        ...

    def disabled_before(self, when: float) -> list[AccountExpiry]: ...

    def mark_disabled(self, ref: AccountRef, when: float) -> None: ...

    def forget(self, ref: AccountRef) -> None:
        """The account was deleted: its expiry and reminder rows go."""
        ...

    def reminders_sent(self) -> set[tuple[AccountRef, float, int]]:
        """(account, expiry date, threshold days) of every reminder already sent."""
        ...

    def record_reminder(self, ref: AccountRef, expires_at: float, days: int, mailed: bool) -> bool:
        """False when this reminder was recorded already."""
        ...


class HistoryStore(Protocol):
    """What Zondarr did to people. Writes: db-writer thread (one transaction per batch). Reads: any thread."""

    def record(self, events: Sequence[AccountEvent]) -> None: ...

    def list(
        self,
        *,
        server_id: int | None = None,
        remote_id: str | None = None,
        identity_id: int | None = None,
        limit: int = 500,
    ) -> list[AccountEvent]:
        """Newest first; by account, by person (identity), or all."""
        ...


# ---------------------------------------------------------------- outbound messages

MAIL_PASSWORD_REF = "smtp-password"  # the SMTP password's name in the SecretStore (never in settings/SQLite)


@dataclass(frozen=True, slots=True)
class MailMessage:
    """One plain-text e-mail to one address. ``to`` is a bare address (``name@example.org``)."""

    to: str
    subject: str
    body: str


class MailSender(Protocol):
    """Outbound e-mail over SMTP (``app.servers.mail.SmtpMailSender``). Reads the mail settings and the password
    at each call, so a change in Settings applies to the next message.

    Every method BLOCKS (connect, TLS, login, send; each socket operation bounded by ``smtp_timeout_s``): call it
    through ``Runner.net``, never on the loop thread. Raises only ``core.errors``: ConfigurationError (e-mail not
    set up: no host or sender), ValidationError (an address that is malformed or that the mail server refused),
    and ExternalServiceError subclasses named "mail server": AuthFailed (login refused), ServerUnreachable
    (no answer, TLS failure, timeout), ServerError (any other refusal). Secrets never appear in messages."""

    @property
    def configured(self) -> bool:
        """True when a host and a sender address are set (no network call)."""
        ...

    def send(self, message: MailMessage) -> None: ...

    def test(self) -> None:
        """Connects, starts TLS and logs in as a real send would, then quits without sending anything."""
        ...


@dataclass(frozen=True, slots=True)
class AdminNotice:
    """A message for the admin (a desktop notification in the window, a log line headless)."""

    title: str
    body: str
    kind: str = "info"  # info | warning (the tray picks an icon from it)


class AdminNotifier(Protocol):
    """Tells the admin something happened (reminders due, accounts expired). Called on the loop thread; must
    not block and must not raise (a notifier that cannot show a notice logs it). The UI implements it with the
    tray; headless runs use :class:`LoggingAdminNotifier`."""

    def notify(self, notice: AdminNotice) -> None: ...


class LoggingAdminNotifier:
    """The default ``AdminNotifier``: one INFO log line per notice (CLI, tests, no tray)."""

    def __init__(self) -> None:
        self.sent: deque[AdminNotice] = deque(maxlen=200)  # the latest notices, for tests and diagnostics

    def notify(self, notice: AdminNotice) -> None:
        self.sent.append(notice)
        logging.getLogger("app.notices").info("%s: %s", notice.title, notice.body)


class LoginItem(Protocol):
    """The per-user entry that starts Zondarr at login, hidden in the tray (``app.storage.autostart``). Any
    thread; ``enable``/``disable`` raise CacheError when the entry cannot be written or removed."""

    def is_enabled(self) -> bool: ...

    def enable(self) -> None: ...

    def disable(self) -> None: ...


class NotificationChannel(Protocol):
    """An outbound notification channel (a webhook, e-mail). ``send`` BLOCKS (bounded by the channel's timeout):
    call it through ``Runner.net``. Raises ZondarrError subclasses only; messages never hold the secret."""

    name: str

    def send(self, kind: str, title: str, text: str) -> None: ...


class BackupStore(Protocol):
    """Copies of the cache file (DESIGN §3). Blocking: ``create`` on the read pool (it reads the whole file
    through its own connection), ``list`` anywhere. Raise CacheError or FileWriteError."""

    def create(self, reason: str, keep: int) -> Backup:
        """A consistent copy of the cache now; afterwards only the ``keep`` newest backups remain."""
        ...

    def list(self) -> list[Backup]:
        """Newest first."""
        ...


# ---------------------------------------------------------------- health, diagnostics, error events


class HealthStore(Protocol):
    """health_checks and incidents. Writes: db-writer thread. Reads: any thread. Raises CacheError."""

    def record_check(
        self, server_id: int, checked_at: float, ok: bool, latency_ms: float | None, status: str, detail: str
    ) -> HealthCheck: ...

    def checks(self, server_id: int, since: float, until: float | None = None) -> list[HealthCheck]:
        """Oldest first."""
        ...

    def last_checks(self, server_id: int, n: int) -> list[HealthCheck]:
        """Newest first."""
        ...

    def uptime_counts(self, server_id: int, since: float) -> tuple[int, int]:
        """(successful checks, all checks) since ``since``."""
        ...

    def open_incident(self, server_id: int) -> Incident | None: ...

    def open(self, server_id: int, kind: str, opened_at: float, detail: str) -> Incident: ...

    def close(self, incident_id: int, closed_at: float) -> Incident: ...

    def acknowledge(self, incident_id: int, note: str, at: float) -> Incident:
        """Raises NotFoundError for an unknown id."""
        ...

    def incidents(
        self, server_id: int | None = None, *, open_only: bool = False, limit: int = 100
    ) -> list[Incident]:
        """Newest first."""
        ...


class DiagnosticStore(Protocol):
    def start_run(self, started_at: float) -> int: ...

    def add_results(self, run_id: int, results: Sequence[DiagnosticResult]) -> None: ...

    def finish_run(self, run_id: int, finished_at: float, status: str, summary: str) -> None: ...

    def runs(self, limit: int = 20) -> list[DiagnosticRun]:
        """Newest first, without results."""
        ...

    def get(self, run_id: int) -> DiagnosticRun | None:
        """A run with its results."""
        ...


class ServerProbe(Protocol):
    """Blocking (net pool). Never raises for network failures: they are in the result."""

    def probe(self, url: str, kind: ServerKind) -> ProbeResult: ...


class ErrorEventStore(Protocol):
    def add(
        self,
        correlation_id: str,
        error_type: str,
        user_message: str,
        detail: str,
        server: str | None,
        at: float,
    ) -> ErrorEvent: ...

    def by_correlation(self, correlation_id: str) -> list[ErrorEvent]: ...

    def list(self, limit: int = 100, search: str | None = None) -> list[ErrorEvent]:
        """Newest first; ``search`` matches correlation id (prefix), message, detail or server."""
        ...
