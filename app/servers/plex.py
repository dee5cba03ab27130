"""``PlexClient``: a Plex Media Server (and its plex.tv account) behind ``core.ports.MediaServerClient``.

Listings go through ``PlexServer.query`` (plexapi's request, status and XML handling) and are turned into
records from the XML elements (:mod:`app.servers.plex_parse`), not into plexapi objects. Users come from
plex.tv through ``MyPlexAccount``, whose hard-coded ``https://plex.tv`` URLs the session rewrites to the
``plex_tv_url`` setting for this client only.

Threading: every method blocks and may run on any ``net`` pool thread; calls on one instance are serialised by
a lock, except listing pages, which run concurrently (the prefetch keeps two in flight so that their server time
overlaps); results are immutable records.
Errors: only ``core.errors.ExternalServiceError`` subclasses naming the server.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from xml.etree.ElementTree import Element

from plexapi.exceptions import NotFound, TwoFactorRequired
from plexapi.myplex import MyPlexAccount
from plexapi.server import PlexServer

from app.core.errors import AuthFailed, BadServerResponse
from app.core.models import (
    AlbumRecord,
    Capability,
    Change,
    PartitionLevel,
    RemoteLibrary,
    RemoteUser,
    Restrictions,
    ServerIdentity,
    ServerKind,
    TrackBucket,
    TrackRecord,
)
from app.core.ports import Page
from app.core.settings import Settings
from app.servers import plex_parse
from app.servers.client_identity import plex_headers
from app.servers.plex_users import PlexUserAdmin
from app.servers.translate import BadBody, HttpStatus, translate, translating, wrong_kind
from app.servers.transport import Budget, GuardedSession
from app.servers.user_common import not_supported

PLEX_TV = "https://plex.tv"
TRACK_TYPE = 10
ALBUM_TYPE = 9


def plex_session(settings: Settings) -> GuardedSession:
    """A session for a Plex server and plex.tv: plex.tv URLs rewritten to the setting, Zondarr's identity headers."""
    return GuardedSession(settings, rewrite=[(PLEX_TV, settings.plex_tv_url)], headers=plex_headers(settings))


def _seen(when: object) -> float | None:
    """plex.tv's ``lastSeenAt`` of a share (a datetime from plexapi; absent or 0 = unknown)."""
    try:
        stamp = when.timestamp() if isinstance(when, datetime) else None
    except (OverflowError, OSError, ValueError):
        return None
    return stamp if stamp else None


