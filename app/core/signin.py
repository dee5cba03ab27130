"""Vocabulary of signing in and finding servers (SERVER-PROTOCOLS.md "Signing in and finding servers"): plex.tv
PINs and resources, Jellyfin Quick Connect and LAN discovery, and the pure rule that orders a Plex server's
connections. Stdlib only; any thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.core.errors import ZondarrError
from app.core.models import ConnectResult

PIN_POLL_INTERVAL_S = 1.0


class SignInCodeGone(ZondarrError):
    """plex.tv no longer knows the PIN (expired, or polled with another client identifier: plex.tv answers 404
    to both), or Jellyfin no longer knows the Quick Connect secret."""

    default_message = "The sign-in code expired or is no longer known."
    default_remedy = "Start the sign-in again."


class SignInExpired(ZondarrError):
    default_message = "The sign-in was not approved in time, so the code expired."
    default_remedy = "Start the sign-in again and approve it within 15 minutes."


@dataclass(frozen=True, slots=True)
class PlexPin:
    """A plex.tv PIN waiting for the admin to sign in at ``auth_url`` (a browser page)."""

    id: int
    code: str
    auth_url: str
    expires_at: float  # epoch seconds


@dataclass(frozen=True, slots=True)
class PlexConnection:
    uri: str
    protocol: str  # http | https
    local: bool
    relay: bool

    @property
    def where(self) -> str:
        """ "local", "remote" or "relay" (how the admin reads it)."""
        return "relay" if self.relay else "local" if self.local else "remote"

    @property
    def label(self) -> str:
        return f"{self.where} {self.protocol} address"


@dataclass(frozen=True, slots=True)
class PlexResource:
    """A Plex server of the account (plex.tv ``resources`` with ``provides`` containing ``server``)."""

    name: str
    machine_id: str
    token: str  # the server-scoped access token (for a shared server it is not the account token)
    owned: bool
    https_required: bool
    connections: tuple[PlexConnection, ...]


@dataclass(frozen=True, slots=True)
class ChosenConnection:
    resource: PlexResource
    connection: PlexConnection
    why: str  # plain words: "local address not reachable; using the remote https address"


@dataclass(frozen=True, slots=True)
class FoundServer:
    """A Jellyfin server that answered the LAN discovery datagram. ``added_as`` names the configured server with
    the same id (None when it is not added yet)."""

    name: str
    url: str
    server_id: str
    added_as: str | None = None


@dataclass(frozen=True, slots=True)
class QuickConnectCode:
    """A Quick Connect request waiting for approval: ``code`` (6 digits) is what the user enters."""

    url: str
    code: str
    secret: str


@dataclass(frozen=True, slots=True)
class QuickConnectSignIn:
    """The outcome of a Quick Connect sign-in: what to store, and whether the account is an administrator."""

    result: ConnectResult
    username: str
    is_admin: bool


def not_admin_note(username: str, server: str) -> str:
    """What the admin is told when the signed-in Jellyfin account is not an administrator."""
    return (
        f"{username or 'This account'} is not an administrator on {server}: Zondarr can read its tracks, but cannot "
        "list the server's libraries, manage users or create an API key. Sign in with an administrator account "
        "for those."
    )


def servers_first_owned(resources: list[PlexResource]) -> list[PlexResource]:
    """Owned servers first, then shared ones; by name within each."""
    return sorted(resources, key=lambda r: (not r.owned, r.name.lower(), r.machine_id))


def connection_order(resource: PlexResource) -> list[PlexConnection]:
    """The order to try a server's connections in (plexapi's ``preferred_connections`` rule): local, then
    remote, then relay; https before http within each; no http at all when the server requires https."""
    rank = {"local": 0, "remote": 1, "relay": 2}
    usable = [
        c
        for c in resource.connections
        if c.protocol in ("http", "https") and not (resource.https_required and c.protocol == "http")
    ]
    return sorted(usable, key=lambda c: (rank[c.where], c.protocol != "https"))


def explain_choice(tried: list[PlexConnection], chosen: PlexConnection) -> str:
    """Why ``chosen`` was kept, naming the better connections that did not answer."""
    failed = tried[: tried.index(chosen)] if chosen in tried else []
    if not failed:
        return f"using the {chosen.label}"
    wheres = list(dict.fromkeys(c.where for c in failed))
    plural = "es" if len(failed) > 1 else ""
    return f"{' and '.join(wheres)} address{plural} not reachable; using the {chosen.label}"


class PlexAccount(Protocol):
    """plex.tv for sign-in and server discovery (``app.servers.plex_account``). Every method BLOCKS: call it
    through ``Runner.net``. Raises ExternalServiceError subclasses, SignInCodeGone."""

    def create_pin(self) -> PlexPin: ...

    def check_pin(self, pin_id: int) -> str | None:
        """The account token once approved, else None."""
        ...

    def resources(self, token: str) -> list[PlexResource]: ...

    def machine_id_at(self, uri: str, timeout_s: float) -> str:
        """The machine identifier answering at ``uri`` (no token needed)."""
        ...


class JellyfinSignIn(Protocol):
    """Jellyfin discovery, Quick Connect and API keys (``app.servers.jellyfin_signin``). Every method BLOCKS:
    call it through ``Runner.net``. Raises ExternalServiceError subclasses, SignInCodeGone, ValidationError."""

    def discover(self, seconds: float = 1.5) -> list[FoundServer]: ...

    def quick_connect_initiate(self, url: str) -> QuickConnectCode: ...

    def quick_connect_approved(self, code: QuickConnectCode) -> bool: ...

    def quick_connect_sign_in(self, code: QuickConnectCode) -> QuickConnectSignIn: ...

    def create_api_key(self, url: str, token: str) -> str: ...

    def revoke_api_key(self, url: str, token: str, key: str) -> bool: ...
