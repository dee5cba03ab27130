"""``JellyfinClient``: a Jellyfin server behind ``core.ports.MediaServerClient``, through
jellyfin-apiclient-python (connection manager, URL/header building, API helpers).

The library's own HTTP layer has traps for a sync engine: it retries connection errors and 502 five times with
1 s sleeps, answers ``None`` to a 500, raises ``KeyError`` without a ``Date`` header and revokes its token on a
401. Each client instance therefore gets :class:`_BoundedHTTP` (a subclass, installed per instance: nothing
global is patched) that sends exactly one request through the app's :class:`GuardedSession` and raises typed
failures, which :mod:`app.servers.translate` maps to ``core.errors``. The connect path (``authenticate``,
``connect_to_address``, ``login``) swallows exceptions and reports only a state; the session's
``last_response`` / ``last_error`` tell what really happened.

Threading: every method blocks and may run on any ``net`` pool thread; calls on one instance are serialised by
a lock, except listing pages, which run concurrently (the prefetch keeps two in flight so that their server time
overlaps); results are immutable records. Errors: only ``ExternalServiceError`` subclasses naming the server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from jellyfin_apiclient_python import JellyfinClient as _LibClient
from jellyfin_apiclient_python.api import API
from jellyfin_apiclient_python.connection_manager import CONNECTION_STATE
from jellyfin_apiclient_python.http import HTTP

from app import __version__
from app.core.errors import AuthFailed, BadServerResponse, ServerError
from app.core.models import (
    AlbumRecord,
    Capability,
    Change,
    ConnectResult,
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
from app.servers import jellyfin_parse
from app.servers.client_identity import PRODUCT, client_identifier, device_name
from app.servers.jellyfin_users import JellyfinUserAdmin
from app.servers.translate import BadBody, HttpStatus, error_for_status, translate, translating, wrong_kind
from app.servers.transport import Budget, GuardedSession, origin

R = TypeVar("R")

# The library logs request headers (with the token) at DEBUG. Keep its loggers at INFO or above whatever the
# app's root level is, so a debug log never holds a token.
for _name in ("JELLYFIN", "Jellyfin"):
    if logging.getLogger(_name).level in (logging.NOTSET, logging.DEBUG):
        logging.getLogger(_name).setLevel(logging.INFO)
# The shortest Fields list: ProductionYear, Album, artists, RunTimeTicks and the indexes come without asking.
TRACK_FIELDS = "Genres,DateCreated"
ALBUM_FIELDS = "Genres"


class _BoundedHTTP(HTTP):
    """The library's HTTP with one attempt per request, our session, and typed failures."""

    def request(self, data: dict[str, Any], session: Any = None, dest_file: Any = None) -> Any:
        """Sends one request built by the library. Raises HttpStatus, BadBody, or a transport exception."""
        if dest_file is not None:
            raise NotImplementedError("streaming downloads are not used by Zondarr")
        data = self._request(dict(data))  # URL, default headers (Authorization), {UserId}
        method = str(data.pop("type", "GET")).upper()
        data.pop("retry", None)
        budget = Budget.start(self.session.request_timeout)
        response = self.session.request(method, **data)
        if response.status_code >= 400:
            raise HttpStatus(response.status_code, urlsplit(response.url).path)
        if not response.content.strip():
            return None  # 204 No Content
        try:
            decoded = response.json()
        except ValueError:
            raise BadBody(f"{urlsplit(response.url).path} did not answer JSON") from None
        budget.check()  # decoding is part of the request's overall deadline
        return decoded


def _library_client(settings: Settings, session: GuardedSession, url: str) -> _LibClient:
    client = _LibClient(allow_multiple_clients=True)
    # Device = this computer's name, DeviceId = the cache's client identifier (the same one Plex sees)
    client.config.app(PRODUCT, __version__, device_name(), client_identifier(settings))
    client.config.data["auth.ssl"] = settings.verify_tls  # False would make send_request disable TLS checks
    client.config.data["http.timeout"] = settings.request_timeout_s
    http = _BoundedHTTP(client)
    http.session = session
    http.keep_alive = True  # otherwise the library closes the session after every request
    client.http = http
    client.jellyfin = API(http)
    client.auth.session = session  # the connect path (send_request) uses it directly
    return client


