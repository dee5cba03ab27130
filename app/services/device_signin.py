"""Signing in someone's TV or phone without a password: the person starts Quick Connect in their Jellyfin app and
reads the 6-digit code to the admin, who approves it here as their account (``POST /QuickConnect/Authorize`` with
the server's administrator credentials). Nothing secret is typed, shown or sent by Zondarr.

Qt-free coroutines for the event loop; store reads and network calls go through the runner. Failures are
outcomes (what happened, what to do), never raised, except for an unknown server.
"""

from __future__ import annotations

import logging

from app.core.errors import ValidationError, ZondarrError
from app.core.models import Capability
from app.core.ports import AccountStore, DeviceSignIn, ServerStore
from app.services.connector import Connector
from app.services.people_common import Outcome, describe, reason_of

log = logging.getLogger(__name__)


class DeviceSignInService:
    def __init__(self, *, connector: Connector, servers: ServerStore, accounts: AccountStore) -> None:
        self._connector = connector
        self._runner = connector.runner
        self._servers = servers
        self._accounts = accounts

    async def quick_connect_enabled(self, server_name: str) -> bool:
        """Whether ``server_name`` has Quick Connect turned on. Raises NotFoundError, ValidationError (the kind
        cannot sign in devices) or ExternalServiceError."""
        server = await self._runner.read(self._servers.get_by_name, server_name)
        client = await self._connector.connect(server)
        try:
            if not isinstance(client, DeviceSignIn) or Capability.SIGN_IN_DEVICE not in client.capabilities:
                raise _not_supported(server.name, server.kind.value)
            return await self._runner.net(client.quick_connect_enabled)
        finally:
            await self._connector.close(client)

    async def authorize(self, server_name: str, user: str, code: str) -> Outcome:
        """Signs in the device showing ``code`` as ``user`` (username or remote id) on ``server_name``.
        Raises NotFoundError for an unknown server; everything else is the outcome."""
        server = await self._runner.read(self._servers.get_by_name, server_name)
        account = await self._runner.read(self._accounts.find, server.id, user)
        if account is None:
            return Outcome(server.name, False, f"{server.name}: there is no user {user}.", user, "not found")
        name, rid = account.username, account.remote_id
        try:
            client = await self._connector.connect(server)
        except ZondarrError as err:
            return Outcome(server.name, False, describe(err), name, reason_of(err), rid, err.to_dict())
        try:
            if not isinstance(client, DeviceSignIn) or Capability.SIGN_IN_DEVICE not in client.capabilities:
                raise _not_supported(server.name, server.kind.value)
            await self._runner.net(client.authorize_device, rid, code)
        except ZondarrError as err:
            log.warning("signing in a device for %s on %s failed: %s", name, server.name, err.detail)
            return Outcome(server.name, False, describe(err), name, reason_of(err), rid, err.to_dict())
        finally:
            await self._connector.close(client)
        return Outcome(
            server.name, True, f"{server.name}: the device is signed in as {name}.", name, None, rid
        )


def _not_supported(server: str, kind: str) -> ValidationError:
    return ValidationError(
        f"{server}: a {kind} server cannot sign in devices by code.",
        remedy="On Plex, the person signs in with their own plex.tv account.",
        detail=f"capability missing: {Capability.SIGN_IN_DEVICE.value}",
    )
