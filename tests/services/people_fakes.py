"""A fake media server with accounts (the external side) for the people services; the cache is real."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.core.errors import NotFoundError, ServerUnreachable, ValidationError
from app.core.models import (
    AuthMethod,
    Capability,
    ConnectResult,
    Credentials,
    NewServer,
    RemoteLibrary,
    RemoteUser,
    Restrictions,
    Server,
    ServerIdentity,
    ServerKind,
)
from app.core.ports import LoggingAdminNotifier, MailSender
from app.core.settings import Settings
from app.services.people import PeopleServices, build_people
from app.services.runner import ThreadRunner
from app.services.sync import SyncService
from app.storage import Cache, open_cache
from tests.services.fakes import MemorySecrets

ALL = frozenset(Capability)
PLEX_LIKE = frozenset(Capability) - {Capability.DISABLE_USER, Capability.PASSWORD}


@dataclass
class AccountServer:
    libraries: tuple[str, ...] = ("1", "2", "3")
    users: dict[str, RemoteUser] = field(default_factory=dict)
    capabilities: frozenset[Capability] = ALL
    down: bool = False
    fail_create: bool = False
    fail_delete: bool = False
    create_delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 100
    restrictions: dict[str, Restrictions] = field(default_factory=dict)

    def add(self, username: str, keys: tuple[str, ...] | None = None, admin: bool = False) -> RemoteUser:
        with self.lock:
            self.next_id += 1
            user = RemoteUser(str(self.next_id), username, f"{username}@x.org", admin, False, keys)
            self.users[user.remote_id] = user
            return user


class AccountClient:
    def __init__(self, s: AccountServer, name: str) -> None:
        self._s = s
        self._name = name
        self.kind = ServerKind.JELLYFIN
        self.capabilities = s.capabilities
        self.needs_album_pass = False

    def _check(self) -> None:
        if self._s.down:
            raise ServerUnreachable(self._name)

    def identity(self) -> ServerIdentity:
        return ServerIdentity(f"m-{self._name}", self._name, "1", ServerKind.JELLYFIN)

    def music_libraries(self) -> list[RemoteLibrary]:
        self._check()
        return [RemoteLibrary(k, f"Lib {k}") for k in self._s.libraries]

    def users(self) -> list[RemoteUser]:
        self._check()
        with self._s.lock:
            return list(self._s.users.values())

    def create_user(
        self,
        username: str,
        password: str | None,
        email: str | None,
        library_keys: Sequence[str],
        restrictions: Restrictions | None = None,
    ) -> RemoteUser:
        self._check()
        time.sleep(self._s.create_delay_s)
        if self._s.fail_create:
            raise ServerUnreachable(self._name)
        if any(u.username == username for u in self.users()):
            raise ValidationError(f"{self._name}: the user name {username} is taken.")
        user = self._s.add(username, tuple(library_keys) or None)
        if restrictions is not None:
            self._s.restrictions[user.remote_id] = restrictions
        return user

    def _get(self, rid: str) -> RemoteUser:
        with self._s.lock:
            if rid not in self._s.users:
                raise NotFoundError(f"{self._name}: no user {rid}")
            return self._s.users[rid]

    def set_user_disabled(self, remote_id: str, disabled: bool) -> None:
        self._check()
        if Capability.DISABLE_USER not in self.capabilities:
            raise ValidationError("cannot")
        u = self._get(remote_id)
        with self._s.lock:
            self._s.users[remote_id] = RemoteUser(
                u.remote_id, u.username, u.email, u.is_admin, disabled, u.library_keys
            )

    def delete_user(self, remote_id: str) -> None:
        self._check()
        if self._s.fail_delete:
            raise ServerUnreachable(self._name)
        self._get(remote_id)
        with self._s.lock:
            del self._s.users[remote_id]

    def set_library_access(self, remote_id: str, library_keys: Sequence[str] | None) -> None:
        self._check()
        u = self._get(remote_id)
        with self._s.lock:
            if (
                library_keys is not None
                and not library_keys
                and Capability.DISABLE_USER not in self.capabilities
            ):
                del self._s.users[remote_id]  # Plex: no share = not listed
                self._s.users.pop(remote_id, None)
                self._s.__dict__.setdefault("unshared", {})[remote_id] = u
                return
            keys = None if library_keys is None else tuple(library_keys)
            self._s.users[remote_id] = RemoteUser(u.remote_id, u.username, u.email, u.is_admin, False, keys)

    def set_restrictions(self, remote_id: str, restrictions: Restrictions) -> None:
        self._check()
        self._get(remote_id)
        self._s.restrictions[remote_id] = restrictions

    def close(self) -> None:
        pass


class AccountFactory:
    def __init__(self, servers: dict[str, AccountServer]) -> None:
        self.servers = servers

    def connect(self, server: Server, credentials: Credentials) -> AccountClient:
        s = self.servers[server.name]
        if s.down:
            raise ServerUnreachable(server.name)
        return AccountClient(s, server.name)

    def authenticate(self, new: NewServer, credentials: Credentials) -> ConnectResult:
        raise AssertionError("not used")


class PlexLikeClient(AccountClient):
    """Restores an unshared account when access is given back (what plex.tv does for a friend)."""

    def set_library_access(self, remote_id: str, library_keys: Sequence[str] | None) -> None:
        unshared = self._s.__dict__.get("unshared", {})
        if remote_id in unshared:
            with self._s.lock:
                self._s.users[remote_id] = unshared.pop(remote_id)
        super().set_library_access(remote_id, library_keys)


class PlexLikeFactory(AccountFactory):
    def connect(self, server: Server, credentials: Credentials) -> AccountClient:
        s = self.servers[server.name]
        return (
            PlexLikeClient(s, server.name)
            if s.capabilities == PLEX_LIKE
            else super().connect(server, credentials)
        )


class Harness:
    def __init__(
        self,
        data_dir: Path,
        servers: dict[str, AccountServer],
        now: float = 1_800_000_000.0,
        mail: MailSender | None = None,
    ) -> None:
        self.cache: Cache = open_cache(data_dir)
        self.now = now
        self.servers = servers
        self.runner = ThreadRunner()
        self.secrets = MemorySecrets()
        factory = PlexLikeFactory(servers)
        settings = Settings()
        self.settings = settings  # tests replace it (the services read it at each use)
        self.notifier = LoggingAdminNotifier()
        sync = SyncService(
            servers=self.cache.servers, tracks=self.cache.tracks, users=self.cache.users, runs=self.cache.sync_runs,
            secrets=self.secrets, clients=factory, locks=self.cache.locks, runner=self.runner, settings=settings,
            clock=self.clock,
        )  # fmt: skip
        c = self.cache
        self.people: PeopleServices = build_people(
            settings=settings, runner=self.runner, servers=c.servers, secrets=self.secrets, clients=factory,
            tracks=c.tracks, users=c.users, accounts=c.accounts, shares=c.shares, exclusions=c.exclusions,
            identities=c.identities, invitations=c.invitations, task_runs=c.task_runs, sync=sync, clock=self.clock,
            expiry=c.expiry, history=c.history, mail=mail, notifier=self.notifier, live_settings=lambda: self.settings,
        )  # fmt: skip
        for name in servers:
            new = NewServer(name, ServerKind.JELLYFIN, f"http://127.0.0.1/{name}", AuthMethod.API_KEY)
            server = c.servers.add(
                new, ConnectResult(ServerIdentity(f"m-{name}", name, "1", ServerKind.JELLYFIN), "t")
            )
            self.secrets.set(server.secret_ref, "secret")
            c.tracks.commit_staging(
                server.id, [RemoteLibrary(k, f"Lib {k}") for k in servers[name].libraries], [], []
            )

    def clock(self) -> float:
        return self.now

    def close(self) -> None:
        self.runner.close()
        self.cache.close()
