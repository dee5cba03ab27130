"""``ServerRegistry``: builds media-server clients by kind (implements ``core.ports.ClientFactory``).

Every method blocks (run it on the ``net`` pool) and raises ``ValidationError`` for a URL that is not
http(s) or a missing credential, otherwise only ``ExternalServiceError`` subclasses naming the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.errors import AuthFailed, ExternalServiceError, ValidationError, no_credentials
from app.core.health import check_version, normalize_server_url
from app.core.models import AuthMethod, ConnectResult, Credentials, NewServer, Server, ServerKind
from app.core.ports import MediaServerClient
from app.core.settings import Settings

if TYPE_CHECKING:
    from app.servers.jellyfin import JellyfinClient
    from app.servers.plex import PlexClient

# The adapters (plexapi, jellyfin-apiclient-python, requests: ~170 ms of imports) load on first use, not at
# start-up: the desktop window paints from the cache before any server is contacted.


def normalize_url(url: str, name: str) -> str:
    """The base URL to use (see ``core.health.normalize_server_url`` for what is normalised). Raises
    ValidationError (failure class ``malformed_url``) saying what is wrong."""
    return normalize_server_url(url, name)[0]


def _need(value: str | None, name: str, what: str) -> str:
    if not value:
        raise AuthFailed(
            name,
            f"{name}: no {what} is stored for this server.",
            remedy=f"Edit the server and enter its {what} again.",
            failure_class="no_credentials",
        )
    return value


class ServerRegistry:
    """Builds clients for every supported server kind. Holds only settings; safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def detect_kind(self, url: str) -> ServerKind | None:
        """Which kind of server answers at ``url`` (a normalised http(s) base URL) from the public endpoints
        only, no credential sent: Plex ``/identity`` (the ``X-Plex-Protocol`` header or its MediaContainer), then
        Jellyfin ``/System/Info/Public``. None when neither answers like one."""
        from app.servers.client_identity import plex_headers
        from app.servers.diagnose import _kind_at
        from app.servers.transport import GuardedSession

        session = GuardedSession(self._settings, headers=plex_headers(self._settings))
        try:
            for kind in (ServerKind.PLEX, ServerKind.JELLYFIN):
                if _kind_at(session, url, kind, None):
                    return kind
            return None
        finally:
            session.close()

    def locate_plex(self, machine_id: str, token: str) -> str | None:
        """Asks plex.tv for the account's servers and probes the connections of ``machine_id`` in parallel in
        the preferred order (``core.signin.connection_order``); the best that answers as that machine wins."""
        from concurrent.futures import ThreadPoolExecutor

        from app.core.signin import connection_order
        from app.servers.plex_account import PlexAccountClient

        account = PlexAccountClient(self._settings)
        resource = next((r for r in account.resources(token) if r.machine_id == machine_id), None)
        if resource is None:
            return None
        order = connection_order(resource)

        def answers(uri: str) -> bool:
            try:
                return account.machine_id_at(uri, 4.0) == machine_id
            except Exception:
                return False

        with ThreadPoolExecutor(
            max_workers=max(1, min(8, len(order))), thread_name_prefix="plex-probe"
        ) as pool:
            found = list(pool.map(answers, [c.uri for c in order]))
        return next((c.uri for c, ok in zip(order, found, strict=True) if ok), None)

    def kinds(self) -> list[ServerKind]:
        return [ServerKind.PLEX, ServerKind.JELLYFIN]

    def connect(self, server: Server, credentials: Credentials) -> MediaServerClient:
        """Connects with stored credentials (a Plex token, a Jellyfin API key or access token)."""
        from app.servers.jellyfin import JellyfinClient
        from app.servers.plex import PlexClient

        url = normalize_url(server.url, server.name)
        token = credentials.token
        if not token:
            raise no_credentials(server.name)
        try:
            if server.kind == ServerKind.PLEX:
                return PlexClient.connect(server.name, url, token, self._settings)
            return JellyfinClient.connect(server.name, url, token, server.remote_user_id, self._settings)
        except ExternalServiceError as err:
            raise self._refined(err, server.name, url, server.kind, token) from None

    def authenticate(self, new: NewServer, credentials: Credentials) -> ConnectResult:
        """Tests a server being added: reachable, right kind, credentials accepted. Returns what to store:
        a token (a password is exchanged for one and never kept) and, for Jellyfin logins, the user id.
        Every error carries its ``failure_class`` (wrong kind, not a media server, version unsupported ...)."""
        url = normalize_url(new.url, new.name)
        try:
            result = self._authenticate(new, url, credentials)
        except ExternalServiceError as err:
            raise self._refined(err, new.name, url, new.kind, credentials.token) from None
        check_version(new.name, result.identity)
        return result

    def _refined(
        self, err: ExternalServiceError, name: str, url: str, kind: ServerKind, token: str | None
    ) -> ExternalServiceError:
        """WRONG_KIND or NOT_A_MEDIA_SERVER for a "does not answer like a <kind> server" error; WRONG_KIND for
        a refusal by a server of the other kind (a Jellyfin server refuses a Plex token), else the error itself."""
        from app.servers.diagnose import refine_wrong_kind

        if err.failure_class not in ("not_a_media_server", "auth_failed"):
            return err
        return refine_wrong_kind(err, name, url, kind, token, self._settings)

    def _authenticate(self, new: NewServer, url: str, credentials: Credentials) -> ConnectResult:
        from app.servers.jellyfin import JellyfinClient
        from app.servers.plex import PlexClient, sign_in

        if new.auth_method == AuthMethod.PASSWORD:
            username = credentials.username or ""
            password = _need(credentials.password, new.name, "password")
            if not username:
                raise ValidationError(
                    f"A user name is needed to sign in to {new.name}.", remedy="Enter the user name."
                )
            if new.kind == ServerKind.JELLYFIN:
                return JellyfinClient.login(new.name, url, username, password, self._settings)
            token = sign_in(new.name, username, password, self._settings)
        else:
            token = _need(credentials.token, new.name, "token" if new.kind == ServerKind.PLEX else "API key")
        if new.kind == ServerKind.PLEX:
            client: PlexClient | JellyfinClient = PlexClient.connect(new.name, url, token, self._settings)
        else:
            client = JellyfinClient.connect(new.name, url, token, None, self._settings)
        try:
            return ConnectResult(identity=client.identity(), token=token, remote_user_id=None)
        finally:
            client.close()
