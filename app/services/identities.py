"""Identity use cases: one person's accounts across servers. Auto-suggest links (same email, else same
username, on more than one server), link / unlink, the person × server × library access grid, and
identity-wide enable / disable / delete (through ``UserService``, per-account outcomes).

Qt-free; reads may run on any thread, coroutines on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core import validate
from app.core.errors import NotFoundError, ValidationError
from app.core.models import AccountEvent, AccountRef, Identity, User
from app.core.ports import (
    AccountStore,
    HistoryStore,
    IdentityStore,
    Runner,
    ServerStore,
    TrackReader,
    UserStore,
)
from app.services.people_common import Outcome, resolve_libraries
from app.services.users import UserService


@dataclass(frozen=True, slots=True)
class LinkSuggestion:
    """Unlinked accounts on different servers that look like one person (matched ``by`` email or username)."""

    key: str
    by: str
    accounts: tuple[User, ...]


def suggest_links(users: Sequence[User]) -> list[LinkSuggestion]:
    """Pure: groups unlinked, non-admin accounts by case-folded email, then (for accounts without an email
    match) by case-folded username; a group is suggested when it spans at least two servers."""
    free = [u for u in users if u.identity_id is None and not u.is_admin]
    out: list[LinkSuggestion] = []
    used: set[int] = set()
    for by, key_of in (
        ("email", lambda u: (u.email or "").casefold()),
        ("username", lambda u: u.username.casefold()),
    ):
        groups: dict[str, list[User]] = {}
        for u in free:
            key = key_of(u)
            if key and u.id not in used:
                groups.setdefault(key, []).append(u)
        for key, members in sorted(groups.items()):
            if len({m.server_id for m in members}) >= 2:
                out.append(LinkSuggestion(key, by, tuple(members)))
                used.update(m.id for m in members)
    return out


@dataclass(frozen=True, slots=True)
class AccessRow:
    """One server of an identity's grid: each library of the server and whether the account may use it."""

    server: str
    username: str
    is_disabled: bool
    libraries: tuple[tuple[str, bool], ...]  # (library title, has access)
    server_id: int = 0
    remote_id: str = ""
    keys: tuple[str, ...] = ()  # the library keys, in the order of ``libraries``


@dataclass(frozen=True, slots=True)
class IdentityView:
    identity: Identity
    accounts: tuple[User, ...]

    def to_json(self) -> dict[str, object]:
        i = self.identity
        return {
            "id": i.id,
            "name": i.display_name,
            "email": i.email,
            "note": i.note,
            "accounts": [u.to_json() for u in self.accounts],
        }


