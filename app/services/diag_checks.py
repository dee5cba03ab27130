"""The per-server scenarios of a diagnostics run. Each returns ``DiagnosticResult``s with a
duration and redacted evidence; none raises for a server failure (that is a ``fail`` result).

Coroutines for the event loop thread; every network call goes through ``Runner.net``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from app.core.errors import ConfigurationError, ZondarrError, redact
from app.core.health import TITLES, DiagnosticResult, FailureClass, Outcome, ProbeResult, failure_class_of
from app.core.models import Capability, Server, ServerIdentity
from app.core.ports import ClientFactory, MediaServerClient, Runner, SecretStore
from app.services.connector import Connector

MAX_CLOCK_SKEW_S = 120.0
RESPONSE_BOUND_MS = 2000.0
PAGING_PAGE_SIZE = 25
PAGING_MAX_PAGES = 4
MANAGEMENT = frozenset(
    {Capability.CREATE_USER, Capability.DELETE_USER, Capability.DISABLE_USER, Capability.LIBRARY_ACCESS}
)


def why(err: BaseException) -> str:
    """Plain words for a failed step: message, failure class title, remedy and reference."""
    if not isinstance(err, ZondarrError):
        return redact(f"unexpected {type(err).__name__}")
    fc = failure_class_of(err)
    head = f"{err.user_message}" + (f" [{fc.value}: {TITLES[fc]}]" if fc else "")
    return redact(f"{head} {err.remedy} (ref {err.correlation_id})".strip())


@dataclass
class ServerScenarios:
    """Runs the scenarios of one server; collects results in order."""

    server: Server
    runner: Runner
    clients: ClientFactory
    secrets: SecretStore
    clock: Callable[[], float]
    results: list[DiagnosticResult] = field(default_factory=list)
    token: str | None = None

    def add(self, check: str, outcome: Outcome, message: str, started: float, evidence: str = "") -> None:
        self.results.append(
            DiagnosticResult(
                check,
                outcome,
                redact(message, self.token),
                (time.perf_counter() - started) * 1000,
                redact(evidence, self.token),
                self.server.id,
                self.server.name,
            )
        )

    def skip(self, check: str, why_text: str) -> None:
        self.add(check, Outcome.SKIP, why_text, time.perf_counter())

    async def timed(self, fn: Callable[..., object], *args: object) -> tuple[object, float]:
        started = time.perf_counter()
        result = await self.runner.net(fn, *args)
        return result, (time.perf_counter() - started) * 1000

    # -- network, no credentials --------------------------------------------------------------------------

    def probe_checks(self, probe: ProbeResult, probed_at: float, started: float) -> None:
        if probe.status is not None:
            self.add("reachable", Outcome.PASS, f"answered HTTP {probe.status}", started, probe.summary())
        else:
            fc = probe.failure_class or FailureClass.UNREACHABLE
            self.add("reachable", Outcome.FAIL, f"{TITLES[fc]} [{fc.value}]", started, probe.summary())
        if not probe.tls:
            self.skip("TLS valid", "the server uses http://, not https://")
        elif probe.status is not None:
            self.add("TLS valid", Outcome.PASS, "the certificate was verified", started, probe.summary())
        elif probe.failure_class is FailureClass.TLS_ERROR:
            self.add("TLS valid", Outcome.FAIL, TITLES[FailureClass.TLS_ERROR], started, probe.summary())
        else:
            self.skip("TLS valid", "the server could not be reached")
        self._clock_skew(probe, probed_at)

    def _clock_skew(self, probe: ProbeResult, probed_at: float) -> None:
        started = time.perf_counter()
        if not probe.date_header:
            self.skip("clock skew", "the server sent no Date header")
            return
        try:
            server_time = parsedate_to_datetime(probe.date_header).timestamp()
        except (TypeError, ValueError):
            self.add(
                "clock skew", Outcome.FAIL, "the Date header is not a valid date", started, probe.date_header
            )
            return
        skew = probed_at - server_time
        evidence = f"Date: {probe.date_header}; local clock {probed_at:.0f}; skew {skew:+.1f} s"
        if abs(skew) <= MAX_CLOCK_SKEW_S:
            self.add("clock skew", Outcome.PASS, f"{skew:+.0f} s", started, evidence)
        else:
            self.add(
                "clock skew",
                Outcome.FAIL,
                f"the clocks differ by {skew:+.0f} s (more than {MAX_CLOCK_SKEW_S:.0f} s): set both to network time",
                started,
                evidence,
            )

    # -- authenticated --------------------------------------------------------------------------------------

    async def connect(self) -> MediaServerClient | None:
        started = time.perf_counter()
        connector = Connector(self.secrets, self.clients, self.runner)
        try:
            self.token = await connector.secret(self.server)
        except ConfigurationError:
            self.add("auth valid", Outcome.FAIL, TITLES[FailureClass.NO_CREDENTIALS], started)
            return None
        try:
            client = await connector.connect_with(self.server, self.token)
        except ZondarrError as err:
            self.add("auth valid", Outcome.FAIL, why(err), started, err.detail)
            return None
        return client

    async def identity_checks(self, client: MediaServerClient) -> ServerIdentity | None:
        started = time.perf_counter()
        try:
            identity, ms = await self.timed(client.identity)
        except ZondarrError as err:
            self.add("auth valid", Outcome.FAIL, why(err), started, err.detail)
            return None
        assert isinstance(identity, ServerIdentity)
        evidence = f"identity: {identity.name}, {identity.kind.value} {identity.version}, {ms:.0f} ms"
        self.add("auth valid", Outcome.PASS, "the stored credentials were accepted", started, evidence)
        outcome = Outcome.PASS if ms <= RESPONSE_BOUND_MS else Outcome.FAIL
        self.add(
            "response time",
            outcome,
            f"{ms:.0f} ms (bound {RESPONSE_BOUND_MS:.0f} ms)",
            started,
            evidence,
        )
        if not self.server.machine_id:
            self.skip("identity stable", "no identity was recorded at the last sync or test")
        elif identity.machine_id == self.server.machine_id:
            self.add(
                "identity stable", Outcome.PASS, "same installation as at the last sync", started, evidence
            )
        else:
            self.add(
                "identity stable",
                Outcome.FAIL,
                "the server answers with another identity than at the last sync (reinstalled or replaced); "
                "the next sync clears and refetches its cached data",
                started,
                f"recorded {self.server.machine_id}, now {identity.machine_id}",
            )
        return identity

    async def library_checks(self, client: MediaServerClient) -> None:
        started = time.perf_counter()
        try:
            libraries = await self.runner.net(client.music_libraries)
        except ZondarrError as err:
            self.add("library readable", Outcome.FAIL, why(err), started, err.detail)
            return
        if not libraries:
            self.skip("library readable", "the server has no music library")
            self.skip("paging consistent", "the server has no music library")
            return
        for lib in libraries:
            await self._library(client, lib.key, lib.title)

    async def _library(self, client: MediaServerClient, key: str, title: str) -> None:
        started = time.perf_counter()
        try:
            total = await self.runner.net(client.count_tracks, key)
            first = await self.runner.net(client.fetch_tracks, key, 0, 1)
        except ZondarrError as err:
            self.add(f"library readable: {title}", Outcome.FAIL, why(err), started, err.detail)
            self.skip(f"paging consistent: {title}", "the library could not be read")
            return
        self.add(
            f"library readable: {title}",
            Outcome.PASS,
            f"{total:,} tracks",
            started,
            f"count {total}; first page {len(first.items)} item(s), total {first.total}",
        )
        await self._paging(client, key, title, int(total))

    async def _paging(self, client: MediaServerClient, key: str, title: str, total: int) -> None:
        """Reads the first pages with a small page size: every page reports the same total, full pages are full,
        no id repeats, and for a small library the pages add up to the total."""
        started = time.perf_counter()
        size = PAGING_PAGE_SIZE
        pages = min(PAGING_MAX_PAGES, max(1, -(-total // size)))
        seen: set[str] = set()
        problems: list[str] = []
        got = 0
        try:
            for n in range(pages):
                page = await self.runner.net(client.fetch_tracks, key, n * size, size)
                count = len(page.items) + page.failed
                got += count
                if page.total != total:
                    problems.append(f"page {n} says total {page.total}, count said {total}")
                expected = min(size, max(0, total - n * size))
                if count != expected:
                    problems.append(f"page {n} has {count} items, expected {expected}")
                ids = {t.remote_id for t in page.items}
                if seen & ids:
                    problems.append(f"page {n} repeats {len(seen & ids)} id(s)")
                seen |= ids
        except ZondarrError as err:
            self.add(f"paging consistent: {title}", Outcome.FAIL, why(err), started, err.detail)
            return
        covered = pages * size >= total
        evidence = f"{pages} page(s) of {size}: {got:,} items; total {total:,}" + (
            " (whole library)" if covered else ""
        )
        if covered and got != total and not problems:
            problems.append(f"the pages hold {got} items, the total is {total}")
        if problems:
            self.add(f"paging consistent: {title}", Outcome.FAIL, "; ".join(problems), started, evidence)
        else:
            self.add(
                f"paging consistent: {title}", Outcome.PASS, "pages agree with the total", started, evidence
            )

    async def user_checks(self, client: MediaServerClient) -> None:
        started = time.perf_counter()
        try:
            users = await self.runner.net(client.users)
        except ZondarrError as err:
            self.add("user listing", Outcome.FAIL, why(err), started, err.detail)
            if failure_class_of(err) is FailureClass.AUTH_FAILED:
                self.add(
                    "admin permissions",
                    Outcome.FAIL,
                    "the credentials may not list users: use an admin's token or API key",
                    started,
                    err.detail,
                )
            else:
                self.skip("admin permissions", "the user listing failed")
            return
        self.add(
            "user listing", Outcome.PASS, f"{len(users)} accounts", started, f"{len(users)} accounts listed"
        )
        if not (client.capabilities & MANAGEMENT):
            self.skip("admin permissions", "Zondarr cannot manage users on this server kind yet")
            return
        self.add(
            "admin permissions",
            Outcome.PASS,
            "the credentials may list and manage users",
            started,
            "capabilities: " + ", ".join(sorted(c.value for c in client.capabilities)),
        )


async def run_server_scenarios(
    scenarios: ServerScenarios, probe: Callable[[], Awaitable[ProbeResult]]
) -> list[DiagnosticResult]:
    """All scenarios of one server, in order. Client-based ones are skipped when no connection could be made."""
    started = time.perf_counter()
    probed_at = scenarios.clock()
    result = await probe()
    scenarios.probe_checks(result, probed_at, started)
    client = await scenarios.connect()
    dependent = ("response time", "identity stable", "library readable", "paging consistent", "user listing")
    if client is None:
        for name in (*dependent, "admin permissions"):
            scenarios.skip(name, "needs a working authenticated connection")
        return scenarios.results
    try:
        identity = await scenarios.identity_checks(client)
        if identity is None:
            for name in (*dependent[1:], "admin permissions"):
                scenarios.skip(name, "needs a working authenticated connection")
            scenarios.skip("response time", "needs a working authenticated connection")
        else:
            await scenarios.library_checks(client)
            await scenarios.user_checks(client)
    finally:
        await scenarios.runner.net(client.close)
    return scenarios.results
