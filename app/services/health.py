"""Server health: heartbeats, incidents, uptime and alerts. Qt-free; runs on any asyncio loop.

One heartbeat round = for every active server (enabled and verified) one timed ``identity()`` call on the net
pool, recorded in ``health_checks`` with latency, up/down and the failure class. An incident opens after
``FAILURES_TO_OPEN`` consecutive failures of the same kind ("down", or "auth failed" for 401/403) and closes on
the first success; ``opened_at`` is the time of the first failed check of the streak, so its duration is the
outage as observed. The alert callback (the UI shows a tray message) fires once on open and once on close.

The background task scheduler registers :meth:`HealthService.heartbeat_round` with interval
``Settings.heartbeat_interval_s``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.core.errors import ConfigurationError, ZondarrError, redact
from app.core.health import (
    TITLES,
    FailureClass,
    HealthCheck,
    Incident,
    IncidentKind,
    failure_class_of,
)
from app.core.models import Server
from app.core.ports import (
    ClientFactory,
    Clock,
    HealthStore,
    MediaServerClient,
    Runner,
    SecretStore,
    ServerStore,
)
from app.services.connector import Connector
from app.services.error_recorder import ErrorRecorder
from app.services.server_moves import ServerMoves

log = logging.getLogger(__name__)

FAILURES_TO_OPEN = 2
WINDOWS: dict[str, float] = {"24h": 86400.0, "7d": 7 * 86400.0, "30d": 30 * 86400.0}


@dataclass(frozen=True, slots=True)
class IncidentAlert:
    """What the alert callback receives: ``opened`` True when the incident just opened, False when it closed."""

    server: str
    incident: Incident
    opened: bool

    @property
    def message(self) -> str:
        if self.opened:
            return f"{self.server}: {self.incident.kind} since {time.strftime('%H:%M', time.localtime(self.incident.opened_at))}."
        minutes = (self.incident.duration_s or 0) / 60
        return f"{self.server}: back up after {minutes:.0f} min ({self.incident.kind})."


@dataclass(frozen=True, slots=True)
class ServerHealth:
    """One row of the Health page / ``health --json``."""

    server: Server
    status: str  # up | down | auth failed | unknown | draft | disabled
    last_check: HealthCheck | None
    uptime: dict[str, float | None]
    open_incident: Incident | None

    def to_json(self) -> dict[str, object]:
        last = self.last_check
        return {
            "server": self.server.name,
            "kind": self.server.kind.value,
            "status": self.status,
            "latency_ms": None if last is None or last.latency_ms is None else round(last.latency_ms, 1),
            "checked_at": None if last is None else last.checked_at,
            "failure_class": None if last is None or last.ok else last.status,
            "uptime": {k: None if v is None else round(v, 2) for k, v in self.uptime.items()},
            "open_incident": None if self.open_incident is None else self.open_incident.to_json(),
        }


def incident_kind(status: str) -> IncidentKind:
    return IncidentKind.AUTH_FAILED if status == FailureClass.AUTH_FAILED.value else IncidentKind.DOWN


def _failure_status(err: BaseException) -> str:
    fc = failure_class_of(err)
    if fc is None and isinstance(err, ConfigurationError):
        fc = FailureClass.NO_CREDENTIALS
    return (fc or FailureClass.UNREACHABLE).value


class HealthService:
    """Heartbeats and incident bookkeeping. Coroutines run on the loop thread; reads may run on any thread."""

    def __init__(
        self,
        *,
        servers: ServerStore,
        health: HealthStore,
        secrets: SecretStore,
        clients: ClientFactory,
        runner: Runner,
        clock: Clock = time.time,
        alert: Callable[[IncidentAlert], None] | None = None,
        errors: ErrorRecorder | None = None,
        moves: ServerMoves | None = None,
    ) -> None:
        """``moves``: a Plex server that moved is found again through plex.tv."""
        self._servers = servers
        self._health = health
        self._secrets = secrets
        self._clients = clients
        self._runner = runner
        self._connector = Connector(secrets, clients, runner, moves=moves)
        self._clock = clock
        self._errors = errors
        self._alert = alert
        # Connected clients reused between rounds: (url, token, client). Dropped on any failure.
        self._connected: dict[int, tuple[str, str, MediaServerClient]] = {}
        self._round_lock: asyncio.Lock | None = None

    def set_alert_listener(self, listener: Callable[[IncidentAlert], None] | None) -> None:
        """Makes ``listener`` the one receiver of incident alerts (None: alerts are only logged). It is called on
        the loop thread once when an incident opens and once when it closes; what it raises is logged."""
        self._alert = listener

    def active_servers(self) -> list[Server]:
        return [s for s in self._servers.list() if s.enabled and s.status == "verified"]

    async def heartbeat_round(self) -> list[HealthCheck]:
        """Checks every active server once (concurrently) and updates incidents. Rounds never overlap in one
        process. Raises only CacheError (a server failing is a recorded check, not an exception)."""
        if self._round_lock is None:
            self._round_lock = asyncio.Lock()
        async with self._round_lock:
            servers = await self._runner.read(self.active_servers)
            return list(await asyncio.gather(*(self.check_server(s) for s in servers)))

    async def heartbeat_task(self) -> str:
        """The scheduler's body for the "heartbeat" task: one round, summarised for the Tasks view."""
        checks = await self.heartbeat_round()
        down = sum(1 for c in checks if not c.ok)
        noun = "server" if len(checks) == 1 else "servers"
        return (
            f"{len(checks)} {noun} checked, {down} down" if down else f"{len(checks)} {noun} checked, all up"
        )

    async def check_server(self, server: Server) -> HealthCheck:
        """One timed identity() call for ``server``, recorded, with incident bookkeeping and alerts."""
        started = time.perf_counter()
        latency: float | None = None
        try:
            client = await self._client(server)
            started = time.perf_counter()
            await self._runner.net(client.identity)
            latency = (time.perf_counter() - started) * 1000
            check = await self._runner.db(
                self._health.record_check, server.id, self._clock(), True, latency, "up", ""
            )
            failure: BaseException | None = None
        except ZondarrError as err:
            await self._drop(server.id)
            failure = err
            status = _failure_status(err)
            detail = redact(f"{err.user_message} (ref {err.correlation_id}) {err.detail}".strip())
            check = await self._runner.db(
                self._health.record_check, server.id, self._clock(), False, None, status, detail
            )
        await self._update_incident(server, check, failure)
        return check

    async def _client(self, server: Server) -> MediaServerClient:
        token = await self._connector.secret(server)
        held = self._connected.get(server.id)
        if held is not None and held[0] == server.url and held[1] == token:
            return held[2]
        await self._drop(server.id)
        client = await self._connector.connect_with(server, token)
        self._connected[server.id] = (server.url, token, client)
        return client

    async def _drop(self, server_id: int) -> None:
        held = self._connected.pop(server_id, None)
        if held is not None:
            try:
                await self._runner.net(held[2].close)
            except Exception as exc:  # closing is best effort
                log.debug("closing a health client failed: %s", redact(str(exc)))

    async def _update_incident(
        self, server: Server, check: HealthCheck, failure: BaseException | None
    ) -> None:
        current = await self._runner.read(self._health.open_incident, server.id)
        if check.ok:
            if current is not None:
                closed = await self._runner.db(self._health.close, current.id, check.checked_at)
                self._fire(IncidentAlert(server.name, closed, opened=False))
            return
        kind = incident_kind(check.status)
        if current is not None and current.kind == kind.value:
            return
        streak = await self._runner.read(self._health.last_checks, server.id, FAILURES_TO_OPEN)
        if len(streak) < FAILURES_TO_OPEN or any(c.ok or incident_kind(c.status) is not kind for c in streak):
            return
        if current is not None:  # the failure changed kind (down -> auth failed): one incident per kind
            closed = await self._runner.db(self._health.close, current.id, check.checked_at)
            self._fire(IncidentAlert(server.name, closed, opened=False))
        title = next((TITLES[fc] for fc in FailureClass if fc.value == check.status), check.status)
        opened = await self._runner.db(
            self._health.open,
            server.id,
            kind.value,
            streak[-1].checked_at,
            f"{title}. {check.detail}".strip(),
        )
        if self._errors is not None and failure is not None:
            await self._errors.record(failure, server.name)
        self._fire(IncidentAlert(server.name, opened, opened=True))

    def _fire(self, alert: IncidentAlert) -> None:
        log.info("health alert: %s", alert.message)
        if self._alert is not None:
            try:
                self._alert(alert)
            except Exception:  # a broken notifier must not stop heartbeats
                log.exception("the health alert callback failed")

    # -- read side (any thread) -------------------------------------------------------------------------------

    def uptime(self, server_id: int, window_s: float) -> float | None:
        """Percent of successful checks in the last ``window_s`` seconds; None when there were no checks."""
        ok, total = self._health.uptime_counts(server_id, self._clock() - window_s)
        return None if total == 0 else 100.0 * ok / total

    def latency_series(self, server_id: int, window_s: float = 86400.0) -> list[tuple[float, float | None]]:
        """(checked_at, latency ms or None for a failed check), oldest first: the sparkline's points."""
        return [
            (c.checked_at, c.latency_ms) for c in self._health.checks(server_id, self._clock() - window_s)
        ]

    def incidents(
        self, server_id: int | None = None, *, open_only: bool = False, limit: int = 100
    ) -> list[Incident]:
        return self._health.incidents(server_id, open_only=open_only, limit=limit)

    def summary(self) -> list[ServerHealth]:
        out = []
        for server in self._servers.list():
            last = self._health.last_checks(server.id, 1)
            check = last[0] if last else None
            incident = self._health.open_incident(server.id)
            if server.status != "verified":
                status = "draft"
            elif not server.enabled:
                status = "disabled"
            elif check is None:
                status = "unknown"
            elif check.ok:
                status = "up"
            else:
                status = incident_kind(check.status).value
            uptime = {name: self.uptime(server.id, span) for name, span in WINDOWS.items()}
            out.append(ServerHealth(server, status, check, uptime, incident))
        return out

    async def acknowledge(self, incident_id: int, note: str) -> Incident:
        """Marks an incident seen, with the admin's note. Raises NotFoundError."""
        return await self._runner.db(self._health.acknowledge, incident_id, note.strip(), self._clock())

    async def close(self) -> None:
        """Closes the clients kept between rounds."""
        for server_id in list(self._connected):
            await self._drop(server_id)
