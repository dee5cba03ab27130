"""What the people services share: connecting to a configured server, and per-server outcomes.

Coroutines run on the event loop; blocking calls go through the runner.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import (
    ConfigurationError,
    ExternalServiceError,
    ValidationError,
    ZondarrError,
    no_credentials,
)
from app.core.models import Capability, Credentials, Server
from app.core.ports import ClientFactory, MediaServerClient, Runner, SecretStore, ServerStore


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one action on one account (or one pre-flight check) on one server."""

    server: str
    ok: bool
    message: str
    user: str = ""
    reason: str | None = None  # a RefusalReason value, or "failed"
    remote_id: str | None = None
    error: dict[str, str] | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "server": self.server,
            "user": self.user,
            "ok": self.ok,
            "message": self.message,
            "reason": self.reason,
            "id": self.remote_id,
            "error": self.error,
        }


def describe(err: ZondarrError) -> str:
    return err.user_message + (f" {err.remedy}" if err.remedy else "")


def reason_of(err: ZondarrError) -> str:
    """A short reason word for an error raised while acting on a server."""
    if isinstance(err, ExternalServiceError):
        return "server unavailable"
    if isinstance(err, ValidationError) and "taken" in err.user_message:
        return "username taken"
    if isinstance(err, ValidationError) and "cannot" in err.user_message:
        return "not supported"
    return "failed"


class Connector:
    """Connects to configured servers with their stored secret."""

    def __init__(
        self, servers: ServerStore, secrets: SecretStore, clients: ClientFactory, runner: Runner
    ) -> None:
        self.servers = servers
        self._secrets = secrets
        self._clients = clients
        self.runner = runner

    async def connect(self, server: Server) -> MediaServerClient:
        """Raises ConfigurationError (no secret stored, server disabled) or ExternalServiceError."""
        if not server.enabled:
            raise ConfigurationError(
                f"{server.name}: the server is disabled in Zondarr.", remedy="Enable it on the Servers page."
            )
        secret = await self.runner.net(self._secrets.get, server.secret_ref)
        if not secret:
            raise no_credentials(server.name)
        return await self.runner.net(self._clients.connect, server, Credentials(token=secret))

    async def close(self, client: MediaServerClient) -> None:
        await self.runner.net(client.close)


def require(client: MediaServerClient, server: Server, capability: Capability, what: str) -> None:
    """Raises ValidationError (with the reason) when the server kind cannot do ``what``."""
    if capability not in client.capabilities:
        raise ValidationError(
            f"{server.name}: a {server.kind.value} server cannot {what} from Zondarr.",
            remedy="",
            detail=f"capability missing: {capability.value}",
        )