class IdentityService:
    def __init__(
        self,
        *,
        identities: IdentityStore,
        users: UserStore,
        accounts: AccountStore,
        servers: ServerStore,
        tracks: TrackReader,
        user_actions: UserService,
        runner: Runner,
        history: HistoryStore | None = None,
    ) -> None:
        self._identities = identities
        self._users = users
        self._accounts = accounts
        self._servers = servers
        self._tracks = tracks
        self._actions = user_actions
        self._runner = runner
        self._history = history

    def views(self) -> list[IdentityView]:
        """Every identity with its cached accounts. Any thread."""
        by_identity: dict[int, list[User]] = {}
        for u in self._users.list():
            if u.identity_id is not None:
                by_identity.setdefault(u.identity_id, []).append(u)
        return [IdentityView(i, tuple(by_identity.get(i.id, ()))) for i in self._identities.list()]

    def suggestions(self) -> list[LinkSuggestion]:
        return suggest_links(self._users.list())

    def find(self, name_or_id: str) -> Identity:
        """By id, else by display name (case-insensitive). Raises NotFoundError."""
        for i in self._identities.list():
            if str(i.id) == name_or_id or i.display_name.casefold() == name_or_id.casefold():
                return i
        raise NotFoundError(f"There is no identity {name_or_id}.", remedy="See `identity list`.")

    def resolve(self, specs: Sequence[str]) -> list[AccountRef]:
        """``SERVER:USER`` values → accounts (USER = username or remote id). Raises ValidationError, NotFoundError."""
        refs = []
        for spec in specs:
            server_name, sep, user = spec.rpartition(":")
            if not sep or not server_name or not user:
                raise ValidationError(f"{spec!r} is not SERVER:USER.", remedy="Write it like Plex:alice.")
            server = self._servers.get_by_name(server_name)
            found = self._accounts.find(server.id, user)
            if found is None:
                raise NotFoundError(f"{server.name} has no user {user}.", remedy="Sync the server first.")
            refs.append(AccountRef(server.id, found.remote_id))
        return refs

    async def link(self, name: str, accounts: Sequence[AccountRef], email: str | None = None) -> Identity:
        """Links the accounts to the identity called ``name`` (created when there is none)."""
        if not name.strip():
            raise ValidationError("The person needs a name.", remedy="Give a display name.")
        validate.name(name, "The person's name")  # no control or text-direction characters
        try:
            identity = await self._runner.read(self.find, name)
        except NotFoundError:
            identity = await self._runner.db(self._identities.create, name.strip(), email)
        await self._runner.db(self._identities.link, identity.id, list(accounts))
        return identity

    async def unlink(self, accounts: Sequence[AccountRef]) -> None:
        await self._runner.db(self._identities.unlink, list(accounts))

    async def delete(self, name_or_id: str, *, with_accounts: bool = False) -> list[Outcome]:
        """Deletes the person record; with ``with_accounts`` deletes every linked account on its server first
        (the record stays when one of them fails)."""
        identity = await self._runner.read(self.find, name_or_id)
        outcomes: list[Outcome] = []
        if with_accounts:
            outcomes = await self.act(identity.display_name, "delete")
            if not all(o.ok for o in outcomes):
                return outcomes
        await self._runner.db(self._identities.delete, identity.id)
        return outcomes

    async def act(self, name_or_id: str, action: str) -> list[Outcome]:
        """enable | disable | delete every account of the identity; one outcome per account."""
        identity = await self._runner.read(self.find, name_or_id)
        refs = list(await self._runner.read(self._identities.accounts, identity.id))
        return await self._actions.apply(action, refs)

    def grid(self, name_or_id: str) -> list[AccessRow]:
        """Person × server × library access, from the cache as of the last sync. Any thread."""
        identity = self.find(name_or_id)
        refs = self._identities.accounts(identity.id)
        rows = []
        for ref in sorted(refs, key=lambda r: (r.server_id, r.remote_id)):
            server = self._servers.get(ref.server_id)
            user = self._accounts.find(server.id, ref.remote_id)
            access = self._accounts.library_access(server.id).get(ref.remote_id)
            libs = self._tracks.libraries(server.id)
            cells = tuple((lib.title, access is None or lib.key in access) for lib in libs)
            if user is None:  # linked, but gone from the last listing
                cells = tuple((title, False) for title, _ in cells)
            rows.append(
                AccessRow(
                    server.name,
                    user.username if user else ref.remote_id,
                    bool(user and user.is_disabled),
                    cells,
                    server.id,
                    ref.remote_id,
                    tuple(lib.key for lib in libs),
                )
            )
        return rows

    def refs(self, name_or_id: str) -> list[AccountRef]:
        """The person's linked accounts. Raises NotFoundError. Any thread."""
        return list(self._identities.accounts(self.find(name_or_id).id))

    async def access(self, name_or_id: str, specs: Sequence[str]) -> list[Outcome]:
        """``SERVER:LIBRARY`` values (key or title; ``SERVER:*`` = every library, ``SERVER:-`` = none): each named
        server's account of the person gets exactly the libraries named for it; other servers are unchanged.
        Raises NotFoundError (person, server), ValidationError (bad value, unknown library, no account there)."""
        identity = await self._runner.read(self.find, name_or_id)
        refs = {
            ref.server_id: ref for ref in (await self._runner.read(self._identities.accounts, identity.id))
        }
        wanted: dict[int, list[str] | None] = {}
        for spec in specs:
            server_name, sep, lib = spec.rpartition(":")
            if not sep or not server_name or not lib:
                raise ValidationError(f"{spec!r} is not SERVER:LIBRARY.", remedy="Write it like Plex:Music.")
            server = await self._runner.read(self._servers.get_by_name, server_name)
            if server.id not in refs:
                raise ValidationError(
                    f"{identity.display_name} has no account on {server.name}.",
                    remedy="Link one first (identity link).",
                )
            if lib == "*":
                wanted[server.id] = None
            elif lib == "-":
                wanted[server.id] = []
            else:
                current = wanted.setdefault(server.id, [])
                if current is not None:
                    current.append(lib)
        changes: dict[AccountRef, tuple[str, ...] | None] = {}
        for server_id, libs in wanted.items():
            server = await self._runner.read(self._servers.get, server_id)
            changes[refs[server_id]] = (
                None if libs is None else await resolve_libraries(self._runner, self._tracks, server, libs)
            )
        return await self._actions.apply_access(changes)

    async def toggle(self, row: AccessRow, key: str, on: bool) -> list[Outcome]:
        """The grid's click: gives (``on``) or takes away one library of one account, keeping the others."""
        current = {k for k, (_, has) in zip(row.keys, row.libraries, strict=True) if has}
        new = current | {key} if on else current - {key}
        keys = None if new == set(row.keys) and row.keys else tuple(k for k in row.keys if k in new)
        return await self._actions.apply_access({AccountRef(row.server_id, row.remote_id): keys})

    def history(self, name_or_id: str, limit: int = 500) -> list[AccountEvent]:
        """The person's timeline, newest first. Any thread."""
        if self._history is None:
            return []
        return self._history.list(identity_id=self.find(name_or_id).id, limit=limit)