def _connect_failure(
    name: str, session: GuardedSession, what: str, secrets: tuple[str | None, ...]
) -> Exception:
    """Why the library's connect path reported a non-success state, from the session's last request."""
    if session.last_error is not None:
        return translate(session.last_error, name, what, secrets)
    response = session.last_response
    if response is None:
        return BadServerResponse(name, f"{name}: the server did not answer as expected while {what}.")
    path = urlsplit(response.url).path.lower()
    status = response.status_code
    detail = f"{what}: HTTP {status} from {path}"
    if status >= 500:
        return error_for_status(name, status, what=what, detail=detail)
    if path.endswith("/system/info/public"):
        try:
            jellyfin_parse.identity(response.json())
        except Exception:
            return wrong_kind(name, "Jellyfin", "Plex", detail=detail)
        if status != 200:
            return wrong_kind(name, "Jellyfin", "Plex", detail=detail)
    if path.endswith("/users/authenticatebyname") and status in (400, 401, 403):
        return AuthFailed(
            name,
            f"{name}: the server refused the user name or password.",
            remedy="Check the user name and password and try again.",
            detail=detail,
        )
    if status >= 400:
        return error_for_status(name, status, what=what, detail=detail)
    return BadServerResponse(
        name, f"{name}: the server sent an answer Zondarr could not read while {what}.", detail=detail
    )


