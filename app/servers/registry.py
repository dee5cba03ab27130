"""``ServerRegistry``: builds media-server clients by kind (implements ``core.ports.ClientFactory``).

Every method blocks (run it on the ``net`` pool) and raises ``ValidationError`` for a URL that is not
http(s) or a missing credential, otherwise only ``ExternalServiceError`` subclasses naming the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from app.core.errors import AuthFailed, ValidationError
from app.core.models import AuthMethod, ConnectResult, Credentials, NewServer, Server, ServerKind
from app.core.ports import MediaServerClient
from app.core.settings import Settings

if TYPE_CHECKING:
    from app.servers.jellyfin import JellyfinClient
    from app.servers.plex import PlexClient

# The adapters (plexapi, jellyfin-apiclient-python, requests: ~170 ms of imports) load on first use, not at
# start-up: the desktop window paints from the cache before any server is contacted.


def normalize_url(url: str, name: str) -> str:
    """``url`` without surrounding blanks and trailing slashes. Raises ValidationError saying what is wrong."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValidationError(
            f"The URL of {name} is not valid ({exc}).", remedy="Enter it like http://192.168.1.10:32400."
        ) from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise ValidationError(
            f"The URL of {name} must start with http:// or https:// (it has {shown}).",
            remedy="Enter it like http://192.168.1.10:32400 or https://media.example.org.",
        )
    if not parts.hostname:
        raise ValidationError(
            f"The URL of {name} has no host name.", remedy="Enter it like http://192.168.1.10:8096."
        )
    if parts.username or parts.password:
        raise ValidationError(
            f"The URL of {name} must not contain a user name or password.",
            remedy="Enter the address only; give the credentials in their own fields.",
        )
    if parts.query or parts.fragment:
        raise ValidationError(
            f"The URL of {name} must not contain '?' or '#' parts.",
            remedy="Enter the server's base address only.",
        )
    return text.rstrip("/")


def _need(value: str | None, name: str, what: str) -> str:
    if not value:
        raise AuthFailed(
            name,
            f"{name}: no {what} is stored for this server.",
            remedy=f"Edit the server and enter its {what} again.",
        )
    return value


class ServerRegistry:
    """Builds clients for every supported server kind. Holds only settings; safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def kinds(self) -> list[ServerKind]:
        return [ServerKind.PLEX, ServerKind.JELLYFIN]

    def connect(self, server: Server, credentials: Credentials) -> MediaServerClient:
        """Connects with stored credentials (a Plex token, a Jellyfin API key or access token)."""
        from app.servers.jellyfin import JellyfinClient
        from app.servers.plex import PlexClient

        url = normalize_url(server.url, server.name)
        if server.kind == ServerKind.PLEX:
            return PlexClient.connect(
                server.name, url, _need(credentials.token, server.name, "token"), self._settings
            )
        token = _need(credentials.token, server.name, "API key or access token")
        return JellyfinClient.connect(server.name, url, token, server.remote_user_id, self._settings)

    def authenticate(self, new: NewServer, credentials: Credentials) -> ConnectResult:
        """Tests a server being added: reachable, right kind, credentials accepted. Returns what to store:
        a token (a password is exchanged for one and never kept) and, for Jellyfin logins, the user id."""
        from app.servers.jellyfin import JellyfinClient
        from app.servers.plex import PlexClient, sign_in

        url = normalize_url(new.url, new.name)
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
