"""Jellyfin without a typed password: LAN discovery (UDP 7359), Quick Connect and API keys (SERVER-PROTOCOLS.md
"Jellyfin: finding servers on the network", "Quick Connect (10.8+) and API keys").

jellyfin-apiclient-python has no Quick Connect or API-key calls, so these are plain requests through the app's
``GuardedSession`` with the same MediaBrowser header the library sends (Client, Device, DeviceId, Version and,
when signed in, Token). Discovery is a short-lived UDP client socket: nothing listens after it returns.

Every function blocks (net pool). Errors: ``ExternalServiceError`` subclasses naming the server's address,
``SignInCodeGone`` for a Quick Connect secret the server no longer knows, ``ValidationError`` for the admin's input.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from app import __version__
from app.core.errors import AuthFailed, ValidationError
from app.core.models import ConnectResult
from app.core.settings import Settings
from app.core.signin import FoundServer, QuickConnectCode, QuickConnectSignIn, SignInCodeGone
from app.servers import jellyfin_parse
from app.servers.client_identity import PRODUCT, client_identifier, device_name
from app.servers.translate import BadBody, HttpStatus, translating
from app.servers.transport import GuardedSession

DISCOVERY_MESSAGE = b"who is JellyfinServer?"
_MAX_DATAGRAM = 8192
_MAX_ANSWERS = 256


def _quote(value: str) -> str:
    return value.replace('"', "'")


def auth_header(settings: Settings, token: str | None = None) -> dict[str, str]:
    """The MediaBrowser ``Authorization`` header (the only form Jellyfin 10.11 accepts by default)."""
    parts = [
        f'Client="{PRODUCT}"',
        f'Device="{_quote(device_name())}"',
        f'DeviceId="{client_identifier(settings)}"',
        f'Version="{__version__}"',
    ]
    if token:
        parts.append(f'Token="{token}"')
    return {"Authorization": "MediaBrowser " + ", ".join(parts), "Accept": "application/json"}


def _json(response: Any, what: str) -> Any:
    if response.status_code >= 400:
        raise HttpStatus(response.status_code, what)
    if not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError:
        raise BadBody(f"{what} did not answer JSON") from None


class JellyfinSignInClient:
    """Holds only settings; thread-safe (one session per call)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _call(
        self,
        url: str,
        method: str,
        path: str,
        what: str,
        token: str | None = None,
        secret: str = "",
        **kw: Any,
    ) -> Any:
        """One request with the MediaBrowser header (``token`` when signed in); ``secret`` is redacted from errors."""
        session = GuardedSession(self._settings)
        try:
            with translating(url, what, (token, secret)):
                response = session.request(
                    method, url + path, headers=auth_header(self._settings, token), **kw
                )
                if response.status_code == 404 and path.startswith("/QuickConnect/Connect"):
                    return None
                return _json(response, what)
        finally:
            session.close()

    # ---- discovery -------------------------------------------------------------------------------------
    def discover(self, seconds: float = 1.5) -> list[FoundServer]:
        """Sends the discovery datagram to the ``discovery_address`` setting and collects the answers for
        ``seconds``. Answers that are not a server's JSON are skipped. Raises ValidationError for an address
        that cannot be used."""
        host, _, port = self._settings.discovery_address.rpartition(":")
        found: dict[str, FoundServer] = {}
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            try:
                sock.sendto(DISCOVERY_MESSAGE, (host, int(port)))
            except OSError as exc:
                raise ValidationError(
                    f"Zondarr could not send the discovery message to {host}:{port}.",
                    remedy="Check the discovery_address setting and that this computer is on the network.",
                    detail=f"{type(exc).__name__}: {exc}",
                ) from None
            deadline = time.monotonic() + seconds
            while len(found) < _MAX_ANSWERS:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                sock.settimeout(remaining)
                try:
                    data, _ = sock.recvfrom(_MAX_DATAGRAM)
                except (TimeoutError, OSError):
                    break
                server = _found(data)
                if server is not None:
                    found.setdefault(server.server_id, server)
        finally:
            sock.close()
        return sorted(found.values(), key=lambda s: (s.name.lower(), s.url))

    # ---- Quick Connect ---------------------------------------------------------------------------------
    def quick_connect_initiate(self, url: str) -> QuickConnectCode:
        """Checks that Quick Connect is on and starts a request. Raises ValidationError when it is off,
        ExternalServiceError."""
        enabled = self._call(url, "GET", "/QuickConnect/Enabled", "checking Quick Connect")
        if enabled is not True:
            raise ValidationError(
                "Quick Connect is turned off on this Jellyfin server.",
                remedy="Turn it on in the Jellyfin dashboard (General → Quick Connect), or sign in with an API key.",
            )
        data = self._call(url, "POST", "/QuickConnect/Initiate", "starting Quick Connect")
        with translating(url, "starting Quick Connect"):
            secret, code = str(data["Secret"]), str(data["Code"])
            if not secret or not code:
                raise BadBody("Quick Connect answered without a secret or code")
        return QuickConnectCode(url, code, secret)

    def quick_connect_approved(self, code: QuickConnectCode) -> bool:
        """One poll. Raises SignInCodeGone (404: unknown or expired), ExternalServiceError."""
        data = self._call(
            code.url,
            "GET",
            f"/QuickConnect/Connect?secret={code.secret}",
            "waiting for Quick Connect",
            secret=code.secret,
        )
        if data is None:
            raise SignInCodeGone(
                "The Jellyfin server no longer knows this Quick Connect code (it expired after 10 minutes).",
                remedy="Start Quick Connect again.",
            )
        return bool(data.get("Authenticated")) if isinstance(data, dict) else False

    def quick_connect_sign_in(self, code: QuickConnectCode) -> QuickConnectSignIn:
        """Exchanges the approved secret for an access token. Raises AuthFailed, ExternalServiceError."""
        data = self._call(
            code.url, "POST", "/Users/AuthenticateWithQuickConnect", "signing in with Quick Connect",
            secret=code.secret, json={"Secret": code.secret},
        )  # fmt: skip
        info = self._call(code.url, "GET", "/System/Info/Public", "reading the server identity")
        with translating(code.url, "signing in with Quick Connect", (code.secret,)):
            token, user = data["AccessToken"], data["User"]
            if not isinstance(token, str) or not token or not isinstance(user, dict) or not user.get("Id"):
                raise BadBody("AuthenticationResult without AccessToken or User.Id")
            identity = jellyfin_parse.identity(info)
            policy = user.get("Policy")
            if not isinstance(policy, dict):
                policy = {}
            is_admin = bool(policy.get("IsAdministrator"))
            return QuickConnectSignIn(
                ConnectResult(identity, token, str(user["Id"]), is_admin),
                str(user.get("Name") or ""),
                is_admin,
            )

    # ---- API keys --------------------------------------------------------------------------------------
    def _keys(self, url: str, token: str) -> list[dict[str, Any]]:
        data = self._call(url, "GET", "/Auth/Keys", "listing API keys", token)
        with translating(url, "listing API keys", (token,)):
            items = data["Items"]
            if not isinstance(items, list):
                raise BadBody("Auth/Keys without Items")
            return [i for i in items if isinstance(i, dict)]

    def create_api_key(self, url: str, token: str) -> str:
        """``POST /Auth/Keys?app=Zondarr`` (204, no body), then the new key read back from ``GET /Auth/Keys``.
        Raises AuthFailed (403: not an administrator), ExternalServiceError."""
        before = {str(i.get("AccessToken")) for i in self._keys(url, token)}
        self._call(url, "POST", f"/Auth/Keys?app={PRODUCT}", "creating an API key", token)
        new = [
            str(i["AccessToken"])
            for i in self._keys(url, token)
            if i.get("AppName") == PRODUCT and i.get("AccessToken") and str(i["AccessToken"]) not in before
        ]
        if len(new) != 1:
            raise AuthFailed(url, f"{url}: the new API key could not be read back.", remedy="Try again.")
        return new[0]

    def revoke_api_key(self, url: str, token: str, key: str) -> bool:
        """Revokes ``key`` when it is one of the server's API keys (``token`` must be an administrator's); returns
        whether it was. Raises ExternalServiceError."""
        if not any(str(i.get("AccessToken")) == key for i in self._keys(url, token)):
            return False
        self._call(url, "DELETE", f"/Auth/Keys/{key}", "revoking the API key", token)
        return True


def _found(data: bytes) -> FoundServer | None:
    """A discovery answer, or None for anything that is not one (bounded: one datagram)."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    address, server_id, name = value.get("Address"), value.get("Id"), value.get("Name")
    if not all(isinstance(v, str) and v for v in (address, server_id, name)):
        return None
    parts = urlsplit(str(address))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return FoundServer(name=str(name)[:200], url=str(address).rstrip("/"), server_id=str(server_id)[:64])