class PlexClient:
    """A connected Plex server. Build it with :meth:`connect` (which reads ``GET /`` once)."""

    kind = ServerKind.PLEX
    capabilities = frozenset(
        {
            Capability.LIST_TRACKS,
            Capability.LIST_USERS,
            Capability.CREATE_USER,
            Capability.DELETE_USER,
            Capability.LIBRARY_ACCESS,
            Capability.PENDING_INVITES,
            Capability.ALLOW_DOWNLOADS,
        }
    )  # no DISABLE_USER/PASSWORD: plex.tv accounts have neither here (services disable by removing shares)
    needs_album_pass = True  # real Plex track listings carry no genre/year: albums provide them

    def __init__(self, name: str, server: PlexServer, session: GuardedSession, token: str) -> None:
        self._name = name
        self._server = server
        self._session = session
        self._token = token
        self._lock = threading.Lock()
        self._server_date: float | None = None  # the Date header of the last identity() answer

    @classmethod
    def connect(cls, name: str, url: str, token: str, settings: Settings) -> PlexClient:
        """Connects to the server at ``url`` (``GET /``) and checks that it is a Plex server.

        Raises ServerUnreachable, AuthFailed, ServerError, or BadServerResponse (also when the URL is not a
        Plex server: the remedy says to pick the other kind)."""
        session = plex_session(settings)
        try:
            with translating(name, "connecting", (token,)):
                try:
                    server = PlexServer(url, token, session=session, timeout=settings.request_timeout_s)
                except (BadBody, ValueError, SyntaxError) as exc:  # ParseError is a SyntaxError
                    raise wrong_kind(
                        name, "Plex", "Jellyfin", detail=f"GET / was not Plex XML: {exc}"
                    ) from None
                if not server.machineIdentifier:
                    raise wrong_kind(name, "Plex", "Jellyfin", detail="GET / has no machineIdentifier")
        except BaseException:
            session.close()
            raise
        return cls(name, server, session, token)

    @property
    def name(self) -> str:
        return self._name

    def _query(self, key: str, what: str, headers: dict[str, str] | None = None) -> Element:
        """``GET key`` through plexapi; the root element of the answer. Caller holds the lock."""
        with translating(self._name, what, (self._token,)):
            root = self._server.query(key, headers=headers)
            if root is None:
                raise BadBody("empty body")
            return root

    def identity(self) -> ServerIdentity:
        """Reads ``GET /`` again (the installation may have been replaced since connect)."""
        with self._lock:
            root = self._query("/", "reading the server identity")
            self._server_date = self._session.server_date()
            machine_id = root.get("machineIdentifier")
            if not machine_id:
                raise wrong_kind(self._name, "Plex", "Jellyfin", detail="GET / has no machineIdentifier")
            return ServerIdentity(
                machine_id=machine_id,
                name=root.get("friendlyName") or self._name,
                version=root.get("version") or "",
                kind=ServerKind.PLEX,
            )

    def music_libraries(self) -> list[RemoteLibrary]:
        with self._lock:
            root = self._query("/library/sections", "listing libraries")
            with translating(self._name, "listing libraries"):
                return plex_parse.music_sections(root)

    def _count(self, library_key: str, libtype: int, what: str, changed: str = "") -> int:
        """``totalSize`` of a listing asked with container size 0 (start/size sent once, as headers)."""
        key = f"/library/sections/{library_key}/all?type={libtype}{changed}"
        with self._lock:
            root = self._query(key, what, {"X-Plex-Container-Start": "0", "X-Plex-Container-Size": "0"})
            with translating(self._name, what):
                return plex_parse.total_of(plex_parse.container(root))

    def count_tracks(self, library_key: str) -> int:
        return self._count(library_key, TRACK_TYPE, "counting tracks")

    def count_albums(self, library_key: str) -> int:
        return self._count(library_key, ALBUM_TYPE, "counting albums")

    def _paged(
        self, library_key: str, libtype: int, start: int, size: int, what: str, changed: str = ""
    ) -> tuple[bytes, Budget]:
        """The raw body of one listing page, requested exactly as ``PlexServer.query`` does (its session, URL and
        headers) but not parsed into a tree: ``plex_parse`` streams it, within the returned deadline (the
        request's). Page requests do not take the lock: two or three run at once (the prefetch), each on its own
        pooled connection, so a page's server time overlaps the next one's."""
        headers = {"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(size)}
        server = self._server
        key = f"/library/sections/{library_key}/all?type={libtype}{changed}"
        budget = Budget.start(self._session.request_timeout)
        with translating(self._name, what, (self._token,)):
            response = self._session.get(
                server.url(key), headers=server._headers(**headers), timeout=server._timeout
            )
            if response.status_code not in (200, 201, 204):
                raise HttpStatus(response.status_code, what)
            return bytes(response.content), budget

    def fetch_tracks(self, library_key: str, start: int, size: int) -> Page[TrackRecord]:
        """One page of tracks. Pages are fetched and parsed without the lock (see ``_paged``)."""
        body, budget = self._paged(library_key, TRACK_TYPE, start, size, "listing tracks")
        with translating(self._name, "listing tracks"):
            return plex_parse.tracks_page_from_bytes(body, budget)

    def fetch_albums(self, library_key: str, start: int, size: int) -> Page[AlbumRecord]:
        body, budget = self._paged(library_key, ALBUM_TYPE, start, size, "listing albums")
        with translating(self._name, "listing albums"):
            return plex_parse.albums_page_from_bytes(body, budget)

    # -- "changed since" (SERVER-PROTOCOLS.md): hidden filter fields; a rating moves only lastRatedAt ---------

    track_changes = (Change.METADATA, Change.USER_DATA)  # updatedAt >= addedAt: additions are "metadata"

    def server_time(self) -> float | None:
        """The server's clock when ``identity()`` last answered (its Date header)."""
        return self._server_date

    def count_changed_tracks(self, library_key: str, change: Change, since: float) -> int:
        return self._count(library_key, TRACK_TYPE, "counting changed tracks", _since(change, since))

    def fetch_changed_tracks(
        self, library_key: str, start: int, size: int, *, change: Change, since: float
    ) -> Page[TrackRecord]:
        body, budget = self._paged(
            library_key, TRACK_TYPE, start, size, "listing changed tracks", _since(change, since)
        )
        with translating(self._name, "listing changed tracks"):
            return plex_parse.tracks_page_from_bytes(body, budget)

    def count_changed_albums(self, library_key: str, since: float) -> int:
        return self._count(library_key, ALBUM_TYPE, "counting changed albums", _since(Change.METADATA, since))

    def fetch_changed_albums(
        self, library_key: str, start: int, size: int, *, since: float
    ) -> Page[AlbumRecord]:
        body, budget = self._paged(
            library_key, ALBUM_TYPE, start, size, "listing changed albums", _since(Change.METADATA, since)
        )
        with translating(self._name, "listing changed albums"):
            return plex_parse.albums_page_from_bytes(body, budget)

    # -- finding deletions (services.deletions): counts over ``addedAt`` ranges, then ratingKeys -----------------

    partition = (PartitionLevel("added_at", "added_at"),)
    max_bucket_values = 1 << 30  # a range: only its first and last value are sent
    max_ids_per_request = 100

    def count_tracks_in(self, library_key: str, bucket: TrackBucket) -> int:
        """Tracks added from the bucket's first to its last ``addedAt``. Plex's ``>>=``/``<<=`` are strict
        (greater/less than) and stamps are whole seconds: one second is added on each side."""
        first, last = math.floor(float(bucket.values[0])), math.ceil(float(bucket.values[-1]))
        window = f"&addedAt>>={first - 1}&addedAt<<={last + 1}"
        return self._count(library_key, TRACK_TYPE, "counting tracks by date added", window)

    def existing_tracks(self, library_key: str, remote_ids: Sequence[str]) -> set[str]:
        """``GET /library/metadata/k1,k2,...`` lists the items that still exist; Plex answers 404 when none
        does. An id that is not a ratingKey is reported present (it cannot be asked about)."""
        keys = [r for r in remote_ids if r.isdigit()]
        unaskable = set(remote_ids) - set(keys)
        if not keys:
            return unaskable
        with self._lock, translating(self._name, "asking which tracks still exist", (self._token,)):
            try:
                root = self._server.query(f"/library/metadata/{','.join(keys)}")
            except NotFound:
                return unaskable
            found = {str(el.get("ratingKey")) for el in plex_parse.container(root)}
        return unaskable | (found & set(keys))

    def users(self) -> list[RemoteUser]:
        """The owner, every plex.tv friend/home user this server is shared with, and every invitation still
        pending on plex.tv (``pending_since`` set; its id is the invitee's account id, else their e-mail).

        plex.tv failing raises (never a partial list: missing users would look like deletions)."""
        with self._lock, translating(self._name, "listing users on plex.tv", (self._token,)):
            machine_id = self._server.machineIdentifier
            account = MyPlexAccount(token=self._token, session=self._session)
            owner = RemoteUser(
                remote_id=_id(account.id),
                username=account.username or account.title or _id(account.id),
                email=account.email or None,
                is_admin=True,
            )
            out = [owner]
            for user in account.users():
                share = next((s for s in user.servers if s.machineIdentifier == machine_id), None)
                if share is None:
                    continue
                out.append(
                    RemoteUser(
                        remote_id=_id(user.id),
                        username=user.username or user.title or _id(user.id),
                        email=user.email or None,
                        library_keys=() if share.allLibraries is False else None,
                        last_active_at=_seen(share.lastSeenAt),
                    )
                )
            return self._with_shares(account, out)

    def _with_shares(self, account: MyPlexAccount, users: list[RemoteUser]) -> list[RemoteUser]:
        """Fills ``library_keys`` of users shared only some libraries and adds the pending invitations, from
        one ``shared_servers`` request. plex.tv answering 404 (it lists no shares of this machine, e.g. a
        replaced server) means nothing is pending; it still fails a listing that needs library keys."""
        url = f"{PLEX_TV}/api/servers/{self._server.machineIdentifier}/shared_servers"
        try:
            root = account.query(url)
        except NotFound:
            if any(u.library_keys is not None and not u.is_admin for u in users):
                raise
            return users
        if not isinstance(root, Element):
            raise BadBody("shared_servers is not XML")
        keys: dict[str, tuple[str, ...]] = {}
        pending: list[RemoteUser] = []
        for shared in root.iter("SharedServer"):
            sections = tuple(
                s.get("key") or s.get("id") or "" for s in shared.iter("Section") if s.get("shared") == "1"
            )
            user_id = shared.get("userID") or ""
            if user_id:
                keys[user_id] = sections
            if shared.get("acceptedAt") == "0":  # invited, not accepted (absent = an older answer: accepted)
                email = shared.get("email") or None
                who = user_id if user_id not in ("", "0") else (email or shared.get("username") or "")
                if not who:
                    continue
                pending.append(
                    RemoteUser(
                        remote_id=who,
                        username=shared.get("username") or email or who,
                        email=email,
                        library_keys=None if shared.get("allLibraries") == "1" else sections,
                        pending_since=_epoch(shared.get("invitedAt")),
                    )
                )
        listed = {u.remote_id for u in users}
        users = [
            u if u.library_keys is None else replace(u, library_keys=keys.get(u.remote_id, ())) for u in users
        ]
        return users + [p for p in pending if p.remote_id not in listed]

    def close(self) -> None:
        self._session.close()

    # -- user management: the work is in app.servers.plex_users (this module stays the listing adapter) ---

    def _users_admin(self) -> PlexUserAdmin:
        return PlexUserAdmin(self._name, self._server, self._session, self._token)

    def create_user(
        self,
        username: str,
        password: str | None,
        email: str | None,
        library_keys: Sequence[str],
        restrictions: Restrictions | None = None,
    ) -> RemoteUser:
        """Shares ``library_keys`` with the plex.tv account ``username`` (a username or email; the password is
        not used: plex.tv accounts keep their own). The share is pending until the invitee accepts it.
        ``restrictions``: only ``allow_downloads`` (plex.tv "allow sync"); another field raises ValidationError."""
        with self._lock:
            return self._users_admin().create(username, email, library_keys, restrictions)

    def set_user_disabled(self, remote_id: str, disabled: bool) -> None:
        """Always raises ValidationError: Plex has no disabled state (services remove and remember shares)."""
        raise not_supported(
            self._name, "Plex", "disable or enable an account", "Remove its library shares instead."
        )

    def delete_user(self, remote_id: str) -> None:
        with self._lock:
            self._users_admin().delete(remote_id)

    def set_library_access(self, remote_id: str, library_keys: Sequence[str] | None) -> None:
        with self._lock:
            self._users_admin().set_access(remote_id, library_keys)

    def resend_invite(self, remote_id: str) -> None:
        """Sends a pending plex.tv invitation again (see PlexUserAdmin.resend)."""
        with self._lock:
            self._users_admin().resend(remote_id)

    def sharing_allowed(self) -> bool:
        """Whether plex.tv lets the owner share (their account's e-mail address is verified)."""
        with self._lock:
            return self._users_admin().sharing_allowed()

    def set_restrictions(self, remote_id: str, restrictions: Restrictions) -> None:
        """Only ``allow_downloads`` (plex.tv "allow sync" of the friend); other fields raise ValidationError."""
        with self._lock:
            self._users_admin().set_restrictions(remote_id, restrictions)


_CHANGE_FILTER = {
    Change.METADATA: "updatedAt",
    Change.USER_DATA: "lastRatedAt",
    Change.ALBUM: "album.updatedAt",
}


def _since(change: Change, since: float) -> str:
    """The query suffix of a "changed since" (at or after) listing, e.g. ``&updatedAt>>=1699999999`` for
    1700000000: Plex's ``>>`` is strictly "after" and its times are whole seconds, so one second less."""
    return f"&{_CHANGE_FILTER[change]}>>={int(since) - 1}"


def _epoch(value: str | None) -> float | None:
    """An epoch-seconds attribute of plex.tv (absent, 0 or out of range = unknown)."""
    try:
        stamp = float(value or 0)
    except ValueError:
        return None
    return stamp if 0 < stamp < 10**11 else None


def _id(value: object) -> str:
    if value is None or value == "":
        raise BadBody("plex.tv listed an account without an id")
    return str(value)


def sign_in(name: str, username: str, password: str, settings: Settings) -> str:
    """plex.tv sign-in with a user name and password; returns the account token (the password is not kept).

    Raises AuthFailed (also for accounts with two-factor authentication: the remedy says to use a token)."""
    session = plex_session(settings)
    try:
        account = MyPlexAccount(username=username, password=password, session=session)
        token = account.authenticationToken
    except TwoFactorRequired:
        raise AuthFailed(
            name,
            f"{name}: plex.tv asks for a two-factor code, which Zondarr cannot enter.",
            remedy="Add the server with a Plex token instead of a password.",
        ) from None
    except Exception as exc:
        raise translate(exc, name, "signing in to plex.tv", (password,)) from None
    finally:
        session.close()
    if not token:
        raise BadServerResponse(name, f"{name}: plex.tv did not return a token.")
    return str(token)
