"""Find Jellyfin servers on the network and sign in without typing a password (DESIGN §1 Servers): LAN discovery,
Quick Connect, and an API key for Zondarr made after an administrator's sign-in (it survives password changes and
can be revoked from Zondarr).

Coroutines for the event loop; every network call goes through the runner. Polling waits with the injected
``sleep`` and reads the injected ``clock``; cancelling the awaiting task is the Cancel button.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from app.core.errors import ValidationError, register_secret
from app.core.health import normalize_server_url
from app.core.models import AuthMethod, NewServer, Server, ServerKind
from app.core.ports import Clock, Runner, SecretStore, ServerStore
from app.core.signin import (
    FoundServer,
    JellyfinSignIn,
    QuickConnectCode,
    QuickConnectSignIn,
    SignInExpired,
)
from app.services.connector import stored_secret
from app.services.servers import ServerService

Sleep = Callable[[float], Awaitable[None]]
QUICK_CONNECT_LIFETIME_S = 600.0  # Jellyfin forgets a request after 10 minutes


class JellyfinSignInService:
    def __init__(
        self,
        *,
        client: JellyfinSignIn,
        servers: ServerService,
        server_store: ServerStore,
        secrets: SecretStore,
        runner: Runner,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        poll_interval_s: float = 1.0,
    ) -> None:
        self._client = client
        self._servers = servers
        self._store = server_store
        self._secrets = secrets
        self._runner = runner
        self._clock = clock
        self._sleep = sleep
        self._interval = poll_interval_s

    async def discover(self, seconds: float = 1.5) -> list[FoundServer]:
        """The servers that answered the discovery datagram within ``seconds``, those already added marked with
        their name in Zondarr. Raises ValidationError (the discovery address cannot be used)."""
        found: list[FoundServer] = await self._runner.net(self._client.discover, seconds)
        added = {s.machine_id: s.name for s in await self._runner.read(self._store.list) if s.machine_id}
        return [FoundServer(f.name, f.url, f.server_id, added.get(f.server_id)) for f in found]

    async def start_quick_connect(self, url: str) -> tuple[QuickConnectCode, list[str]]:
        """Starts a Quick Connect request at ``url`` (normalised; the notes say how). The user enters
        ``code.code`` in any signed-in Jellyfin app or approves it in the dashboard. Raises ValidationError
        (bad URL, Quick Connect off), ExternalServiceError."""
        base, notes = normalize_server_url(url, url)
        code: QuickConnectCode = await self._runner.net(self._client.quick_connect_initiate, base)
        register_secret(code.secret)  # the secret signs in whoever holds it once approved
        return code, notes

    async def wait_quick_connect(self, code: QuickConnectCode) -> QuickConnectSignIn:
        """Polls about once a second until the code is approved, then signs in. Raises SignInExpired (10
        minutes by our clock), SignInCodeGone (the server forgot it), ExternalServiceError; CancelledError when
        the awaiting task is cancelled."""
        expires_at = self._clock() + QUICK_CONNECT_LIFETIME_S
        while True:
            if self._clock() >= expires_at:
                raise SignInExpired(
                    "The Quick Connect code was not approved within 10 minutes.",
                    remedy="Start Quick Connect again and enter the code within 10 minutes.",
                )
            approved: bool = await self._runner.net(self._client.quick_connect_approved, code)
            if approved:
                signed: QuickConnectSignIn = await self._runner.net(self._client.quick_connect_sign_in, code)
                register_secret(signed.result.token)
                return signed
            await self._sleep(self._interval)

    async def add_signed_in(
        self, name: str | None, code: QuickConnectCode, signed: QuickConnectSignIn
    ) -> Server:
        """Stores the server with the signed-in account's access token (never a password). Raises as
        ``ServerService.add_authenticated``."""
        new = NewServer(
            name or signed.result.identity.name, ServerKind.JELLYFIN, code.url, AuthMethod.PASSWORD
        )
        return await self._servers.add_authenticated(new, signed.result)

    async def create_api_key(self, name: str) -> None:
        """Creates an API key named Zondarr with the server's stored (administrator) token and stores it in its
        place: access then survives password changes. Raises NotFoundError, ConfigurationError (no stored
        secret), AuthFailed (not an administrator), ExternalServiceError."""
        server = await self._runner.read(self._jellyfin, name)
        token = await stored_secret(self._secrets, self._runner, server)
        key: str = await self._runner.net(self._client.create_api_key, server.url, token)
        register_secret(key)
        await self._runner.net(self._secrets.set, server.secret_ref, key)

    async def revoke_api_key(self, name: str) -> None:
        """Revokes the API key Zondarr stores for ``name`` on the server and forgets it; the server then needs a
        new sign-in. Raises NotFoundError, ConfigurationError, ValidationError (the stored credential is not an
        API key), ExternalServiceError."""
        server = await self._runner.read(self._jellyfin, name)
        key = await stored_secret(self._secrets, self._runner, server)
        revoked: bool = await self._runner.net(self._client.revoke_api_key, server.url, key, key)
        if not revoked:
            raise ValidationError(
                f"{server.name}: Zondarr's credential for this server is not an API key.",
                remedy="Create an API key for Zondarr first (Servers → Edit…).",
            )
        await self._runner.net(self._secrets.delete, server.secret_ref)

    def _jellyfin(self, name: str) -> Server:
        server = self._store.get_by_name(name)
        if server.kind is not ServerKind.JELLYFIN:
            raise ValidationError(
                f"{name} is not a Jellyfin server.", remedy="API keys are for Jellyfin servers."
            )
        return server
