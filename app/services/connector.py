"""The one way services reach a configured server: read its secret, connect, and list its users the way Zondarr
manages them (``user_policy``). Coroutines run on the event loop; every blocking call goes through the runner.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.core.errors import ConfigurationError, ServerUnreachable, no_credentials
from app.core.models import Credentials, RemoteUser, Server
from app.core.ports import (
    ClientFactory,
    MediaServerClient,
    Runner,
    SecretStore,
    ServerConnection,
    UserListing,
)
from app.services.server_moves import ServerMoves
from app.services.user_policy import UserPolicy

R = TypeVar("R")
# How a blocking call is made: ``runner.net`` by default; the sync passes its retrying call.
Call = Callable[..., Awaitable[R]]


async def stored_secret(secrets: SecretStore, runner: Runner, server: Server) -> str:
    """The stored token, API key or access token of ``server`` (a keychain call may block: the net pool).
    Raises ConfigurationError (``no_credentials``) when none is stored."""
    secret = await runner.net(secrets.get, server.secret_ref)
    if not secret:
        raise no_credentials(server.name)
    return secret


class Connector:
    """Connects to configured servers with their stored secret."""

    def __init__(
        self,
        secrets: SecretStore,
        clients: ClientFactory,
        runner: Runner,
        policy: UserPolicy | None = None,
        moves: ServerMoves | None = None,
    ) -> None:
        """``moves``: finds a Plex server that stopped answering at its URL again through plex.tv."""
        self._secrets = secrets
        self._clients = clients
        self.runner = runner
        self.policy = policy
        self.moves = moves

    async def secret(self, server: Server) -> str:
        """The stored token, API key or access token of ``server`` (``stored_secret``)."""
        return await stored_secret(self._secrets, self.runner, server)

    async def connect(
        self, server: Server, *, enabled_only: bool = True, call: Call[MediaServerClient] | None = None
    ) -> MediaServerClient:
        """Reads the secret and connects. ``enabled_only``: refuse a server disabled in Zondarr. ``call`` makes
        the blocking connect (default ``runner.net``). Raises ConfigurationError (no secret stored, server
        disabled) or ExternalServiceError."""
        if enabled_only and not server.enabled:
            raise ConfigurationError(
                f"{server.name}: the server is disabled in Zondarr.", remedy="Enable it on the Servers page."
            )
        return await self.connect_with(server, await self.secret(server), call=call)

    async def connect_with(
        self, server: Server, secret: str, *, call: Call[MediaServerClient] | None = None
    ) -> MediaServerClient:
        """Connects with a secret read by :meth:`secret` (for callers that keep it, e.g. to reuse a client). A
        Plex server unreachable at its URL is looked up on plex.tv and, when it moved, connected at (and stored
        with) its new address."""
        make = call or self.runner.net
        try:
            return await make(self._clients.connect, server, Credentials(token=secret))
        except ServerUnreachable:
            moved = None if self.moves is None else await self.moves.relocate(server, secret)
            if moved is None:
                raise
        return await make(self._clients.connect, moved, Credentials(token=secret))

    async def close(self, client: ServerConnection) -> None:
        await self.runner.net(client.close)

    async def users(
        self, client: UserListing, server: Server, *, call: Call[list[RemoteUser]] | None = None
    ) -> list[RemoteUser]:
        """The server's accounts as Zondarr manages them (``UserPolicy.apply``). Raises ExternalServiceError."""
        make = call or self.runner.net
        listed: list[RemoteUser] = await make(client.users)
        return listed if self.policy is None else await self.policy.apply(server.id, listed)
