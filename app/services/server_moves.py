"""A Plex server found again when it moved (DESIGN §1 Servers): when a configured Plex server stops answering at
its stored URL, plex.tv's list of the account's servers says where the same machine identifier answers now;
Zondarr switches to that address, keeps every cached row (same server id), and tells the admin.

Used by ``Connector`` (so sync and heartbeat both benefit). Coroutines on the event loop; the plex.tv lookup and
probes go through the runner's net pool, the URL write through the db writer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from app.core.models import Server, ServerKind
from app.core.ports import ClientFactory, Clock, Runner, ServerStore

log = logging.getLogger(__name__)
RETRY_AFTER_S = 300.0  # a server that is simply down is looked up on plex.tv at most this often


class ServerMoves:
    def __init__(
        self,
        *,
        servers: ServerStore,
        clients: ClientFactory,
        runner: Runner,
        clock: Clock = time.time,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self._servers = servers
        self._clients = clients
        self._runner = runner
        self._clock = clock
        self.notify = notify  # tells the admin (the notification service); set by the composition root
        self.notices: list[str] = []  # what was said, newest last (also logged)
        self._looked_up: dict[int, float] = {}

    async def relocate(self, server: Server, token: str) -> Server | None:
        """The server with its new URL when plex.tv lists the same machine answering elsewhere (stored, and the
        admin told "Home Plex moved to …"); None when it is not a Plex server, was looked up recently, or has no
        other address that answers. Never raises for plex.tv failures (the original failure stands)."""
        if server.kind is not ServerKind.PLEX or not server.machine_id:
            return None
        now = self._clock()
        if now - self._looked_up.get(server.id, -RETRY_AFTER_S) < RETRY_AFTER_S:
            return None
        self._looked_up[server.id] = now
        try:
            url: str | None = await self._runner.net(self._clients.locate_plex, server.machine_id, token)
        except Exception as exc:  # plex.tv down or refusing: the server's own failure is what the admin sees
            log.info("looking up %s on plex.tv failed: %s", server.name, type(exc).__name__)
            return None
        if not url or url == server.url:
            return None
        moved: Server = await self._runner.db(self._servers.set_url, server.id, url)
        self._looked_up.pop(server.id, None)
        text = (
            f"{server.name} moved to {url}; Zondarr found it again through plex.tv and uses the new address."
        )
        self.notices.append(text)
        log.warning("%s", text)
        if self.notify is not None:
            self.notify(text)
        return moved
