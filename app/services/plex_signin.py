"""Sign in with Plex and pick a server from the account (DESIGN §1 Servers; SERVER-PROTOCOLS.md "Signing in and
finding servers"): the PIN flow, the account's servers, and the choice of the connection to store.

Coroutines for the event loop; every plex.tv or server call goes through the runner. Polling waits with the
injected ``sleep`` and reads the injected ``clock``, so tests never wait in real time. Cancelling the task that
awaits :meth:`PlexSignInService.wait_for_token` is the Cancel button: nothing is stored before a server is added.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from app.core.errors import ExternalServiceError, NotFoundError, ServerUnreachable, register_secret
from app.core.ports import Clock, Runner
from app.core.signin import (
    PIN_POLL_INTERVAL_S,
    ChosenConnection,
    PlexAccount,
    PlexConnection,
    PlexPin,
    PlexResource,
    SignInExpired,
    connection_order,
    explain_choice,
    servers_first_owned,
)

Sleep = Callable[[float], Awaitable[None]]
PROBE_TIMEOUT_S = 4.0


class PlexSignInService:
    def __init__(
        self,
        *,
        account: PlexAccount,
        runner: Runner,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        poll_interval_s: float = PIN_POLL_INTERVAL_S,
    ) -> None:
        self._account = account
        self._runner = runner
        self._clock = clock
        self._sleep = sleep
        self._interval = poll_interval_s

    async def start(self) -> PlexPin:
        """Creates a PIN on plex.tv; the admin opens ``pin.auth_url``. Raises ExternalServiceError."""
        pin: PlexPin = await self._runner.net(self._account.create_pin)
        return pin

    async def wait_for_token(self, pin: PlexPin) -> str:
        """Polls plex.tv about once a second until the admin approved the PIN; returns the account token.

        Raises SignInExpired (the PIN's time ran out by our clock), SignInCodeGone (plex.tv answered 404),
        ExternalServiceError; CancelledError when the awaiting task is cancelled."""
        while True:
            if self._clock() >= pin.expires_at:
                raise SignInExpired()
            token: str | None = await self._runner.net(self._account.check_pin, pin.id)
            if token:
                register_secret(token)  # redacted wherever it could appear (logs, error details)
                return token
            await self._sleep(self._interval)

    async def servers(self, token: str) -> list[PlexResource]:
        """The account's servers, owned first. Raises ExternalServiceError (AuthFailed for a refused token)."""
        found: list[PlexResource] = await self._runner.net(self._account.resources, token)
        for resource in found:
            register_secret(resource.token)
        return servers_first_owned(found)

    async def choose_connection(self, resource: PlexResource) -> ChosenConnection:
        """Probes every usable connection in parallel and keeps the best (local → remote → relay, https first)
        that answers as this machine. Raises ServerUnreachable naming what was tried when none does."""
        order = connection_order(resource)
        if not order:
            raise ServerUnreachable(
                resource.name,
                f"{resource.name}: plex.tv lists no address Zondarr may use for this server.",
                remedy="Turn on Remote Access in the server's settings, or add it with its address and token.",
            )
        results = await asyncio.gather(
            *(self._runner.net(self._account.machine_id_at, c.uri, PROBE_TIMEOUT_S) for c in order),
            return_exceptions=True,
        )
        for conn, result in zip(order, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result  # cancellation and the like
            if result == resource.machine_id:
                return ChosenConnection(resource, conn, explain_choice(order, conn))
        tried = ", ".join(c.uri for c in order)
        raise ServerUnreachable(
            resource.name,
            f"{resource.name}: none of its addresses answered as this server.",
            remedy="Check that the server is running; if plex.tv is out of date, add it with its address and token.",
            detail=f"tried {tried}: " + "; ".join(_why(c, r) for c, r in zip(order, results, strict=True)),
        )

    async def find(self, token: str, pick: str | None, added: frozenset[str] = frozenset()) -> PlexResource:
        """The account's server named ``pick`` (name or machine id, case-insensitive), or, when ``pick`` is None,
        its first server (owned first) whose machine id is not in ``added`` (else the first). Raises
        NotFoundError listing the servers, ExternalServiceError."""
        found = await self.servers(token)
        if pick:
            wanted = pick.strip().lower()
            match = [r for r in found if wanted in (r.name.lower(), r.machine_id.lower())]
            if match:
                return match[0]
        elif found:
            return next((r for r in found if r.machine_id not in added), found[0])
        names = ", ".join(r.name for r in found) or "none"
        raise NotFoundError(
            f"The Plex account has no server {pick!r}." if pick else "The Plex account has no server.",
            remedy=f"Pick one of the account's servers: {names}.",
        )

    async def locate(self, token: str, machine_id: str) -> ChosenConnection | None:
        """Where the server ``machine_id`` answers now, from plex.tv's list (a server that moved); None when the
        account does not list it or none of its addresses answers."""
        found = await self.servers(token)
        resource = next((r for r in found if r.machine_id == machine_id), None)
        if resource is None:
            return None
        try:
            return await self.choose_connection(resource)
        except ServerUnreachable:
            return None


def _why(conn: PlexConnection, result: object) -> str:
    if isinstance(result, ExternalServiceError):
        return f"{conn.uri}: {result.failure_class or type(result).__name__}"
    if isinstance(result, BaseException):
        return f"{conn.uri}: {type(result).__name__}"
    return f"{conn.uri}: another server ({result})"
