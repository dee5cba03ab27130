"""In-memory stand-ins for the *external* side of the sync (a media server and the OS keychain), for unit
tests of the services. The cache is never faked: tests use the real SQLite store in tmp_path."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from app.core.errors import ServerError
from app.core.models import (
    AlbumRecord,
    Capability,
    ConnectResult,
    Credentials,
    NewServer,
    RemoteLibrary,
    RemoteUser,
    Server,
    ServerIdentity,
    ServerKind,
    TrackRecord,
)
from app.core.ports import Page


def make_tracks(prefix: str, n: int, *, album_ids: int = 0) -> list[TrackRecord]:
    return [
        TrackRecord(
            remote_id=f"{prefix}{i}",
            title=f"Song {i}",
            artist=f"Artist {i % 7}",
            album=f"Album {i % 11}",
            album_remote_id=f"al{i % album_ids}" if album_ids else None,
            genres=() if album_ids else (f"Genre {i % 3}",),
            year=None if album_ids else 1960 + i % 60,
            rating=(i % 11) if i % 3 == 0 else None,
            duration_ms=180_000 + i,
            track_no=i % 12 + 1,
        )
        for i in range(n)
    ]


@dataclass
class FakeMediaServer:
    """What the fake server holds. ``faults`` maps (method, page_start) to a callable that raises, consulted
    per call; ``count_overrides`` replaces a library's announced total."""

    libraries: dict[str, list[TrackRecord]]
    albums: dict[str, list[AlbumRecord]] = field(default_factory=dict)
    machine_id: str = "machine-1"
    needs_album_pass: bool = False
    users: list[RemoteUser] = field(default_factory=lambda: [RemoteUser("1", "owner", is_admin=True)])
    faults: dict[tuple[str, int], Callable[[], None]] = field(default_factory=dict)
    count_overrides: dict[str, int] = field(default_factory=dict)
    unparseable: set[str] = field(default_factory=set)  # remote ids that fail to parse
    calls: list[tuple[str, int]] = field(default_factory=list)
    on_page: Callable[[int], None] | None = None  # hook run before each track page is served
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self, method: str, start: int) -> None:
        with self.lock:
            self.calls.append((method, start))
            action = self.faults.get((method, start))
        if action is not None:
            action()


class FakeClient:
    def __init__(self, server: FakeMediaServer, name: str) -> None:
        self._s = server
        self._name = name

    kind = ServerKind.PLEX
    capabilities = frozenset({Capability.LIST_TRACKS, Capability.LIST_USERS})

    @property
    def needs_album_pass(self) -> bool:
        return self._s.needs_album_pass

    def identity(self) -> ServerIdentity:
        self._s.fault("identity", 0)
        return ServerIdentity(self._s.machine_id, self._name, "1.0", ServerKind.PLEX)

    def music_libraries(self) -> list[RemoteLibrary]:
        return [RemoteLibrary(k, f"Library {k}") for k in self._s.libraries]

    def count_tracks(self, library_key: str) -> int:
        self._s.fault("count_tracks", 0)
        return self._s.count_overrides.get(library_key, len(self._s.libraries[library_key]))

    def count_albums(self, library_key: str) -> int:
        return len(self._s.albums.get(library_key, []))

    def fetch_albums(self, library_key: str, start: int, size: int) -> Page[AlbumRecord]:
        items = self._s.albums.get(library_key, [])
        return Page(items[start : start + size], len(items))

    def fetch_tracks(self, library_key: str, start: int, size: int) -> Page[TrackRecord]:
        if self._s.on_page:
            self._s.on_page(start)
        self._s.fault("fetch_tracks", start)
        items = self._s.libraries[library_key]
        total = self._s.count_overrides.get(library_key, len(items))
        chunk = items[start : start + size]
        good = [t for t in chunk if t.remote_id not in self._s.unparseable]
        return Page(good, total, failed=len(chunk) - len(good))

    # No clock: server_time() is None, so every sync of a fake lists everything (delta refreshes are tested
    # against the demo servers, which keep change times).
    track_changes = ()

    def server_time(self) -> float | None:
        return None

    def count_changed_tracks(self, library_key: str, change: object, since: float) -> int:
        raise AssertionError("no delta without a server clock")

    fetch_changed_tracks = count_changed_albums = fetch_changed_albums = count_changed_tracks

    partition = ()  # never asked: a fake lists everything every time
    max_bucket_values = max_ids_per_request = 0
    count_tracks_in = existing_tracks = count_changed_tracks

    def users(self) -> list[RemoteUser]:
        self._s.fault("users", 0)
        return list(self._s.users)

    def close(self) -> None:
        pass


class FakeFactory:
    def __init__(self, servers: dict[str, FakeMediaServer]) -> None:
        self.servers = servers  # by server name

    def connect(self, server: Server, credentials: Credentials) -> FakeClient:
        return FakeClient(self.servers[server.name], server.name)

    def authenticate(self, new: NewServer, credentials: Credentials) -> ConnectResult:
        s = self.servers[new.name]
        return ConnectResult(
            ServerIdentity(s.machine_id, new.name, "1.0", new.kind), token=credentials.token or "t"
        )


class MemorySecrets:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, ref: str) -> str | None:
        return self.values.get(ref)

    def set(self, ref: str, value: str) -> None:
        self.values[ref] = value

    def delete(self, ref: str) -> None:
        self.values.pop(ref, None)


def fail_with(exc_factory: Callable[[], Exception], times: int | None = None) -> Callable[[], None]:
    """A fault action raising ``exc_factory()``; only the first ``times`` calls when given."""
    state = {"left": times}

    def action() -> None:
        if state["left"] is None:
            raise exc_factory()
        if state["left"] > 0:
            state["left"] -= 1
            raise exc_factory()

    return action


def server_error() -> ServerError:
    return ServerError("Fake", detail="HTTP 500")
