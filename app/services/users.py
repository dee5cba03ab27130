"""Account use cases: enable / disable / delete accounts on their servers (one or many, per-account results),
user re-sync with discrepancy review (orphaned / stale), and the exclusion list. Qt-free coroutines for the
event loop; blocking calls go through the runner.

"Disable" on a server without a disabled state (Plex: no ``DISABLE_USER`` but ``LIBRARY_ACCESS``) removes the
account's library shares after remembering them (``ShareMemory``); "enable" gives exactly those back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from app.core.errors import NotFoundError, ValidationError, ZondarrError
from app.core.models import (
    AccountAction,
    AccountEvent,
    AccountRef,
    Capability,
    MergeCounts,
    RememberedShare,
    RemoteUser,
    Restrictions,
    Server,
    Trigger,
    User,
)
from app.core.ports import (
    AccountStore,
    Clock,
    ExclusionStore,
    HistoryStore,
    IdentityStore,
    InvitationStore,
    MediaServerClient,
    ServerStore,
    ShareMemory,
    TrackReader,
    UserStore,
)
from app.services.connector import Connector
from app.services.people_common import (
    Outcome,
    describe,
    events_of,
    reason_of,
    record,
    require,
    resolve_libraries,
)

log = logging.getLogger(__name__)
ACTIONS = ("enable", "disable", "delete")
_EVENT = {"enable": AccountAction.ENABLED, "disable": AccountAction.DISABLED, "delete": AccountAction.DELETED}


@dataclass(frozen=True, slots=True)
class Discrepancies:
    """Accounts on the server Zondarr does not manage (orphaned) and managed accounts gone from it (stale)."""

    orphaned: frozenset[str] = frozenset()
    stale: frozenset[str] = frozenset()


def classify(listed: Iterable[str], known: Iterable[str], excluded: Iterable[str] = ()) -> Discrepancies:
    """Pure: ``orphaned`` = listed - known - excluded; ``stale`` = known - listed. Nothing is acted on."""
    on_server, managed, skip = set(listed), set(known), set(excluded)
    return Discrepancies(frozenset(on_server - managed - skip), frozenset(managed - on_server))


def needed_capabilities(restrictions: Restrictions) -> list[tuple[Capability, str]]:
    """The capability each set field of ``restrictions`` needs, with the words of its refusal."""
    out = []
    if restrictions.max_sessions is not None:
        out.append((Capability.MAX_SESSIONS, "limit active sessions"))
    if restrictions.allow_downloads is not None:
        out.append((Capability.ALLOW_DOWNLOADS, "allow or forbid downloads"))
    if restrictions.allow_remote is not None:
        out.append((Capability.REMOTE_ACCESS, "allow or forbid remote access"))
    return out


def supported_part(
    restrictions: Restrictions, capabilities: frozenset[Capability]
) -> tuple[Restrictions, list[str]]:
    """The fields a server with ``capabilities`` has, and the words of those it has not (left out)."""
    kept = Restrictions(
        restrictions.max_sessions if Capability.MAX_SESSIONS in capabilities else None,
        restrictions.allow_downloads if Capability.ALLOW_DOWNLOADS in capabilities else None,
        restrictions.allow_remote if Capability.REMOTE_ACCESS in capabilities else None,
    )
    missing = [what for cap, what in needed_capabilities(restrictions) if cap not in capabilities]
    return kept, missing


def describe_restrictions(r: Restrictions) -> str:
    parts = []
    if r.max_sessions is not None:
        parts.append("unlimited sessions" if r.max_sessions == 0 else f"at most {r.max_sessions} sessions")
    if r.allow_downloads is not None:
        parts.append("downloads allowed" if r.allow_downloads else "no downloads")
    if r.allow_remote is not None:
        parts.append("remote access" if r.allow_remote else "no remote access")
    return ", ".join(parts) or "no restrictions"


def inactive_for(users: Iterable[User], now: float, days: int) -> list[User]:
    """Pure: non-admin accounts whose last activity is known and older than ``days`` days. Raises
    ValidationError for a negative or absurd number of days."""
    if not 0 <= days <= 36_500:
        raise ValidationError(f"{days} days is out of range.", remedy="Use 0 to 36500 days.")
    cutoff = now - days * 86_400
    return [u for u in users if not u.is_admin and u.last_active_at is not None and u.last_active_at < cutoff]


@dataclass(frozen=True, slots=True)
class UserSyncReport:
    server: str
    ok: bool
    message: str
    counts: MergeCounts = field(default_factory=MergeCounts)
    untouched: bool = False  # the server answered zero users: local data kept

    def to_json(self) -> dict[str, object]:
        return {
            "server": self.server,
            "ok": self.ok,
            "message": self.message,
            "untouched": self.untouched,
            "added": self.counts.added,
            "updated": self.counts.updated,
            "removed": self.counts.removed,
        }


class UserService:
    def __init__(
        self,
        *,
        connector: Connector,
        servers: ServerStore,
        users: UserStore,
        accounts: AccountStore,
        shares: ShareMemory,
        exclusions: ExclusionStore,
        identities: IdentityStore,
        invitations: InvitationStore,
        clock: Clock = time.time,
        tracks: TrackReader | None = None,
        history: HistoryStore | None = None,
    ) -> None:
        self._connector = connector
        self._runner = connector.runner
        self._servers = servers
        self._users = users
        self._accounts = accounts
        self._shares = shares
        self._exclusions = exclusions
        self._identities = identities
        self._invitations = invitations
        self._clock = clock
        self._tracks = tracks
        self._history = history

    # -- actions -------------------------------------------------------------------------------------------

    async def act(
        self, action: str, server_name: str, names: Sequence[str], *, trigger: str = Trigger.ADMIN
    ) -> list[Outcome]:
        """Applies ``action`` (enable | disable | delete) to accounts of one server named by username or remote
        id. Raises NotFoundError for an unknown server, ValidationError for an unknown action or no names.
        Per-account failures (unknown account, server down, not supported) are outcomes, never raised."""
        if action not in ACTIONS:
            raise ValidationError(f"Unknown action {action!r}.", remedy="Use enable, disable or delete.")
        if not names:
            raise ValidationError("Name at least one user.", remedy="Give usernames after the server.")
        refs, outcomes = await self.find_accounts(server_name, names)
        return outcomes + await self.apply(action, refs, trigger=trigger)

    async def find_accounts(
        self, server_name: str, names: Sequence[str]
    ) -> tuple[list[AccountRef], list[Outcome]]:
        """Accounts of one server by username or remote id, and a "not found" outcome for each unknown name.
        Raises NotFoundError for an unknown server, ValidationError when no name is given."""
        if not names:
            raise ValidationError("Name at least one user.", remedy="Give usernames after the server.")
        server = await self._runner.read(self._servers.get_by_name, server_name)
        refs: list[AccountRef] = []
        outcomes: list[Outcome] = []
        for name in names:
            found = await self._runner.read(self._accounts.find, server.id, name)
            if found is None:
                outcomes.append(
                    Outcome(server.name, False, f"{server.name}: there is no user {name}.", name, "not found")
                )
            else:
                refs.append(AccountRef(server.id, found.remote_id))
        return list(dict.fromkeys(refs)), outcomes

    async def apply(
        self, action: str, accounts: Sequence[AccountRef], *, trigger: str = Trigger.ADMIN
    ) -> list[Outcome]:
        """``action`` on each account, one connection per server; one outcome per account, each recorded in
        the history with ``trigger``. One failing server or account never stops the others."""
        by_server: dict[int, list[str]] = {}
        for ref in accounts:
            by_server.setdefault(ref.server_id, []).append(ref.remote_id)
        out: list[Outcome] = []
        for server_id, remote_ids in by_server.items():
            server = await self._runner.read(self._servers.get, server_id)
            done = await self._apply_on(server, action, remote_ids)
            await record(
                self._runner,
                self._history,
                events_of(done, server.id, _EVENT[action], trigger, self._clock()),
            )
            out += done
        return out

    async def _apply_on(self, server: Server, action: str, remote_ids: list[str]) -> list[Outcome]:
        async def one(client: MediaServerClient, rid: str, name: str) -> str:
            return await self._one(client, server, action, rid, name)

        return await self.per_account(server, remote_ids, one, action)

    async def per_account(
        self,
        server: Server,
        remote_ids: Sequence[str],
        one: Callable[[MediaServerClient, str, str], Awaitable[str]],
        what: str,
    ) -> list[Outcome]:
        """Connects once and runs ``one(client, remote_id, username)`` (returning the success message) for each
        account; a failure (connection, server, not supported) becomes that account's outcome."""
        names = {}
        for rid in remote_ids:
            cached = await self._runner.read(self._accounts.find, server.id, rid)
            names[rid] = cached.username if cached else rid
        try:
            client = await self._connector.connect(server)
        except ZondarrError as err:
            return [
                Outcome(server.name, False, describe(err), names[r], reason_of(err), r, err.to_dict())
                for r in remote_ids
            ]
        out = []
        try:
            for rid in remote_ids:
                try:
                    message = await one(client, rid, names[rid])
                    out.append(Outcome(server.name, True, message, names[rid], None, rid))
                except ZondarrError as err:
                    log.warning("%s %s on %s failed: %s", what, names[rid], server.name, err.detail)
                    out.append(
                        Outcome(
                            server.name, False, describe(err), names[rid], reason_of(err), rid, err.to_dict()
                        )
                    )
        finally:
            await self._connector.close(client)
        return out

    async def _one(self, client: MediaServerClient, server: Server, action: str, rid: str, name: str) -> str:
        if action == "delete":
            require(client, server, Capability.DELETE_USER, "delete accounts")
            await self._runner.net(client.delete_user, rid)
            await self._runner.db(self._accounts.remove, server.id, rid)
            await self._runner.db(self._shares.forget, server.id, rid)
            await self._runner.db(self._exclusions.add, server.id, rid, f"deleted {name} from Zondarr")
            return f"{server.name}: deleted {name}."
        disabled = action == "disable"
        if Capability.DISABLE_USER in client.capabilities:
            await self._runner.net(client.set_user_disabled, rid, disabled)
        elif Capability.LIBRARY_ACCESS in client.capabilities:
            await (
                self._remove_shares(client, server, rid, name)
                if disabled
                else self._restore_shares(client, server, rid)
            )
        else:
            require(client, server, Capability.DISABLE_USER, "disable or enable accounts")
        await self._runner.db(self._accounts.set_disabled, server.id, rid, disabled)
        return f"{server.name}: {action}d {name}."

    async def _remove_shares(self, client: MediaServerClient, server: Server, rid: str, name: str) -> None:
        listed = {u.remote_id: u for u in await self._connector.users(client, server)}
        user = listed.get(rid)
        if user is None:
            # not listed as a friend: an invitation not accepted yet (its pending share is what gives access)
            cached = await self._runner.read(self._accounts.find, server.id, rid)
            if cached is None:
                raise NotFoundError(
                    f"{server.name}: {name} is not shared with this server.", remedy="Sync users."
                )
            keys = (await self._runner.read(self._accounts.library_access, server.id)).get(rid)
            user = RemoteUser(rid, cached.username, cached.email, library_keys=keys)
        if user.is_disabled:
            return  # already disabled (its shares are remembered)
        share = RememberedShare(server.id, rid, user.username, user.library_keys, self._clock())
        await self._runner.db(self._shares.remember, share)
        try:
            await self._runner.net(client.set_library_access, rid, ())
        except BaseException:
            await self._runner.db(self._shares.forget, server.id, rid)
            raise

    async def _restore_shares(self, client: MediaServerClient, server: Server, rid: str) -> None:
        share = await self._runner.read(self._shares.recall, server.id, rid)
        if share is None:
            listed = {u.remote_id for u in await self._connector.users(client, server)}
            if rid in listed:
                return  # not disabled: nothing to restore
            raise ValidationError(
                f"{server.name}: Zondarr did not disable this account, so it does not know which libraries "
                "to give back.",
                remedy="Share libraries with the account on the server.",
            )
        await self._runner.net(client.set_library_access, rid, share.library_keys)
        await self._runner.db(self._shares.forget, server.id, rid)

    # -- library access ------------------------------------------------------------------------------------

    async def access(
        self,
        server_name: str,
        names: Sequence[str],
        libraries: Sequence[str] | None,
        *,
        trigger: str = Trigger.ADMIN,
    ) -> list[Outcome]:
        """Gives accounts of one server access to exactly ``libraries`` (keys or titles as cached; None = every
        library; empty = none). Raises NotFoundError (server), ValidationError (no names, unknown library);
        per-account failures are outcomes."""
        server = await self._runner.read(self._servers.get_by_name, server_name)
        keys = None if libraries is None else await self._library_keys(server, libraries)
        refs, outcomes = await self.find_accounts(server_name, names)
        return outcomes + await self.apply_access({ref: keys for ref in refs}, trigger=trigger)

    async def _library_keys(self, server: Server, wanted: Sequence[str]) -> tuple[str, ...]:
        if self._tracks is None:
            raise ValidationError("Library names cannot be resolved here.", remedy="Give library keys.")
        return await resolve_libraries(self._runner, self._tracks, server, wanted)

    async def apply_access(
        self, changes: Mapping[AccountRef, tuple[str, ...] | None], *, trigger: str = Trigger.ADMIN
    ) -> list[Outcome]:
        """Sets each account's libraries (None = every library), one connection per server; one outcome per
        account, recorded in the history. Plex changes the plex.tv share, Jellyfin the policy (read-modify-
        write). An account Zondarr disabled by removing its Plex share keeps it removed: the new libraries are
        remembered and given when it is enabled."""
        by_server: dict[int, list[tuple[str, tuple[str, ...] | None]]] = {}
        for ref, keys in changes.items():
            by_server.setdefault(ref.server_id, []).append((ref.remote_id, keys))
        out: list[Outcome] = []
        for server_id, items in by_server.items():
            server = await self._runner.read(self._servers.get, server_id)
            done = await self._access_on(server, items)
            await record(
                self._runner,
                self._history,
                events_of(done, server.id, AccountAction.ACCESS, trigger, self._clock()),
            )
            out += done
        return out

    async def _access_on(
        self, server: Server, items: list[tuple[str, tuple[str, ...] | None]]
    ) -> list[Outcome]:
        wanted = dict(items)

        async def one(client: MediaServerClient, rid: str, name: str) -> str:
            keys = wanted[rid]
            what = "every library" if keys is None else (", ".join(keys) if keys else "no library")
            require(client, server, Capability.LIBRARY_ACCESS, "change library access")
            remembered = await self._runner.read(self._shares.recall, server.id, rid)
            if remembered is not None:  # disabled by removing the share: keep it removed
                new = RememberedShare(server.id, rid, remembered.username, keys, remembered.removed_at)
                await self._runner.db(self._shares.remember, new)
                message = f"{server.name}: {name} gets {what} when enabled."
            else:
                await self._runner.net(client.set_library_access, rid, keys)
                message = f"{server.name}: {name} now has {what}."
            await self._runner.db(self._accounts.set_library_access, server.id, rid, keys)
            return message

        return await self.per_account(server, list(wanted), one, "access")

    # -- restrictions --------------------------------------------------------------------------------------

    async def restrict(
        self,
        server_name: str,
        names: Sequence[str],
        restrictions: Restrictions,
        *,
        trigger: str = Trigger.ADMIN,
    ) -> list[Outcome]:
        """Applies ``restrictions`` (the fields that are set) to accounts of one server. A field the server kind
        does not have is refused per account with the reason ("not supported")."""
        if restrictions.empty:
            raise ValidationError(
                "Say which restriction to set.", remedy="Give --max-sessions, --downloads ..."
            )
        if restrictions.max_sessions is not None and not 0 <= restrictions.max_sessions <= 100:
            raise ValidationError("Max sessions must be 0 (no limit) to 100.", remedy="")
        refs, outcomes = await self.find_accounts(server_name, names)
        return outcomes + await self.apply_restrictions(refs, restrictions, trigger=trigger)

    async def apply_restrictions(
        self, refs: Sequence[AccountRef], restrictions: Restrictions, *, trigger: str = Trigger.ADMIN
    ) -> list[Outcome]:
        by_server: dict[int, list[str]] = {}
        for ref in refs:
            by_server.setdefault(ref.server_id, []).append(ref.remote_id)
        out: list[Outcome] = []
        for server_id, remote_ids in by_server.items():
            server = await self._runner.read(self._servers.get, server_id)

            async def one(client: MediaServerClient, rid: str, name: str, server: Server = server) -> str:
                for capability, what in needed_capabilities(restrictions):
                    require(client, server, capability, what)
                await self._runner.net(client.set_restrictions, rid, restrictions)
                return f"{server.name}: {name} now has {describe_restrictions(restrictions)}."

            done = await self.per_account(server, remote_ids, one, "restrict")
            event = events_of(done, server.id, AccountAction.RESTRICTIONS, trigger, self._clock())
            await record(self._runner, self._history, event)
            out += done
        return out

    # -- sync and discrepancies ------------------------------------------------------------------------------

    async def sync_server(self, server: Server) -> UserSyncReport:
        """Re-reads the server's accounts into the cache. A server answering zero users while accounts are
        cached leaves them untouched and says so. Failures are in the report, never raised."""
        try:
            client = await self._connector.connect(server)
            try:
                listed = await self._connector.users(client, server)
            finally:
                await self._connector.close(client)
        except ZondarrError as err:
            return UserSyncReport(server.name, False, describe(err))
        cached = await self._runner.read(self._users.list, server.name)
        if not listed and cached:
            return UserSyncReport(
                server.name,
                True,
                f"{server.name} listed no users; kept the {len(cached)} cached users (check the server).",
                untouched=True,
            )
        counts = await self._runner.db(self._users.replace_server_users, server.id, listed)
        return UserSyncReport(
            server.name,
            True,
            f"{server.name}: {len(listed)} users ({counts.added} new, {counts.removed} gone).",
            counts,
        )

    async def sync_all(self) -> list[UserSyncReport]:
        """Every enabled server, one after the other; one failing server never stops the others."""
        reports = []
        for server in await self._runner.read(self._servers.list):
            if server.enabled:
                try:
                    reports.append(await self.sync_server(server))
                except Exception as exc:  # a bug in one server's path must not stop the rest
                    log.exception("user sync of %s crashed", server.name)
                    reports.append(
                        UserSyncReport(server.name, False, f"unexpected failure: {type(exc).__name__}")
                    )
        return reports

    def discrepancies(self, server_name: str) -> tuple[list[User], list[AccountRef]]:
        """(orphaned accounts, stale managed accounts) of a server, from the cache as of the last user sync.
        Managed = linked to an identity, created by an invitation, or disabled by removing shares. Any thread."""
        server = self._servers.get_by_name(server_name)
        cached = [u for u in self._users.list(server.name) if not u.is_admin]
        known = {ref.remote_id for ref in self._identities.accounts() if ref.server_id == server.id}
        known |= {
            r.remote_id
            for r in self._invitations.redemptions()
            if r.server_id == server.id and r.status == "ok" and r.remote_id
        }
        known |= {s.remote_id for s in self._shares.remembered(server.id)}
        admins = {u.remote_id for u in self._users.list(server.name) if u.is_admin}
        found = classify({u.remote_id for u in cached}, known - admins, self._exclusions.excluded(server.id))
        orphaned = [u for u in cached if u.remote_id in found.orphaned]
        return orphaned, [AccountRef(server.id, rid) for rid in sorted(found.stale)]

    async def exclude(self, server_name: str, name: str, reason: str = "excluded by the admin") -> None:
        """Keeps the account out of the users cache from the next sync on (its cached row goes now)."""
        server = await self._runner.read(self._servers.get_by_name, server_name)
        found = await self._runner.read(self._accounts.find, server.id, name)
        rid = found.remote_id if found else name
        await self._runner.db(self._exclusions.add, server.id, rid, reason)
        await self._runner.db(self._accounts.remove, server.id, rid)

    def find_cached(self, server_id: int, name_or_id: str) -> User | None:
        """The cached account by remote id or username. Any thread."""
        return self._accounts.find(server_id, name_or_id)

    def library_access(self, server_id: int) -> dict[str, tuple[str, ...] | None]:
        """Cached library keys per account of a server (None = every library). Any thread."""
        return self._accounts.library_access(server_id)

    async def history(
        self, server_name: str | None = None, name: str | None = None, limit: int = 500
    ) -> list[AccountEvent]:
        """What Zondarr did to accounts, newest first: all, one server's, or one account's (by username or id;
        an account deleted since is found by its id or its name in the history). Raises NotFoundError."""
        if self._history is None:
            return []
        server_id = remote_id = None
        if server_name is not None:
            server = await self._runner.read(self._servers.get_by_name, server_name)
            server_id = server.id
            if name is not None:
                found = await self._runner.read(self._accounts.find, server.id, name)
                remote_id = found.remote_id if found else None
        history = self._history
        events = await self._runner.read(
            lambda: history.list(server_id=server_id, remote_id=remote_id, limit=limit)
        )
        if name is not None and remote_id is None:
            events = [e for e in events if name.casefold() in (e.username.casefold(), e.remote_id.casefold())]
        return events

    async def include(self, server_name: str, remote_id: str) -> None:
        server = await self._runner.read(self._servers.get_by_name, server_name)
        await self._runner.db(self._exclusions.remove, server.id, remote_id)
