"""The plex.tv account side of adding a Plex server: the PIN sign-in in the browser, the account's servers
(``resources``) and a token-less probe of one of their connections.

The PIN requests are two plain calls made here rather than through plexapi's ``MyPlexPinLogin``: that class polls
on its own thread with real sleeps and hard-coded plex.tv URLs, while Zondarr's services poll through the runner
with an injectable clock and cancel by cancelling the task. Resources come from plexapi's
``MyPlexAccount.resources()``. Every call blocks (net pool) and goes through a Plex session (Zondarr's identity
headers, the ``plex_tv_url`` rewrite). Errors: ``ExternalServiceError`` subclasses naming "plex.tv" (or the
probed server), ``SignInCodeGone`` for a PIN plex.tv no longer knows.
"""

from __future__ import annotations

import dataclasses
import time
from calendar import timegm
from urllib.parse import urlencode
from xml.etree import ElementTree

from plexapi.myplex import MyPlexAccount

from app.core.errors import BadServerResponse
from app.core.settings import Settings
from app.core.signin import PlexConnection, PlexPin, PlexResource, SignInCodeGone
from app.servers.client_identity import PRODUCT, client_identifier
from app.servers.plex import PLEX_TV, plex_session
from app.servers.translate import BadBody, HttpStatus, translating

SERVICE = "plex.tv"
_JSON = {"Accept": "application/json"}


def _epoch(text: object, fallback: float) -> float:
    try:
        return float(timegm(time.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ")))
    except (TypeError, ValueError):
        return fallback


class PlexAccountClient:
    """plex.tv for one Zondarr install (holds only settings; thread-safe: one session per call)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def auth_url(self, code: str) -> str:
        """The browser page where the admin approves ``code`` (no forward URL: Zondarr polls)."""
        query = urlencode(
            {"clientID": client_identifier(self._settings), "code": code, "context[device][product]": PRODUCT}
        )
        return f"{self._settings.plex_auth_url}#?{query}"

    def create_pin(self) -> PlexPin:
        """``POST /api/v2/pins?strong=true``. Raises ExternalServiceError."""
        session = plex_session(self._settings)
        try:
            with translating(SERVICE, "starting the sign-in"):
                response = session.post(f"{PLEX_TV}/api/v2/pins?strong=true", headers=_JSON)
                if response.status_code not in (200, 201):
                    raise HttpStatus(response.status_code, "creating a sign-in code")
                data = response.json()
                pin_id, code = int(data["id"]), str(data["code"])
                if not code:
                    raise BadBody("a PIN without a code")
                fallback = time.time() + float(data.get("expiresIn") or 900)
                return PlexPin(pin_id, code, self.auth_url(code), _epoch(data.get("expiresAt"), fallback))
        finally:
            session.close()

    def check_pin(self, pin_id: int) -> str | None:
        """One poll of ``GET /api/v2/pins/{id}``: the account token once the admin approved, else None.

        Raises SignInCodeGone (404: expired, or another client identifier), ExternalServiceError."""
        session = plex_session(self._settings)
        try:
            with translating(SERVICE, "waiting for the sign-in"):
                response = session.get(f"{PLEX_TV}/api/v2/pins/{pin_id}", headers=_JSON)
            if response.status_code == 404:
                raise SignInCodeGone(
                    "plex.tv no longer knows this sign-in code (it expired, or was made by another Zondarr).",
                    detail=f"GET /api/v2/pins/{pin_id} -> 404",
                )
            with translating(SERVICE, "waiting for the sign-in"):
                if response.status_code != 200:
                    raise HttpStatus(response.status_code, "checking the sign-in code")
                token = response.json().get("authToken")
                return str(token) if token else None
        finally:
            session.close()

    def resources(self, token: str) -> list[PlexResource]:
        """The account's Plex servers (resources providing ``server``) with their connections, as plex.tv lists
        them. Raises AuthFailed (token refused), ExternalServiceError."""
        session = plex_session(self._settings)
        try:
            with translating(SERVICE, "listing the account's servers", (token,)):
                account = MyPlexAccount(token=token, session=session)
                out = []
                for res in account.resources():
                    if "server" not in (res.provides or "").split(","):
                        continue
                    conns = tuple(
                        PlexConnection(
                            uri=str(c.uri).rstrip("/"),
                            protocol=str(c.protocol or "").lower(),
                            local=bool(c.local),
                            relay=bool(c.relay),
                        )
                        for c in res.connections
                        if c.uri
                    )
                    if not res.clientIdentifier:
                        raise BadBody("a server resource without clientIdentifier")
                    out.append(
                        PlexResource(
                            name=str(res.name or res.clientIdentifier),
                            machine_id=str(res.clientIdentifier),
                            token=str(res.accessToken or token),
                            owned=bool(res.owned),
                            https_required=bool(res.httpsRequired),
                            connections=conns,
                        )
                    )
                return out
        finally:
            session.close()

    def machine_id_at(self, uri: str, timeout_s: float) -> str:
        """The ``machineIdentifier`` that ``GET {uri}/identity`` answers (no token: it is public on a real
        server). Raises ServerUnreachable, BadServerResponse (not a Plex server), ExternalServiceError."""
        settings = self._settings
        short = dataclasses.replace(
            settings,
            connect_timeout_s=min(settings.connect_timeout_s, timeout_s),
            request_timeout_s=max(0.5, min(settings.request_timeout_s, timeout_s)),
        )
        session = plex_session(short)
        try:
            with translating(uri, "probing the address"):
                response = session.get(f"{uri}/identity", headers={"Accept": "application/xml"})
                if response.status_code != 200:
                    raise HttpStatus(response.status_code, "/identity")
                root = ElementTree.fromstring(response.content)
                machine_id = root.get("machineIdentifier")
                if not machine_id:
                    raise BadServerResponse(uri, f"{uri} does not answer like a Plex server.")
                return str(machine_id)
        finally:
            session.close()
