"""``PeopleRegistry``: the ``ServerRegistry`` whose clients list users the way Zondarr manages them.

Every client it builds is wrapped so that ``users()``

* leaves out accounts on the exclusion list (deliberately deleted users are never re-imported), and
* lists accounts "disabled" by removing their shares (Plex: ``core.ports.ShareMemory``) as disabled, with the
  remembered libraries, so a sync keeps their rows and identity links and the Users page can enable them.

Both stores are only *read* here (reads may run on any thread). Everything else is passed through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.models import (
    AlbumRecord,
    Capability,
    Change,
    Credentials,
    RemoteLibrary,
    RemoteUser,
    Server,
    ServerIdentity,
    ServerKind,
    TrackRecord,
)
from app.core.ports import ExclusionStore, MediaServerClient, Page, ShareMemory
from app.core.settings import Settings
from app.servers.registry import ServerRegistry


class PeopleClient:
    """A ``MediaServerClient`` that delegates to ``inner``, adjusting ``users()`` (see module docstring)."""

    def __init__(
        self, inner: MediaServerClient, server_id: int, shares: ShareMemory, exclusions: ExclusionStore
    ) -> None:
        self.inner = inner
        self._server_id = server_id
        self._shares = shares
        self._exclusions = exclusions

    @property
    def kind(self) -> ServerKind:
        return self.inner.kind

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.inner.capabilities

    @property
    def needs_album_pass(self) -> bool:
        return self.inner.needs_album_pass

    def identity(self) -> ServerIdentity:
        return self.inner.identity()

    def music_libraries(self) -> list[RemoteLibrary]:
        return self.inner.music_libraries()

    def count_tracks(self, library_key: str) -> int:
        return self.inner.count_tracks(library_key)

    def count_albums(self, library_key: str) -> int:
        return self.inner.count_albums(library_key)

    def fetch_albums(self, library_key: str, start: int, size: int) -> Page[AlbumRecord]:
        return self.inner.fetch_albums(library_key, start, size)

    def fetch_tracks(self, library_key: str, start: int, size: int) -> Page[TrackRecord]:
        return self.inner.fetch_tracks(library_key, start, size)

    @property
    def track_changes(self) -> tuple[Change, ...]:
        return self.inner.track_changes

    def server_time(self) -> float | None:
        return self.inner.server_time()

    def count_changed_tracks(self, library_key: str, change: Change, since: float) -> int:
        return self.inner.count_changed_tracks(library_key, change, since)

    def fetch_changed_tracks(
        self, library_key: str, start: int, size: int, *, change: Change, since: float
    ) -> Page[TrackRecord]:
        return self.inner.fetch_changed_tracks(library_key, start, size, change=change, since=since)

    def count_changed_albums(self, library_key: str, since: float) -> int:
        return self.inner.count_changed_albums(library_key, since)

    def fetch_changed_albums(
        self, library_key: str, start: int, size: int, *, since: float
    ) -> Page[AlbumRecord]:
        return self.inner.fetch_changed_albums(library_key, start, size, since=since)

    def users(self) -> list[RemoteUser]:
        """The server's accounts minus excluded ones, plus remembered (disabled) ones it no longer lists.
        An empty server answer stays empty (callers treat "zero users" as suspicious, not as deletions)."""
        listed = self.inner.users()
        if not listed:
            return listed
        excluded = self._exclusions.excluded(self._server_id)
        out = [u for u in listed if u.remote_id not in excluded]
        seen = {u.remote_id for u in listed}
        for share in self._shares.remembered(self._server_id):
            if share.remote_id not in seen and share.remote_id not in excluded:
                out.append(
                    RemoteUser(
                        remote_id=share.remote_id,
                        username=share.username or share.remote_id,
                        is_disabled=True,
                        library_keys=share.library_keys,
                    )
                )
        return out

    def close(self) -> None:
        self.inner.close()

    def create_user(
        self, username: str, password: str | None, email: str | None, library_keys: Sequence[str]
    ) -> RemoteUser:
        return self.inner.create_user(username, password, email, library_keys)

    def set_user_disabled(self, remote_id: str, disabled: bool) -> None:
        self.inner.set_user_disabled(remote_id, disabled)

    def delete_user(self, remote_id: str) -> None:
        self.inner.delete_user(remote_id)

    def set_library_access(self, remote_id: str, library_keys: Sequence[str] | None) -> None:
        self.inner.set_library_access(remote_id, library_keys)


class PeopleRegistry(ServerRegistry):
    """A ServerRegistry whose ``connect`` wraps clients in :class:`PeopleClient`. Thread-safe like its base."""

    def __init__(self, settings: Settings, shares: ShareMemory, exclusions: ExclusionStore) -> None:
        super().__init__(settings)
        self._shares = shares
        self._exclusions = exclusions

    def connect(self, server: Server, credentials: Credentials) -> MediaServerClient:
        return PeopleClient(super().connect(server, credentials), server.id, self._shares, self._exclusions)