class JellyfinClient:
    """A connected Jellyfin server. Build it with :meth:`connect` or :meth:`login`."""

    kind = ServerKind.JELLYFIN
    # every capability but pending invitations (a new Jellyfin account exists at once)
    capabilities = frozenset(Capability) - {Capability.PENDING_INVITES}
    needs_album_pass = False  # audio items carry Genres and ProductionYear themselves

    def __init__(
        self, name: str, client: _LibClient, session: GuardedSession, token: str, user_id: str | None
    ) -> None:
        self._name = name
        self._lib = client
        self._session = session
        self._token = token
        self._user_id = user_id
        self._lock = threading.Lock()
        self._server_date: float | None = None  # the Date header of the last identity() answer
        self.connected_identity: ServerIdentity | None = None

    # -- construction ------------------------------------------------------------------------------------

    @classmethod
    def connect(
        cls, name: str, url: str, token: str, user_id: str | None, settings: Settings
    ) -> JellyfinClient:
        """Connects with an API key or a stored access token (``GET system/info/public``, ``GET system/info``).

        ``user_id`` (the token's user, when it came from a password login) is used for per-user data.
        Raises ServerUnreachable, AuthFailed, ServerError or BadServerResponse (wrong kind: pick Plex)."""
        session = GuardedSession(settings)
        try:
            client = _library_client(settings, session, url)
            with translating(name, "connecting", (token,)):
                state = client.authenticate(
                    {"Servers": [{"AccessToken": token, "address": url}]}, discover=False
                )
            if state.get("State") != CONNECTION_STATE.SignedIn:
                raise _connect_failure(name, session, "connecting", (token,))
            if user_id:
                client.config.data["auth.user_id"] = user_id
            out = cls(name, client, session, token, user_id)
            with translating(name, "connecting"):
                out.connected_identity = jellyfin_parse.identity(
                    {
                        "Id": state["Servers"][0]["Id"],
                        "ServerName": state["Servers"][0]["Name"],
                        "Version": state["Servers"][0]["Version"],
                    }
                )
            return out
        except BaseException:
            session.close()
            raise

    @classmethod
    def login(cls, name: str, url: str, username: str, password: str, settings: Settings) -> ConnectResult:
        """Exchanges a user name and password for an access token; the password is not kept anywhere.

        Raises AuthFailed (refused), ServerUnreachable, ServerError or BadServerResponse (wrong kind, or the
        server redirects to another address: the admin should add that address instead)."""
        session = GuardedSession(settings)
        secrets = (password,)
        try:
            client = _library_client(settings, session, url)
            with translating(name, "connecting", secrets):
                state = client.auth.connect_to_address(url)
            if not isinstance(state, dict) or state.get("State") != CONNECTION_STATE.ServerSignIn:
                raise _connect_failure(name, session, "connecting", secrets)
            server = state["Servers"][0]
            address = str(server["address"]).rstrip("/")
            if origin(address) != origin(url):
                raise ServerError(
                    name,
                    f"{name}: the server redirects to another address.",
                    remedy="Add the server with the address it redirects to.",
                    detail=f"redirected to {origin(address)}",
                )
            with translating(name, "signing in", secrets):
                result = client.auth.login(address, username, password)
            if not result:
                raise _connect_failure(name, session, "signing in", secrets)
            with translating(name, "signing in", secrets):
                token = result["AccessToken"]
                user_id = result["User"]["Id"]
                if not isinstance(token, str) or not token or not isinstance(user_id, str) or not user_id:
                    raise BadBody("AuthenticationResult without AccessToken or User.Id")
                identity = jellyfin_parse.identity(
                    {"Id": server["Id"], "ServerName": server["Name"], "Version": server["Version"]}
                )
                policy = result["User"].get("Policy")
                is_admin = bool(policy.get("IsAdministrator")) if isinstance(policy, dict) else None
            return ConnectResult(identity=identity, token=token, remote_user_id=user_id, is_admin=is_admin)
        finally:
            session.close()

    # -- MediaServerClient ----------------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], R]) -> R:
        with self._lock, translating(self._name, what, (self._token,)):
            return fn()

    def _items_params(
        self, library_key: str, item_type: str, start: int, limit: int, changed: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Lean pages: no image tags, user data only on track pages (the rating is there), short ``Fields``."""
        params: dict[str, Any] = {
            "ParentId": library_key,
            "IncludeItemTypes": item_type,
            "Recursive": True,
            "StartIndex": start,
            "Limit": limit,
            "EnableTotalRecordCount": True,
            "EnableImages": False,
            "EnableUserData": bool(limit) and item_type == "Audio",
        }
        if limit:
            fields = TRACK_FIELDS if item_type == "Audio" else ALBUM_FIELDS
            params.update(Fields=fields, SortBy="SortName", SortOrder="Ascending")
        if self._user_id:
            params["userId"] = self._user_id
        params.update(changed or {})
        return params

    def identity(self) -> ServerIdentity:
        def read() -> ServerIdentity:
            info = self._lib.jellyfin._get("System/Info")
            self._server_date = self._session.server_date()
            return jellyfin_parse.identity(info)

        return self._call("reading the server identity", read)

    def _page(self, what: str, params: dict[str, Any]) -> Any:
        """One listing page, without the lock: two or three pages are requested at once (the prefetch), each
        on its own pooled connection, so a page's server time overlaps the next one's. The library's request
        building only reads its configuration."""
        with translating(self._name, what, (self._token,)):
            return self._lib.jellyfin.items(params=params)

    def music_libraries(self) -> list[RemoteLibrary]:
        return self._call(
            "listing libraries", lambda: jellyfin_parse.music_folders(self._lib.jellyfin.virtual_folders())
        )

    def _count(
        self, library_key: str, item_type: str, what: str, changed: dict[str, str] | None = None
    ) -> int:
        params = self._items_params(library_key, item_type, 0, 0, changed)
        return self._call(what, lambda: jellyfin_parse.total_of(self._lib.jellyfin.items(params=params)))

    def count_tracks(self, library_key: str) -> int:
        return self._count(library_key, "Audio", "counting tracks")

    def count_albums(self, library_key: str) -> int:
        return self._count(library_key, "MusicAlbum", "counting albums")

    def fetch_tracks(
        self, library_key: str, start: int, size: int, changed: dict[str, str] | None = None
    ) -> Page[TrackRecord]:
        """One page of tracks (requested and parsed without the lock: see ``_page``)."""
        params = self._items_params(library_key, "Audio", start, size, changed)
        data = self._page("listing tracks", params)
        with translating(self._name, "listing tracks"):
            return jellyfin_parse.tracks_page(data)

    def fetch_albums(
        self, library_key: str, start: int, size: int, changed: dict[str, str] | None = None
    ) -> Page[AlbumRecord]:
        params = self._items_params(library_key, "MusicAlbum", start, size, changed)
        data = self._page("listing albums", params)
        with translating(self._name, "listing albums"):
            return jellyfin_parse.albums_page(data)

    # -- "changed since" (SERVER-PROTOCOLS.md): items carry no DateLastSaved; the filters take ISO 8601 --------

    track_changes = (Change.METADATA, Change.USER_DATA)

    def server_time(self) -> float | None:
        """The server's clock when ``identity()`` last answered (its Date header)."""
        return self._server_date

    def count_changed_tracks(self, library_key: str, change: Change, since: float) -> int:
        return self._count(library_key, "Audio", "counting changed tracks", _since(change, since))

    def fetch_changed_tracks(
        self, library_key: str, start: int, size: int, *, change: Change, since: float
    ) -> Page[TrackRecord]:
        return self.fetch_tracks(library_key, start, size, _since(change, since))

    def count_changed_albums(self, library_key: str, since: float) -> int:
        return self._count(
            library_key, "MusicAlbum", "counting changed albums", _since(Change.METADATA, since)
        )

    def fetch_changed_albums(
        self, library_key: str, start: int, size: int, *, since: float
    ) -> Page[AlbumRecord]:
        return self.fetch_albums(library_key, start, size, _since(Change.METADATA, since))

    # -- finding deletions (services.deletions): counts by year, then by album within a year, then ids ----------

    # ``AlbumIds`` matches tracks by the NAME of the given albums (10.11 BaseItemRepository): the cache groups
    # a year's tracks by album name and asks by one album id of each name.
    partition = (PartitionLevel("year", "year"), PartitionLevel("album", "album_remote_id"))
    max_bucket_values = 150  # about 5 KB of ids: Kestrel refuses request lines over 8 KB
    max_ids_per_request = 100

    def count_tracks_in(self, library_key: str, bucket: TrackBucket) -> int:
        if bucket.fixed:
            params = {
                "Years": str(int(bucket.fixed[0])),
                "AlbumIds": ",".join(str(v) for v in bucket.values),
            }
        else:
            params = {"Years": ",".join(str(int(v)) for v in bucket.values)}
        return self._count(library_key, "Audio", "counting tracks by year and album", params)

    def existing_tracks(self, library_key: str, remote_ids: Sequence[str]) -> set[str]:
        """``/Items?Ids=...``: the tracks of the library that still exist. A page with an unreadable item counts
        every id as present (the search then gives up rather than guess)."""
        params = self._items_params(library_key, "Audio", 0, len(remote_ids), {"Ids": ",".join(remote_ids)})
        params["EnableUserData"] = False
        data = self._page("asking which tracks still exist", params)
        with translating(self._name, "asking which tracks still exist"):
            page = jellyfin_parse.tracks_page(data)
        if page.failed:
            return set(remote_ids)
        return {t.remote_id for t in page.items} & set(remote_ids)

    def users(self) -> list[RemoteUser]:
        return self._call("listing users", lambda: jellyfin_parse.users(self._lib.jellyfin.get_users()))

    def close(self) -> None:
        self._session.close()

    # -- user management: the work is in app.servers.jellyfin_users (this module stays the listing adapter)

    def _users_admin(self) -> JellyfinUserAdmin:
        return JellyfinUserAdmin(self._name, self._lib.jellyfin, self._token)

    def create_user(
        self,
        username: str,
        password: str | None,
        email: str | None,
        library_keys: Sequence[str],
        restrictions: Restrictions | None = None,
    ) -> RemoteUser:
        """``Users/New`` then the policy limiting it to ``library_keys`` and ``restrictions`` (Jellyfin keeps no
        email)."""
        with self._lock:
            return self._users_admin().create(username, password, library_keys, restrictions)

    def set_user_disabled(self, remote_id: str, disabled: bool) -> None:
        with self._lock:
            self._users_admin().set_disabled(remote_id, disabled)

    def delete_user(self, remote_id: str) -> None:
        with self._lock:
            self._users_admin().delete(remote_id)

    def set_library_access(self, remote_id: str, library_keys: Sequence[str] | None) -> None:
        with self._lock:
            self._users_admin().set_access(remote_id, library_keys)

    def quick_connect_enabled(self) -> bool:
        with self._lock:
            return self._users_admin().quick_connect_enabled()

    def authorize_device(self, remote_id: str, code: str) -> None:
        """Quick Connect: signs in the device showing ``code`` as ``remote_id`` (see JellyfinUserAdmin)."""
        with self._lock:
            self._users_admin().authorize_device(remote_id, code)

    def set_restrictions(self, remote_id: str, restrictions: Restrictions) -> None:
        with self._lock:
            self._users_admin().set_restrictions(remote_id, restrictions)


def _since(change: Change, since: float) -> dict[str, str]:
    """``MinDateLastSaved`` (metadata; an album edit saves its tracks too) or ``MinDateLastSavedForUser``
    (ratings), as ISO 8601 UTC. Jellyfin has no "album changed" filter: tracks carry their own genres."""
    name = "MinDateLastSavedForUser" if change is Change.USER_DATA else "MinDateLastSaved"
    stamp = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {name: stamp}
